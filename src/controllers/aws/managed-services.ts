/** What the controllers of a workload's managed services (databases, buckets) share. */
import { isNotFound, type ApiClient } from '../../client/api-client.ts';
import type { ObjectOf } from '../../model/object-types.ts';

/** The workload instance, or undefined once it is gone (a 404; any other failure goes on). */
export function workloadOrGone(api: ApiClient, id: number): Promise<ObjectOf<'WorkloadInstance'> | undefined> {
  return api.kind('WorkloadInstance').get(id).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
}
