/**
 * How far an object is on its way to what `--wait` waits for: reconciled by its controller, and
 * for kinds that report more than that, the condition that says they work — a workload instance
 * Healthy (its resources ready in the cluster, as the agent sees them), a runtime Ready (reachable,
 * threeport's components installed). Pure: the object in, a verdict out.
 */
import { conditionsOf, findCondition, RECONCILED } from '../../model/conditions.ts';
import type { ApiObject } from '../../model/kind.ts';
import { failureOf, goalConditions } from '../../model/readiness.ts';

/** Who reports the condition each kind must reach beyond Reconciled (model/readiness.ts). */
const reporters: Readonly<Record<string, string>> = {
  WorkloadInstance: 'the agent to report its resources',
  HelmWorkloadInstance: 'the agent to report its resources',
  KubernetesRuntimeInstance: 'its controller to check the cluster',
  Application: 'its parts to be ready',
};

const goals: Readonly<Record<string, { condition: string; reporter: string }>> = Object.fromEntries(
  Object.entries(goalConditions).map(([kind, condition]) => [kind, { condition, reporter: reporters[kind] ?? 'its controller' }]),
);

/** The condition `--wait` waits for on objects of this kind beyond Reconciled, if any. */
export const goalCondition = (kind: string): string | undefined => goals[kind]?.condition;

export type Progress =
  | { state: 'done'; summary: string }
  | { state: 'pending'; reason: string }
  /** Its controller gave up (a terminal error): waiting longer changes nothing. */
  | { state: 'failed'; reason: string };

export function progressOf(kind: string, object: ApiObject): Progress {
  const status = typeof object.Status === 'string' && object.Status ? object.Status : undefined;
  const reconciled = findCondition(conditionsOf(object), RECONCILED);
  // Given up on this generation (a failure of an earlier one says nothing about it): by the
  // runtime, or by a goal the controller says waiting will not reach (an application whose part failed).
  const failure = failureOf(object);
  if (failure) return { state: 'failed', reason: status ?? `Failed: ${failure.Message ?? 'its controller gave up'}` };
  if (!reconciled && object.CreationFailed === true) return { state: 'failed', reason: status ?? 'a controller reported CreationFailed' };
  if (object.DeletionScheduled) return { state: 'pending', reason: 'being deleted' };
  if (object.Reconciled !== true || (reconciled && reconciled.Status !== 'True')) return { state: 'pending', reason: status ?? 'waiting for a controller to reconcile' };
  const goal = goals[kind];
  if (!goal) return { state: 'done', summary: 'reconciled' };
  const condition = findCondition(conditionsOf(object), goal.condition);
  // Health reported for an older generation (before a change was rolled out) is not yet the answer.
  const stale = condition?.ObservedGeneration !== undefined && typeof object.Generation === 'number' && condition.ObservedGeneration < object.Generation;
  if (condition?.Status === 'True' && !stale) return { state: 'done', summary: `is ${status ?? goal.condition}` };
  if (condition?.Status === 'True') return { state: 'pending', reason: `rolling out generation ${String(object.Generation)}` };
  if (!condition) return { state: 'pending', reason: `reconciled; waiting for ${goal.reporter}` };
  return { state: 'pending', reason: status ?? `${condition.Reason}${condition.Message ? `: ${condition.Message}` : ''}` };
}
