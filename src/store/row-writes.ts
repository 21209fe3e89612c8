/**
 * The three row writes, each one statement that also records the object's revision and, when a
 * notification is given, queues it in the outbox (see kind-table.ts for the SQL).
 */
import type { ApiObject } from '../model/kind.ts';
import type { Notification } from '../model/notification.ts';
import type { RevisionOperation } from './object-store.ts';
import type { Queryable } from './database.ts';
import type { KindTable } from './kind-table.ts';

const columnParams = (table: KindTable, wire: ApiObject): unknown[] => table.columns.map((c) => table.toParam(c, wire[c.key]));
const outboxParams = (entry: Notification | undefined): unknown[] => (entry ? [entry.subject, entry.messageId, entry.payload] : []);

/** Objects a write must find live: their tables and IDs. */
export interface Guard {
  table: string;
  id: number;
}

/** Inserts the row; with `guards`, only if each referenced object is live — false when one is not. */
export async function insertRow(
  q: Queryable,
  table: KindTable,
  wire: ApiObject,
  now: string,
  entry: Notification | undefined,
  actor: string | undefined,
  guards: readonly Guard[] = [],
): Promise<boolean> {
  const params = [wire.ID, now, table.kind.name, JSON.stringify(wire), ...columnParams(table, wire), ...outboxParams(entry), ...guards.map((guard) => guard.id), actor ?? null];
  const notify = entry ? 'notify' : 'plain';
  const statement = guards.length > 0 ? table.statements.guarded('insert', Boolean(entry), guards.map((guard) => guard.table)) : table.statements.insert[notify];
  const rows = await q.query(statement, params, true);
  return rows.length === 1;
}

/** Writes `wire` over the stored row if it is still at `version` (and, with `guards`, its references are live); false otherwise. */
export async function updateRow(
  q: Queryable,
  table: KindTable,
  wire: ApiObject,
  version: number,
  operation: RevisionOperation,
  now: string,
  entry: Notification | undefined,
  actor: string | undefined,
  guards: readonly Guard[] = [],
): Promise<boolean> {
  const params = [wire.ID, version, version + 1, now, table.kind.name, operation, JSON.stringify(wire), ...columnParams(table, wire), ...outboxParams(entry), ...guards.map((guard) => guard.id), actor ?? null];
  const statement = guards.length > 0 ? table.statements.guarded('update', Boolean(entry), guards.map((guard) => guard.table)) : table.statements.update[entry ? 'notify' : 'plain'];
  const rows = await q.query(statement, params, true);
  return rows.length === 1;
}

/** Marks the row deleted (soft delete, as the original) and records the final revision. */
export async function softDeleteRow(q: Queryable, table: KindTable, deleted: ApiObject, now: string, actor: string | undefined): Promise<void> {
  await q.query(table.statements.softDelete, [deleted.ID, deleted.Version, now, table.kind.name, JSON.stringify(deleted), actor ?? null], true);
}

/** Queues a notification without changing any object, if the object `id` is live; false when it is not. */
export async function queueNotification(q: Queryable, table: KindTable, id: number, entry: Notification, now: string): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO threeport_outbox (subject, message_id, payload, created_at)
     SELECT $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM ${table.kind.table} WHERE id = $1 AND deleted_at IS NULL) RETURNING seq`,
    [id, entry.subject, entry.messageId, entry.payload, now],
  );
  return rows.length === 1;
}
