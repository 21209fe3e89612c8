/**
 * Infrastructure providers: who makes a runtime's cluster exist. `kind` clusters (and any cluster
 * registered with its connection details) already exist, but for local ones a control plane that
 * can start simulated clusters makes (local-provider.ts); EKS clusters are made by the AWS
 * controller, asked for here (an AwsEksKubernetesRuntimeDefinition and Instance beside the
 * runtime's own), which fills in the runtime's connection details once the cluster is up.
 */
import type { ApiClient } from '../../client/api-client.ts';
import { SharedLoads } from '../../concurrency.ts';
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import type { RuntimeInstance } from '../shared/runtime-cluster.ts';
import { eksProvider } from './eks-provider.ts';

export type RuntimeDefinition = ObjectOf<'KubernetesRuntimeDefinition'>;

export interface RuntimeProvider {
  /** Makes what the definition describes exist (the provider's own settings); undefined when there is nothing to do. */
  definition?(context: ReconcileContext<RuntimeDefinition>): Promise<ReconcileOutcome>;
  /** Deleting the definition: removes what `definition` made; undefined once done. */
  removeDefinition?(context: ReconcileContext<RuntimeDefinition>): Promise<ReconcileOutcome>;
  /** The runtime has no connection details yet: has its cluster made (undefined: nothing makes it, it is registered by hand). */
  provision?(context: ReconcileContext<RuntimeInstance>): Promise<ReconcileOutcome>;
  /** The runtime has connection details: keeps them fresh (a token about to expire, a local cluster started again); an outcome ends this look (the details changed). */
  refresh?(context: ReconcileContext<RuntimeInstance>): Promise<ReconcileOutcome | void>;
  /** Whether the runtime's cluster is being removed already (nothing left in it to clean up). */
  clusterGoing?(context: ReconcileContext<RuntimeInstance>): Promise<boolean>;
  /** Deleting the runtime, once its workloads and agent are gone: removes its cluster; undefined once done. */
  deprovision?(context: ReconcileContext<RuntimeInstance>): Promise<ReconcileOutcome>;
}

export const providers: Readonly<Record<string, RuntimeProvider>> = {
  kind: {},
  eks: eksProvider,
};

/** A definition's provider never changes (InfraProvider is immutable): asked once per definition. */
const providerNames = new SharedLoads<string>({ keep: true, maxKept: 10_000 });

/** The provider of the runtime's definition; `own`: providers this control plane has beyond the built-in ones (local clusters). */
export async function providerOf(api: ApiClient, runtime: RuntimeInstance, own: Readonly<Record<string, RuntimeProvider>> = {}): Promise<RuntimeProvider> {
  const definitionId = runtime.KubernetesRuntimeDefinitionID;
  const load = async () => (await api.unbound().kind('KubernetesRuntimeDefinition').get(definitionId)).InfraProvider;
  const name = await providerNames.get(`${api.baseUrl}|${definitionId}`, load, api.signal);
  return own[name] ?? providers[name] ?? {};
}
