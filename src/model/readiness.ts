/**
 * Whether an object is ready, from what its controller recorded: not being deleted, every
 * condition True, and its latest desired state reconciled. What `tptctl why` and an
 * application's status both go by.
 */
import { conditionsOf, findCondition, RECONCILED, TERMINAL_FAILURE_REASON } from './conditions.ts';
import type { ApiObject, Kind } from './kind.ts';

/** failed: its controller gave up on its current generation (retrying changes nothing until it changes). */
export type Unreadiness = 'deleting' | 'failed' | 'failing' | 'unfinished';

export function unreadiness(kind: Kind, object: ApiObject): Unreadiness | undefined {
  if (object.DeletionScheduled) return 'deleting';
  if (!kind.controller) return undefined;
  if (gaveUp(object)) return 'failed';
  if (conditionsOf(object).some((condition) => condition.Status !== 'True')) return 'failing';
  if (object.Reconciled !== true || (object.Generation !== undefined && object.ObservedGeneration !== object.Generation)) return 'unfinished';
  return undefined;
}

/** Whether its controller gave up on the generation it has now (a failure of an earlier one says nothing). */
export function gaveUp(object: ApiObject): boolean {
  const reconciled = findCondition(conditionsOf(object), RECONCILED);
  if (!reconciled || reconciled.Reason !== TERMINAL_FAILURE_REASON || reconciled.Status === 'True') return false;
  return reconciled.ObservedGeneration === undefined || object.Generation === undefined || reconciled.ObservedGeneration === object.Generation;
}
