/** The namespace a workload instance runs in: where what is delivered to it (a connection Secret) goes. */
import type { ApiClient } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { parseResourceKey } from '../../model/resource-key.ts';

/**
 * The namespace the workload instance's resources are in: undefined while it has none deployed;
 * refused when they span several (threeport cannot tell which one the app reads its Secret from).
 */
export async function workloadNamespaceOf(api: ApiClient, workload: ObjectOf<'WorkloadInstance'>): Promise<string | undefined> {
  const records = (await api.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workload.ID })).filter((record) => !record.ScheduledForDeletion);
  const namespaces = new Set<string>();
  for (const record of records) {
    const key = parseResourceKey(String(record.ResourceKey));
    if (key.kind === 'Namespace') namespaces.add(key.name);
    else if ((record.JSONDefinition as Manifest).metadata.namespace) namespaces.add(String((record.JSONDefinition as Manifest).metadata.namespace));
  }
  if (namespaces.size > 1) throw new TerminalError(`workload instance ${workload.Name} has resources in namespaces ${[...namespaces].sort().join(', ')}: threeport puts a connection Secret into the one namespace of a workload`);
  return [...namespaces][0];
}

