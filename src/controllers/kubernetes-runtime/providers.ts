/**
 * Infrastructure providers: who makes a runtime's cluster exist. `kind` clusters (and any cluster
 * registered with its connection details) already exist; providers that provision clusters (EKS)
 * plug in here and fill in the runtime's connection details when the cluster is up.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';

export type RuntimeDefinition = ObjectOf<'KubernetesRuntimeDefinition'>;

export interface RuntimeProvider {
  /** Makes what the definition describes exist (node pools, accounts…); undefined when there is nothing to do. */
  definition?(context: ReconcileContext<RuntimeDefinition>): Promise<ReconcileOutcome>;
}

export const providers: Readonly<Record<string, RuntimeProvider>> = {
  kind: {},
  eks: {
    async definition() {
      throw new TerminalError('EKS runtimes are provisioned by the AWS controller, which this control plane does not have yet; register an existing cluster with InfraProvider kind and its connection details');
    },
  },
};
