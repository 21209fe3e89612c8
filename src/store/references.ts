/**
 * References between objects: a referenced object must exist when the reference is written (and
 * stay until the write commits), and an object others depend on cannot be deleted.
 */
import { badRequest, conflict } from '../errors.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import type { Queryable } from './database.ts';
import type { Column, KindTable } from './kind-table.ts';

export interface Reference {
  column: Column;
  target: Kind;
  id: number;
}

export const humanize = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** Reference fields whose value is new or changed, so the target must be checked. */
export function changedReferences(registry: Registry, table: KindTable, stored: ApiObject, existing: ApiObject | undefined): Reference[] {
  const found: Reference[] = [];
  for (const column of table.columns) {
    const targetName = column.spec.references;
    const value = stored[column.key];
    if (!targetName || value === undefined || value === existing?.[column.key]) continue;
    found.push({ column, target: registry.get(targetName), id: Number(value) });
  }
  return found;
}

/** The referenced object must exist; FOR SHARE holds off its deletion until this write commits (unless `lock` is false). */
export async function requireLive(q: Queryable, targetTable: KindTable, reference: Reference, { lock = true } = {}): Promise<void> {
  const rows = await q.query(lock ? targetTable.statements.lockLive : targetTable.statements.live, [reference.id], true);
  if (rows.length === 0) {
    throw badRequest(`${reference.column.key}: ${humanize(reference.target.name)} with ID ${reference.id} does not exist`);
  }
}

/** A 409 while live objects point at this one through a field that blocks its deletion. */
export async function refuseIfReferenced(q: Queryable, registry: Registry, kind: Kind, id: number, reason = ''): Promise<void> {
  for (const { kind: child, field } of registry.blockingReferencesTo(kind)) {
    const rows = await q.query<{ name?: string }>(
      `SELECT ${'Name' in child.fields ? 'name' : 'id'} AS name FROM ${child.table} WHERE ${child.column(field)} = $1 AND deleted_at IS NULL LIMIT 3`,
      [id],
    );
    if (rows.length > 0) {
      const names = rows.map((row) => String(row.name)).join(', ');
      throw conflict(`${humanize(kind.name)} has related ${humanize(child.name)}s - cannot be deleted (${names}${rows.length === 3 ? ', …' : ''})${reason}`, 'StillReferenced');
    }
  }
}
