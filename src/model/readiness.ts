/**
 * Whether an object is ready, from what its controller recorded: not being deleted, every
 * condition True, and its latest desired state reconciled. What `tptctl why` and an
 * application's status both go by.
 */
import { conditionsOf } from './conditions.ts';
import type { ApiObject, Kind } from './kind.ts';

export type Unreadiness = 'deleting' | 'failing' | 'unfinished';

export function unreadiness(kind: Kind, object: ApiObject): Unreadiness | undefined {
  if (object.DeletionScheduled) return 'deleting';
  if (!kind.controller) return undefined;
  if (conditionsOf(object).some((condition) => condition.Status !== 'True')) return 'failing';
  if (object.Reconciled !== true || (object.Generation !== undefined && object.ObservedGeneration !== object.Generation)) return 'unfinished';
  return undefined;
}
