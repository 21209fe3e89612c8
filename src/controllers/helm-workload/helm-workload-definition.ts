/**
 * HelmWorkloadDefinition: its chart source and values checked (a definition helm could never
 * install is a Failed status, not a retry loop), and every instance asked to roll a change out.
 */
import { repositoriesInValues } from '../../model/container-images.ts';
import { recordImageUses } from '../shared/image-uses.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { resourceKeyOf } from '../../model/resource-key.ts';
import { chartArguments, ChartSourceError, parseValues, ValuesError } from '../../platform/helm/index.ts';

export type HelmWorkloadDefinition = ObjectOf<'HelmWorkloadDefinition'>;

export function helmWorkloadDefinitionReconciler(): Reconciler<HelmWorkloadDefinition> {
  return {
    kind: 'HelmWorkloadDefinition',
    async reconcile(context) {
      if (context.operation === 'Deleted') return undefined; // its instances keep it from being deleted before
      const definition = context.object;
      checkDefinition(definition);
      await recordImageUses(context.client, { HelmWorkloadDefinitionID: definition.ID }, repositoriesInValues(parseValues(definition.ValuesDocument, 'its ValuesDocument')));
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
    additionalResourcesOf(definition.AdditionalResources, undefined);
  } catch (error) {
    if (error instanceof ChartSourceError || error instanceof ValuesError) throw new TerminalError(error.message);
    throw error;
  }
}

/**
 * The objects deployed with the chart: the definition's, then the instance's (which replaces one
 * of the definition's of the same kind and name).
 */
export function additionalResourcesOf(definitionResources: unknown, instanceResources: unknown): Manifest[] {
  const byIdentity = new Map<string, Manifest>();
  for (const [resources, whose] of [[definitionResources, "the definition's"], [instanceResources, "the instance's"]] as const) {
    if (resources === undefined || resources === null) continue;
    if (!Array.isArray(resources)) throw new TerminalError(`${whose} AdditionalResources must be a list of Kubernetes objects`);
    for (const [index, resource] of resources.entries()) {
      const key = resourceKeyOf(resource);
      if (typeof key !== 'string') throw new TerminalError(`${whose} AdditionalResources[${index}] ${key.problem}: it needs apiVersion, kind and metadata.name`);
      byIdentity.set(key, resource as Manifest);
    }
  }
  return [...byIdentity.values()];
}
