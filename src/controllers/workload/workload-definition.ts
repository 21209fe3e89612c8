/**
 * WorkloadDefinition: its YAMLDocument split into WorkloadResourceDefinitions, one per manifest,
 * kept in step with every edit (the original ignored edits), and every instance asked to roll the
 * change out.
 */
import { isNotFound as isGone, type ApiClient } from '../../client/api-client.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { repositoriesInManifest } from '../../model/container-images.ts';
import { recordImageUses } from '../shared/image-uses.ts';
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
      await syncResourceDefinitions(context.client, definition, manifests);
      await recordImageUses(context.client, { WorkloadDefinitionID: definition.ID }, [...new Set(manifests.flatMap(({ manifest }) => repositoriesInManifest(manifest)))]);
      // Asked whether anything changed this time or not: a retry after a crash halfway through
      // finds nothing left to change, yet its instances may never have been told.
      for (const instance of await context.client.referrers('WorkloadDefinition', definition.ID, 'WorkloadInstance')) {
        await context.requestReconcile('WorkloadInstance', Number(instance.ID), `workload definition ${definition.Name} changed`);
      }
      return undefined;
    },
  };
}

/** Creates, updates and deletes resource definitions so they match `manifests`. */
async function syncResourceDefinitions(client: ApiClient, definition: WorkloadDefinition, manifests: ReturnType<typeof parseManifests>): Promise<void> {
  const resources = client.kind('WorkloadResourceDefinition');
  const existing = new Map<string, ResourceDefinition>();
  for (const resource of await resources.listAll({ workloaddefinitionid: definition.ID })) existing.set(String(resource.ResourceKey), resource);
  if (existing.size === 0) {
    // The common first time: all of them in one atomic call.
    await client.createResourceDefinitions(manifests.map(({ manifest }) => ({ JSONDefinition: manifest, WorkloadDefinitionID: definition.ID })));
    return;
  }
  for (const { key, manifest } of manifests) {
    await resources.apply({ workloaddefinitionid: definition.ID, resourcekey: key }, { JSONDefinition: manifest, WorkloadDefinitionID: definition.ID });
    existing.delete(key);
  }
  for (const stale of existing.values()) {
    await resources.delete(stale.ID).catch((error: unknown) => (isGone(error) ? undefined : Promise.reject(error)));
  }
}


