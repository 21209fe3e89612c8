/**
 * The resources of a workload instance for `tptctl describe`: each one's kind, namespace/name,
 * readiness (from its live object as the agent last reported it, judged as the agent judges
 * health) and the last thing that happened to it in the cluster.
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { Manifest } from '../../model/manifest.ts';
import { healthOf } from '../../model/resource-health.ts';
import { parseResourceKey } from '../../model/resource-key.ts';

export interface ResourceRow {
  kind: string;
  /** `namespace/name`, or `name` for cluster-scoped resources. */
  name: string;
  ready: string;
  lastOperation: string;
}

const isManifest = (value: unknown): value is Manifest =>
  typeof value === 'object' && value !== null && typeof (value as Manifest).kind === 'string' && typeof (value as Manifest).metadata === 'object' && (value as Manifest).metadata !== null;

/** `Ready`, what keeps it from being ready (`1/3 ready`, `waiting for a volume`), or why there is nothing to judge. */
export function resourceReadiness(record: ApiObject): string {
  if (record.LastOperation === 'DELETED') return 'missing';
  const live = record.RuntimeDefinition;
  if (!isManifest(live)) return record.Reconciled === true ? 'not reported yet' : 'not applied yet';
  const { readiness, message } = healthOf(live);
  if (readiness === 'Ready') return 'Ready';
  return readiness === 'Failed' ? `Failed: ${message}` : message;
}

/** In the definition's order, the namespace threeport made first. */
export function resourceRows(records: readonly ApiObject[]): ResourceRow[] {
  const order = (record: ApiObject): number => (typeof record.WorkloadResourceDefinitionID === 'number' ? record.WorkloadResourceDefinitionID : -1);
  return [...records]
    .sort((a, b) => order(a) - order(b) || Number(a.ID) - Number(b.ID))
    .map((record) => {
      const { kind, namespace, name } = parseResourceKey(String(record.ResourceKey ?? ''));
      return { kind, name: namespace ? `${namespace}/${name}` : name, ready: resourceReadiness(record), lastOperation: typeof record.LastOperation === 'string' ? record.LastOperation : '-' };
    });
}

export async function workloadResources(client: ApiClient, instanceId: number): Promise<ResourceRow[]> {
  return resourceRows(await client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: instanceId }));
}
