/**
 * When a write is a new generation of an object, and when it notifies its controller. A change
 * to desired state (any field no controller or server owns) marks the object for reconcile
 * whoever wrote it: Generation goes up and Reconciled goes false, even if the write said true
 * (only a create can register an object as reconciled already). Writes of controller-owned fields only —
 * status, conditions, inventories — are not generations and notify nobody, so a controller's own
 * writes never queue more work. Setting Reconciled false keeps its original meaning: reconcile.
 */
import { isDeepStrictEqual } from 'node:util';
import { type FieldCipher } from '../crypto/field-cipher.ts';
import { REDACTED_PLACEHOLDER } from '../model/fields.ts';
import { conditionsOf, findCondition, RECONCILED, statusLine, withCondition } from '../model/conditions.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { Column, KindTable } from './kind-table.ts';

const isDesiredState = (column: Column): boolean => column.spec.owner === undefined && column.field !== 'Reconciled';

/** Whether a stored value and a new one are the same; JSON maps compare without regard to key order. */
function sameValue(column: Column, stored: unknown, next: unknown, cipher: FieldCipher): boolean {
  if (stored === next) return true;
  if (stored === undefined || next === undefined || stored === null || next === null) return false;
  if (column.spec.encrypted) {
    // A client writing back what it read sends the ciphertext (a map's is equal, not the same object)
    // or the redaction placeholder: the stored value stays.
    if (next === REDACTED_PLACEHOLDER || isDeepStrictEqual(stored, next)) return true;
    try {
      return isDeepStrictEqual(cipher.decryptValue(stored), next);
    } catch {
      return false;
    }
  }
  return isDeepStrictEqual(stored, next);
}

/** Whether `input` (a create's fields) declares what `stored` holds: every desired-state field, one it leaves out being its default. */
export function declaresSame(table: KindTable, cipher: FieldCipher, stored: ApiObject, input: ApiObject): boolean {
  return table.columns.every((column) => {
    if (!isDesiredState(column)) return true;
    const sent = input[column.key] ?? column.spec.default ?? null;
    const kept = stored[column.key] ?? null;
    return (sent === null && kept === null) || sameValue(column, kept, sent, cipher);
  });
}

export interface NextState {
  object: ApiObject;
  /** The controller must hear about this write. */
  notify: boolean;
}

/** A new object: generation 1; it notifies unless registered as already reconciled. */
export function createdState(kind: Kind, object: ApiObject): NextState {
  if (!kind.controller) return { object, notify: false };
  return { object: { ...object, Generation: 1 }, notify: object.Reconciled !== true };
}

/**
 * `merged` (the object as it will be stored, before encryption) after `patch` changed `existing`.
 * `childrenAdded`: the write appended nested children, which is a change of desired state too.
 */
export function rewrittenState(kind: Kind, table: KindTable, cipher: FieldCipher, existing: ApiObject, merged: ApiObject, patch: ApiObject, childrenAdded: boolean): NextState {
  if (!kind.controller) return { object: merged, notify: false };
  const desiredChanged =
    childrenAdded || table.columns.some((column) => isDesiredState(column) && !sameValue(column, existing[column.key], merged[column.key], cipher));
  const generation = Number(existing.Generation ?? 1);
  const object: ApiObject = { ...merged, Generation: desiredChanged ? generation + 1 : generation };
  // Even when the write says Reconciled true: the original's Go clients send whole objects, their
  // Reconciled included, so a change of desired state with it is still a change to reconcile.
  if (desiredChanged) {
    object.Reconciled = false;
    markReconciling(kind, object, generation + 1);
  } else if (patch.Reconciled === true && patch.Conditions === undefined) settleReconciling(kind, object);
  const notify = object.Reconciled !== true && (desiredChanged || existing.Reconciled === true || patch.Reconciled === false);
  return { object, notify };
}

/**
 * A new generation's status until its controller has looked: the runtime's condition says it is
 * being reconciled (replacing the last one's error or success), and so does the Status line —
 * not the previous generation's health.
 */
function markReconciling(kind: Kind, object: ApiObject, generation: number): void {
  if (!('Conditions' in kind.fields)) return;
  const conditions = withCondition(conditionsOf(object), { Type: RECONCILED, Status: 'Unknown', Reason: 'Reconciling', Message: `generation ${generation} waits for its controller`, ObservedGeneration: generation });
  object.Conditions = conditions;
  if ('Status' in kind.fields) object.Status = statusLine(conditions);
}

/**
 * A writer that marks the object Reconciled without writing conditions (the original's Go
 * controllers, a script) means it is done: the Reconciling condition is settled, not left to
 * say otherwise forever.
 */
function settleReconciling(kind: Kind, object: ApiObject): void {
  if (!('Conditions' in kind.fields)) return;
  const before = conditionsOf(object);
  const reconciling = findCondition(before, RECONCILED);
  if (reconciling?.Reason !== 'Reconciling') return;
  const conditions = withCondition(before, { Type: RECONCILED, Status: 'True', Reason: 'Reconciled', ...(reconciling.ObservedGeneration !== undefined && { ObservedGeneration: reconciling.ObservedGeneration }) });
  object.Conditions = conditions;
  if ('Status' in kind.fields) object.Status = statusLine(conditions);
}
