/**
 * WorkloadDefinition: its YAMLDocument split into WorkloadResourceDefinitions, one per manifest,
 * kept in step with every edit (the original ignored edits), and every instance asked to roll the
 * change out.
 */
import { isNotFound as isGone, type ApiClient } from '../../client/api-client.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { parseManifests } from './manifests.ts';

export type WorkloadDefinition = ObjectOf<'WorkloadDefinition'>;
type ResourceDefinition = ObjectOf<'WorkloadResourceDefinition'>;

export function workloadDefinitionReconciler(): Reconciler<WorkloadDefinition> {
  return {
    kind: 'WorkloadDefinition',
    async reconcile(context) {
      // Its resource definitions go with it when it is removed; instances keep it from being deleted before.
      if (context.operation === 'Deleted') return undefined;
      const definition = context.object;
      const manifests = parseManifests(definition.YAMLDocument);
      const changed = await syncResourceDefinitions(context.client, definition, manifests);
      if (changed) {
        for (const instance of await context.client.referrers('WorkloadDefinition', definition.ID, 'WorkloadInstance')) {
          await context.requestReconcile('WorkloadInstance', Number(instance.ID), `workload definition ${definition.Name} changed`);
        }
      }
      return undefined;
    },
  };
}

/** Creates, updates and deletes resource definitions so they match `manifests`; true when anything changed. */
async function syncResourceDefinitions(client: ApiClient, definition: WorkloadDefinition, manifests: ReturnType<typeof parseManifests>): Promise<boolean> {
  const resources = client.kind('WorkloadResourceDefinition');
  const existing = new Map<string, ResourceDefinition>();
  for (const resource of await resources.listAll({ workloaddefinitionid: definition.ID })) existing.set(String(resource.ResourceKey), resource);
  if (existing.size === 0) {
    // The common first time: all of them in one atomic call.
    await client.createResourceDefinitions(manifests.map(({ manifest }) => ({ JSONDefinition: manifest, WorkloadDefinitionID: definition.ID })));
    return true;
  }
  let changed = false;
  for (const { key, manifest } of manifests) {
    const { outcome } = await resources.apply({ workloaddefinitionid: definition.ID, resourcekey: key }, { JSONDefinition: manifest, WorkloadDefinitionID: definition.ID });
    changed ||= outcome !== 'unchanged';
    existing.delete(key);
  }
  for (const stale of existing.values()) {
    await resources.delete(stale.ID).catch((error: unknown) => (isGone(error) ? undefined : Promise.reject(error)));
    changed = true;
  }
  return changed;
}


