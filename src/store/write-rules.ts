/**
 * How a write becomes the object to store: defaults on create, PATCH merge and PUT replacement,
 * required and immutable fields, allowed values, the kind's own rules, and derived fields.
 * Pure functions of the stored object and the request.
 */
import { isDeepStrictEqual } from 'node:util';
import { badRequest } from '../errors.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { KindTable } from './kind-table.ts';

/** Reconciliation state a PUT keeps unless the body sets it, so a replace can't undo a scheduled delete. */
const reconciliationState: ReadonlySet<string> = new Set([
  'Reconciled',
  'CreationAcknowledged',
  'CreationConfirmed',
  'CreationFailed',
  'DeletionScheduled',
  'DeletionAcknowledged',
  'DeletionConfirmed',
  'InterruptReconciliation',
]);

const clientWritable = (table: KindTable) => table.columns.filter((column) => column.spec.owner !== 'server');

/** A new object from a create request: the client's values (server-owned ones never), then defaults. */
export function initialObject(kind: Kind, table: KindTable, input: ApiObject): ApiObject {
  const object: ApiObject = {};
  for (const column of clientWritable(table)) {
    const value = input[column.key] ?? column.spec.default;
    if (value !== undefined && value !== null) object[column.key] = value;
  }
  kind.rules.onCreate?.(object);
  return object;
}

/** PATCH: `patch` merged into `existing`; `null` clears an optional field. */
export function mergedObject(table: KindTable, existing: ApiObject, patch: ApiObject): ApiObject {
  const merged: ApiObject = {};
  for (const column of table.columns) {
    const fromClient = column.spec.owner !== 'server' && column.key in patch;
    const value = fromClient ? patch[column.key] : existing[column.key];
    if (value === null || value === undefined) {
      if (column.spec.required || column.spec.defaultToFlagged) throw badRequest(`${column.key} is required and cannot be cleared`);
      continue;
    }
    if (column.spec.immutable && existing[column.key] !== undefined && !isDeepStrictEqual(value, existing[column.key])) {
      const was = typeof existing[column.key] === 'object' ? JSON.stringify(existing[column.key]).slice(0, 200) : String(existing[column.key]);
      throw badRequest(`${column.key} cannot be changed once set (was ${typeof existing[column.key] === 'object' ? was : `"${was}"`})`);
    }
    merged[column.key] = value;
  }
  return merged;
}

/**
 * PUT: the body replaces the desired state. Omitted fields return to their default (or empty);
 * reconciliation state and what controllers and the server own are kept unless sent.
 */
export function replacementPatch(table: KindTable, existing: ApiObject, body: ApiObject): ApiObject {
  const replacement: ApiObject = {};
  for (const column of table.columns) {
    if (column.spec.owner === 'server') continue;
    const keep = (reconciliationState.has(column.field) || column.spec.owner === 'controller') && !(column.key in body);
    replacement[column.key] = keep ? existing[column.key] : (body[column.key] ?? column.spec.default ?? null);
  }
  for (const [key, value] of Object.entries(body)) if (!(key in replacement)) replacement[key] = value;
  return replacement;
}

/** Allowed values and the kind's own rules; then its derived fields. Throws a 400 on the first problem. */
export function checkAndDerive(kind: Kind, table: KindTable, object: ApiObject, previous: ApiObject | undefined): void {
  // What a profile was to fill in and did not (the request's schema checks the rest).
  if (kind.profileSection && previous === undefined) {
    const missing = table.columns.filter((column) => column.spec.required && (object[column.key] === undefined || object[column.key] === null));
    if (missing.some((column) => column.key === 'Name')) throw badRequest('Missing required field(s) : Name');
    if (missing.length > 0) throw badRequest(`Missing required field(s) : ${missing.map((column) => column.key).join(',')} (neither given nor set by the profile)`);
  }
  for (const column of table.columns) {
    const allowed = column.spec.oneOf;
    const value = object[column.key];
    if (allowed && value !== undefined && !allowed.includes(String(value))) {
      throw badRequest(`${column.key} "${String(value)}" is not supported; valid values: ${allowed.join(', ')}`);
    }
  }
  const message = kind.rules.validate?.(object, previous) ?? kind.rules.derive?.(object);
  if (message) throw badRequest(message);
}
