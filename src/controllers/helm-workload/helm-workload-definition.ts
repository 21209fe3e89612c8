/**
 * HelmWorkloadDefinition: its chart source and values checked (a definition helm could never
 * install is a Failed status, not a retry loop), and every instance asked to roll a change out.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { chartArguments, ChartSourceError, parseValues, ValuesError } from '../../platform/helm/index.ts';

export type HelmWorkloadDefinition = ObjectOf<'HelmWorkloadDefinition'>;

export function helmWorkloadDefinitionReconciler(): Reconciler<HelmWorkloadDefinition> {
  return {
    kind: 'HelmWorkloadDefinition',
    async reconcile(context) {
      if (context.operation === 'Deleted') return undefined; // its instances keep it from being deleted before
      const definition = context.object;
      checkDefinition(definition);
      // Asked whether anything changed or not: a retry after a crash may find its instances untold.
      for (const instance of await context.client.referrers('HelmWorkloadDefinition', definition.ID, 'HelmWorkloadInstance')) {
        await context.requestReconcile('HelmWorkloadInstance', Number(instance.ID), `helm workload definition ${definition.Name} changed`);
      }
      return undefined;
    },
  };
}

/** A clear TerminalError for a chart source or values helm could never use. */
export function checkDefinition(definition: HelmWorkloadDefinition): void {
  try {
    chartArguments({ repository: definition.Repo, chart: definition.Chart, ...(definition.ChartVersion && { version: definition.ChartVersion }) });
    parseValues(definition.ValuesDocument, 'its ValuesDocument');
  } catch (error) {
    if (error instanceof ChartSourceError || error instanceof ValuesError) throw new TerminalError(error.message);
    throw error;
  }
}
