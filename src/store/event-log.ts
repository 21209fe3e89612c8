/**
 * Controller Events on objects, recorded the original's way (an Event, and an
 * AttachedObjectReference `v0.<Kind>` → `v0.Event`, so its tools find them), atomically: a repeat
 * of the same reason, type, note and reporting controller on the same object increments the
 * Event's Count (a new version) instead of adding another. One transaction, serialised per object
 * by a lock on the object's row, with one indexed query to find the earlier Event.
 */
import { notFound } from '../errors.ts';
import { API_VERSION, type ApiObject, type Kind } from '../model/kind.ts';
import type { Queryable } from './database.ts';
import type { KindTable } from './kind-table.ts';
import { insertRow, updateRow } from './row-writes.ts';

export interface EventRecord {
  /** The object the event is about. */
  kind: Kind;
  objectId: number;
  reason: string;
  type: string;
  note: string;
  reportingController: string;
  /** Who recorded it (its revision's writer). */
  actor?: string;
}

export interface EventTables {
  events: KindTable;
  references: KindTable;
}

/** `ids`: two IDs reserved before the transaction, used only when the Event is new. */
export async function recordEvent(tx: Queryable, tables: EventTables, record: EventRecord, ids: [number, number], now: string): Promise<{ event: ApiObject; created: boolean }> {
  const { events, references } = tables;
  const locked = await tx.query(`SELECT 1 FROM ${record.kind.table} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [record.objectId]);
  if (locked.length === 0) throw notFound(`${record.kind.name} with ID ${record.objectId} not found`);
  const objectType = `${API_VERSION}.${record.kind.name}`;
  const selectList = events.selectList.split(', ').map((column) => `e.${column}`).join(', ');
  const [row] = await tx.query(
    `SELECT ${selectList} FROM ${events.kind.table} e JOIN ${references.kind.table} a ON a.id = e.attached_object_reference_id
     WHERE a.object_type = $1 AND a.object_id = $2 AND a.attached_object_type = $3 AND a.deleted_at IS NULL AND e.deleted_at IS NULL
       AND e.reason = $4 AND e.type = $5 AND e.note IS NOT DISTINCT FROM $6 AND e.reporting_controller = $7
     ORDER BY e.id LIMIT 1`,
    [objectType, record.objectId, `${API_VERSION}.Event`, record.reason, record.type, record.note, record.reportingController],
    true,
  );
  if (row) {
    const existing = events.toObject(row);
    const version = Number(existing.Version);
    const event = { ...existing, Count: Number(existing.Count ?? 0) + 1, LastObservedTime: now, UpdatedAt: now, Version: version + 1 };
    // The object's lock serialises recorders, so the version cannot have moved.
    if (!(await updateRow(tx, events, event, version, 'Updated', now, undefined, record.actor))) throw new Error('event changed while its object was locked');
    return { event, created: false };
  }
  const [eventId, referenceId] = ids;
  const reference: ApiObject = {
    ID: referenceId,
    CreatedAt: now,
    UpdatedAt: now,
    ObjectType: objectType,
    ObjectID: record.objectId,
    AttachedObjectType: `${API_VERSION}.Event`,
    AttachedObjectID: eventId,
    Version: 1,
  };
  const event: ApiObject = {
    ID: eventId,
    CreatedAt: now,
    UpdatedAt: now,
    AttachedObjectReferenceID: referenceId,
    Reason: record.reason,
    Note: record.note,
    Count: 1,
    EventTime: now,
    LastObservedTime: now,
    Type: record.type,
    ReportingController: record.reportingController,
    Version: 1,
  };
  await insertRow(tx, references, reference, now, undefined, record.actor);
  await insertRow(tx, events, event, now, undefined, record.actor);
  return { event, created: true };
}
