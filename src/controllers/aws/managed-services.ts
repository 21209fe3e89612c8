/** What the controllers of a workload's managed services (databases, buckets) share. */
import { isNotFound, type ApiClient } from '../../client/api-client.ts';
import type { ObjectOf } from '../../model/object-types.ts';

export interface ManagedServiceSettings {
  /** How soon a database or bucket being made or removed is looked at again. @default 15000 */
  pollIntervalMs?: number;
  /** How often a ready one is checked again (its Secret or wiring restored if changed). @default 300000 */
  checkIntervalMs?: number;
}

/** The workload instance, or undefined once it is gone (a 404; any other failure goes on). */
export function workloadOrGone(api: ApiClient, id: number): Promise<ObjectOf<'WorkloadInstance'> | undefined> {
  return api.kind('WorkloadInstance').get(id).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
}
