/**
 * Whether an object is ready, from what its controller recorded: not being deleted, every
 * condition True, and its latest desired state reconciled. What `tptctl why` and an
 * application's status both go by.
 */
import { conditionsOf, findCondition, TERMINAL_FAILURE_REASON, type Condition } from './conditions.ts';
import type { ApiObject, Kind } from './kind.ts';

/** failed: its controller gave up on its current generation (retrying changes nothing until it changes). */
export type Unreadiness = 'deleting' | 'failed' | 'failing' | 'unfinished' | 'unreported';

/** The condition that says an object of these kinds works, beyond its controller having reconciled it. */
export const goalConditions: Readonly<Record<string, string>> = {
  WorkloadInstance: 'Healthy',
  HelmWorkloadInstance: 'Healthy',
  KubernetesRuntimeInstance: 'Ready',
  Application: 'Healthy',
};

export function unreadiness(kind: Kind, object: ApiObject): Unreadiness | undefined {
  if (object.DeletionScheduled) return 'deleting';
  if (!kind.controller) return undefined;
  if (gaveUp(object)) return 'failed';
  const conditions = conditionsOf(object);
  if (conditions.some((condition) => condition.Status !== 'True')) return 'failing';
  if (object.Reconciled !== true || (object.Generation !== undefined && object.ObservedGeneration !== object.Generation)) return 'unfinished';
  // Not reported yet (a workload the agent has not seen): not ready either.
  const goal = goalConditions[kind.name];
  if (goal && findCondition(conditions, goal)?.Status !== 'True') return 'unreported';
  return undefined;
}

/**
 * Whether its controller gave up on the generation it has now (a failure of an earlier one says
 * nothing): the runtime's Reconciled condition, or a domain condition that says waiting will not
 * help (an application whose part failed), has the Failed reason.
 */
export const gaveUp = (object: ApiObject): boolean => failureOf(object) !== undefined;

/** The condition saying its controller gave up on the current generation, if one does. */
export function failureOf(object: ApiObject): Condition | undefined {
  return conditionsOf(object).find(
    (condition) =>
      condition.Reason === TERMINAL_FAILURE_REASON &&
      condition.Status !== 'True' &&
      (condition.ObservedGeneration === undefined || object.Generation === undefined || condition.ObservedGeneration === object.Generation),
  );
}
