/**
 * Who may write which fields of an object: what controllers own (Status, Conditions, Creation* and
 * Deletion*, inventories, declaring an object reconciled) only controller identities and admins
 * change; agents, reporting live state, change nothing else. Others may send a controller-owned
 * field unchanged, as the original's clients send whole objects back.
 */
import { isDeepStrictEqual } from 'node:util';
import { forbidden } from '../errors.ts';
import type { ScalarField } from '../model/fields.ts';
import type { ApiObject, Kind } from '../model/kind.ts';

type Body = Record<string, unknown>;

/** The body's scalar fields by name (keys match case-insensitively, as the API reads them). */
function sentFields(kind: Kind, body: Body): [name: string, field: ScalarField, value: unknown][] {
  const fields: [string, ScalarField, unknown][] = [];
  for (const [key, value] of Object.entries(body)) {
    const name = kind.payloadKeys.get(key.toLowerCase());
    const field = name ? kind.fields[name] : undefined;
    if (name && field?.kind === 'scalar') fields.push([name, field, value]);
  }
  return fields;
}

const isEmpty = (value: unknown): boolean => value === null || value === undefined || value === false || value === '';

/** Equal as stored: times compare as instants (Go writes `…:00Z` back for the API's `…:00.000Z`). */
function same(field: ScalarField, stored: unknown, sent: unknown): boolean {
  if (isEmpty(stored) && isEmpty(sent)) return true;
  if (field.valueType === 'time' && typeof stored === 'string' && typeof sent === 'string') return Date.parse(stored) === Date.parse(sent);
  return isDeepStrictEqual(stored, sent);
}

const controllerOwned = (name: string, field: ScalarField): boolean => field.owner === 'controller' || name === 'Reconciled';

/**
 * Refuses a change to a controller-owned field: on create any value but an empty one, on update
 * any value but the stored one — clearing included. `Reconciled: false` (reconcile again) is
 * everyone's to send.
 */
export function refuseControllerFields(kind: Kind, bodies: readonly Body[], existing: ApiObject | undefined): void {
  for (const body of bodies) {
    for (const [name, field, value] of sentFields(kind, body)) {
      if (!controllerOwned(name, field) || (name === 'Reconciled' && value === false)) continue;
      if (existing ? same(field, existing[kind.jsonKey(name)], value) : isEmpty(value)) continue;
      throw forbidden(`${kind.jsonKey(name)} is written by controllers only; leave it out`);
    }
  }
}

/** An agent reports live state: controller-owned fields only. */
export function refuseAllButReports(kind: Kind, body: Body): void {
  const other = sentFields(kind, body).find(([name, field]) => !controllerOwned(name, field));
  if (other) throw forbidden(`an agent reports ${kind.name}'s live state only; ${kind.jsonKey(other[0])} is not for it to write`);
}

/** The kinds of the nested children a body carries (written with it, e.g. WorkloadInstance.Events). */
export function nestedKindsIn(kind: Kind, body: Body): string[] {
  return Object.entries(body).flatMap(([key, value]) => {
    const name = kind.payloadKeys.get(key.toLowerCase());
    const field = name ? kind.fields[name] : undefined;
    return field?.kind === 'nested' && value != null ? [field.childKind] : [];
  });
}
