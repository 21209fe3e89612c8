/** The namespace a workload or Helm workload instance runs in: where what is delivered to it (a connection Secret) goes. */
import { createHash } from 'node:crypto';
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

/**
 * Where the release goes: the instance's ReleaseNamespace, or one threeport makes for it, named
 * after the instance and stable for it (the same on every retry and replica), so nothing needs
 * recording before the install.
 */
export function helmReleaseNamespace(instance: ObjectOf<'HelmWorkloadInstance'>, controlPlaneId: string): string {
  if (instance.ReleaseNamespace) return String(instance.ReleaseNamespace);
  const suffix = createHash('sha256').update(`${controlPlaneId}/${String(instance.ID)}`).digest('hex').slice(0, 10);
  return `${String(instance.Name).slice(0, 52)}-${suffix}`;
}
