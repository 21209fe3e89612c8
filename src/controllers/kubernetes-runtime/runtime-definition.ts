/** KubernetesRuntimeDefinition: what kind of cluster; its provider makes that exist. */
import { TerminalError } from '../../controller/errors.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import { providers, type RuntimeDefinition } from './providers.ts';

export function runtimeDefinitionReconciler(): Reconciler<RuntimeDefinition> {
  return {
    kind: 'KubernetesRuntimeDefinition',
    async reconcile(context) {
      const provider = providers[context.object.InfraProvider];
      if (context.operation === 'Deleted') return provider?.removeDefinition?.(context);
      if (!provider) throw new TerminalError(`unknown InfraProvider ${context.object.InfraProvider}`);
      return provider.definition?.(context);
    },
  };
}
