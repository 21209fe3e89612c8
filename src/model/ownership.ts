import type { FieldOwner } from './fields.ts';
import type { Kind } from './kind.ts';

const owned = new WeakMap<Kind, Readonly<Record<FieldOwner, ReadonlySet<string>>>>();

/**
 * The JSON keys of `kind`'s fields written by `owner`, for the one rule the API applies to each:
 * `server` fields are never accepted from clients; `controller` fields are accepted on the wire
 * (the original's clients PATCH them) and are what a security layer reserves for controller and
 * agent identities. Everything else is desired state, written by users.
 */
export function fieldsOwnedBy(kind: Kind, owner: FieldOwner): ReadonlySet<string> {
  let sets = owned.get(kind);
  if (!sets) {
    const keys = (which: FieldOwner) =>
      new Set(Object.entries(kind.fields).filter(([, field]) => field.owner === which).map(([name]) => kind.jsonKey(name)));
    sets = { server: keys('server'), controller: keys('controller') };
    owned.set(kind, sets);
  }
  return sets[owner];
}

/** JSON keys of the fields controllers and agents report (status, reconciliation state, inventories). */
export const controllerFields = (kind: Kind): ReadonlySet<string> => fieldsOwnedBy(kind, 'controller');

/** JSON keys of the fields only the API writes (e.g. Generation). */
export const serverFields = (kind: Kind): ReadonlySet<string> => fieldsOwnedBy(kind, 'server');
