import type { ScalarField, ValueType } from '../model/fields.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import { storedScalars } from './schema.ts';

/** A stored scalar field: where it lives in SQL and on the wire. */
export interface Column {
  readonly field: string;
  /** Key on the wire (and in stored objects). */
  readonly key: string;
  readonly column: string;
  readonly valueType: ValueType;
  readonly spec: ScalarField;
}

/**
 * The kind's statements, built once. Each write also records the revision and, in the `notify`
 * variant, queues the notification in the outbox — all in the same statement.
 */
export interface KindStatements {
  /** $1 id */
  readonly get: string;
  /** $1 id — locks the row against deletion until the caller's transaction ends. */
  readonly lockLive: string;
  /** $1 id, $2 now, $3 kind, $4 snapshot, $5… columns, then subject, message id, payload when notifying. */
  readonly insert: Readonly<Record<'plain' | 'notify', string>>;
  /** $1 id, $2 expected version, $3 new version, $4 now, $5 kind, $6 operation, $7 snapshot, $8… columns, then the outbox values. */
  readonly update: Readonly<Record<'plain' | 'notify', string>>;
  /** $1 id, $2 new version, $3 now, $4 kind, $5 snapshot */
  readonly softDelete: string;
}

/** Everything the store needs to move one kind between SQL rows and wire objects. */
export interface KindTable {
  readonly kind: Kind;
  readonly columns: readonly Column[];
  readonly byKey: ReadonlyMap<string, Column>;
  /** `id, version, created_at, updated_at, col…` */
  readonly selectList: string;
  readonly statements: KindStatements;
  toObject(row: Record<string, unknown>): ApiObject;
  /** SQL parameter for a wire value. */
  toParam(column: Column, value: unknown): unknown;
}

const toIso = (value: unknown): string | undefined => {
  if (value == null) return undefined;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
};

export function kindTable(kind: Kind): KindTable {
  const columns: Column[] = storedScalars(kind).map(([field, spec]) => ({
    field,
    key: kind.jsonKey(field),
    column: kind.column(field),
    valueType: spec.valueType,
    spec,
  }));
  const byKey = new Map(columns.map((column) => [column.key, column]));
  const selectList = ['id', 'version', 'created_at', 'updated_at', ...columns.map((c) => c.column)].join(', ');

  return {
    kind,
    columns,
    byKey,
    selectList,
    statements: kindStatements(kind, columns, selectList),
    toObject(row) {
      const object: ApiObject = {
        ID: Number(row.id),
        CreatedAt: toIso(row.created_at),
        UpdatedAt: toIso(row.updated_at),
      };
      for (const column of columns) {
        const value = row[column.column];
        if (value == null) continue;
        object[column.key] = column.valueType === 'time' ? toIso(value) : value;
      }
      object.Version = Number(row.version);
      return object;
    },
    toParam(column, value) {
      if (value == null) return null;
      if (column.valueType === 'json') return JSON.stringify(value);
      return value;
    },
  };
}

/** The outbox insert that joins a write's CTE; its three values follow the write's own parameters. */
function outboxCte(firstParam: number, nowParam: number): string {
  return `, n AS (INSERT INTO threeport_outbox (subject, message_id, payload, created_at)
                  SELECT $${firstParam}, $${firstParam + 1}, $${firstParam + 2}, $${nowParam} FROM o)`;
}

function kindStatements(kind: Kind, columns: readonly Column[], selectList: string): KindStatements {
  const insert = (notify: boolean): string =>
    `WITH o AS (INSERT INTO ${kind.table} (id, version, created_at, updated_at${columns.map((c) => `, ${c.column}`).join('')})
                VALUES ($1, 1, $2, $2${columns.map((_, index) => `, $${index + 5}`).join('')}) RETURNING id),
          r AS (INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot)
                SELECT id, 1, $3, 'Created', $2, $4 FROM o)${notify ? outboxCte(columns.length + 5, 2) : ''}
     SELECT id FROM o`;
  const update = (notify: boolean): string =>
    `WITH o AS (UPDATE ${kind.table} SET version = $3, updated_at = $4${columns.map((c, index) => `, ${c.column} = $${index + 8}`).join('')}
                WHERE id = $1 AND version = $2 AND deleted_at IS NULL RETURNING id),
          r AS (INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot)
                SELECT id, $3, $5, $6, $4, $7 FROM o)${notify ? outboxCte(columns.length + 8, 4) : ''}
     SELECT id FROM o`;
  return {
    get: `SELECT ${selectList} FROM ${kind.table} WHERE id = $1 AND deleted_at IS NULL`,
    lockLive: `SELECT 1 FROM ${kind.table} WHERE id = $1 AND deleted_at IS NULL FOR SHARE`,
    insert: { plain: insert(false), notify: insert(true) },
    update: { plain: update(false), notify: update(true) },
    softDelete: `WITH o AS (UPDATE ${kind.table} SET version = $2, updated_at = $3, deleted_at = $3 WHERE id = $1 AND deleted_at IS NULL RETURNING id)
     INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot)
     SELECT id, $2, $4, 'Deleted', $3, $5 FROM o`,
  };
}
