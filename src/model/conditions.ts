/**
 * Structured status, beside the original's free-text Status. Each condition is one aspect of an
 * object, owned by one writer: `Reconciled` is the controller runtime's (did the last reconcile of
 * the current generation succeed, and if not why), the others are the domain's (a workload's
 * `Healthy`, a runtime's `Reachable`). Status is their one-line summary, recomputed whenever a
 * condition changes, so a retry message never overwrites health and health never hides an error.
 */

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  /** e.g. Reconciled, Healthy, Reachable */
  Type: string;
  Status: ConditionStatus;
  /** One CamelCase word a program can branch on, e.g. ReconcileError, Waiting, Down. */
  Reason: string;
  /** What a person should know, e.g. which Deployment has how many ready replicas. */
  Message?: string;
  /** When Status last changed. */
  LastTransitionTime: string;
  /** The object's Generation the condition was determined for. */
  ObservedGeneration?: number;
}

/** The runtime's condition. */
export const RECONCILED = 'Reconciled';
/** Its Reason when the current generation failed in a way retrying cannot fix. */
export const TERMINAL_FAILURE_REASON = 'Failed';

export interface ConditionUpdate {
  Type: string;
  Status: ConditionStatus;
  Reason: string;
  Message?: string;
  ObservedGeneration?: number;
}

/** Reads an object's Conditions (tolerating junk another writer left). */
export function conditionsOf(object: Record<string, unknown>): Condition[] {
  const value = object.Conditions;
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is Condition => typeof entry === 'object' && entry !== null && typeof (entry as Condition).Type === 'string');
}

export const findCondition = (conditions: readonly Condition[], type: string): Condition | undefined => conditions.find((c) => c.Type === type);

/**
 * `conditions` with `update` applied; the same array (identity) when nothing changes, so callers
 * can skip a write. The transition time moves only when Status does.
 */
export function withCondition(conditions: readonly Condition[], update: ConditionUpdate, now = new Date()): readonly Condition[] {
  const current = findCondition(conditions, update.Type);
  const same =
    current &&
    current.Status === update.Status &&
    current.Reason === update.Reason &&
    (current.Message ?? '') === (update.Message ?? '') &&
    current.ObservedGeneration === update.ObservedGeneration;
  if (same) return conditions;
  const next: Condition = {
    Type: update.Type,
    Status: update.Status,
    Reason: update.Reason,
    ...(update.Message && { Message: update.Message }),
    LastTransitionTime: current && current.Status === update.Status ? current.LastTransitionTime : now.toISOString(),
    ...(update.ObservedGeneration !== undefined && { ObservedGeneration: update.ObservedGeneration }),
  };
  return current ? conditions.map((c) => (c.Type === update.Type ? next : c)) : [...conditions, next];
}

/**
 * The one-line Status from the conditions: an error or a wait of the runtime first (it is what a
 * person must act on, or wait for), then the domain's own summary condition (unless it is older
 * than the generation applied: then Reconciling), then the runtime's success. `summary` names the domain condition whose Reason is the status word (e.g. Healthy).
 */
export function statusLine(conditions: readonly Condition[], summary?: string): string | undefined {
  const reconciled = findCondition(conditions, RECONCILED);
  const line = (condition: Condition) => (condition.Message ? `${condition.Reason}: ${condition.Message}` : condition.Reason);
  if (reconciled && reconciled.Status !== 'True') return line(reconciled);
  const domain = summary ? findCondition(conditions, summary) : undefined;
  // Health determined for an earlier generation than the one just applied says nothing yet.
  const stale = domain?.ObservedGeneration !== undefined && reconciled?.ObservedGeneration !== undefined && domain.ObservedGeneration < reconciled.ObservedGeneration;
  if (domain && stale) return `Reconciling: generation ${reconciled.ObservedGeneration} applied, waiting for its live state`;
  if (domain) return line(domain);
  return reconciled ? line(reconciled) : undefined;
}
