/** KubernetesRuntimeDefinition: what kind of cluster; its provider makes that exist. */
import { TerminalError } from '../../controller/errors.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import { providers, type RuntimeDefinition } from './providers.ts';

export function runtimeDefinitionReconciler(): Reconciler<RuntimeDefinition> {
  return {
    kind: 'KubernetesRuntimeDefinition',
    async reconcile(context) {
      if (context.operation === 'Deleted') return undefined;
      const provider = providers[context.object.InfraProvider];
      if (!provider) throw new TerminalError(`unknown InfraProvider ${context.object.InfraProvider}`);
      return provider.definition?.(context);
    },
  };
}
