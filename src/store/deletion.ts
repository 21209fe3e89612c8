/**
 * DELETE with the original's two-phase semantics (§7.8), and what goes with an object when its
 * row is removed: the objects that belong to it (references marked `cascade`, recursively) and
 * the AttachedObjectReferences from or to it, with the Events they attach.
 */
import { conflict } from '../errors.ts';
import { API_VERSION, type ApiObject, type Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import type { Queryable } from './database.ts';

/**
 * `schedule`: a reconcilable object nobody started deleting — mark it and notify its controller.
 * `remove`: a plain object, or one whose controller confirmed the deletion — remove the row.
 */
export function deleteStep(kind: Kind, existing: ApiObject): 'schedule' | 'remove' {
  if (!kind.controller) return 'remove';
  if (existing.DeletionScheduled === undefined) return 'schedule';
  if (existing.DeletionConfirmed === undefined) throw conflict(`object with ID ${String(existing.ID)} already being deleted`, 'BeingDeleted');
  return 'remove';
}

/** A row removed with its owner: its kind, ID and the version its final revision has. */
export interface RemovedRow {
  kind: Kind;
  id: number;
  version: number;
}

const REMOVE_CHILDREN = (table: string, column: string): string => `
  WITH d AS (UPDATE ${table} SET deleted_at = $2, updated_at = $2, version = version + 1
             WHERE ${column} = ANY($1) AND deleted_at IS NULL RETURNING id, version),
       r AS (INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot, actor)
             SELECT id, version, $3, 'Deleted', $2, jsonb_build_object('ID', id, 'DeletedWith', $4::text), $5::text FROM d)
  SELECT id, version FROM d`;

/**
 * Soft-deletes, in the caller's transaction, everything that belongs to the objects `ids` of
 * `kind` (already removed), depth first. Returns what it removed.
 */
export async function removeDependents(q: Queryable, registry: Registry, kind: Kind, ids: readonly number[], now: string, actor?: string): Promise<RemovedRow[]> {
  if (ids.length === 0) return [];
  const owner = `${kind.name}.${ids.length === 1 ? String(ids[0]) : `${ids.length} objects`}`;
  const removed: RemovedRow[] = [];
  const remove = async (child: Kind, column: string, keys: readonly number[]): Promise<number[]> => {
    const rows = await q.query<{ id: number; version: number }>(REMOVE_CHILDREN(child.table, column), [keys, now, child.name, owner, actor ?? null]);
    for (const row of rows) removed.push({ kind: child, id: Number(row.id), version: Number(row.version) });
    return rows.map((row) => Number(row.id));
  };
  for (const { kind: child, field } of registry.dependentsOf(kind)) {
    const childIds = await remove(child, child.column(field), ids);
    removed.push(...(await removeDependents(q, registry, child, childIds, now, actor)));
  }
  const references = registry.find('AttachedObjectReference');
  const events = registry.find('Event');
  if (references && events && kind !== references) {
    const objectType = `${API_VERSION}.${kind.name}`;
    // References from these objects, and the Events they attach.
    const attached = await q.query<{ id: number; version: number; attached_object_type: string; attached_object_id: number }>(
      `WITH d AS (UPDATE ${references.table} SET deleted_at = $2, updated_at = $2, version = version + 1
                  WHERE object_id = ANY($1) AND object_type = $3 AND deleted_at IS NULL
                  RETURNING id, version, attached_object_type, attached_object_id),
            r AS (INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot, actor)
                  SELECT id, version, $4, 'Deleted', $2, jsonb_build_object('ID', id, 'DeletedWith', $5::text), $6::text FROM d)
       SELECT id, version, attached_object_type, attached_object_id FROM d`,
      [ids, now, objectType, references.name, owner, actor ?? null],
    );
    for (const row of attached) removed.push({ kind: references, id: Number(row.id), version: Number(row.version) });
    const eventIds = attached.filter((row) => row.attached_object_type === `${API_VERSION}.Event`).map((row) => Number(row.attached_object_id));
    if (eventIds.length > 0) await remove(events, 'id', eventIds);
    // References to these objects from others (IDs are unique across kinds).
    await remove(references, 'attached_object_id', ids);
  }
  return removed;
}
