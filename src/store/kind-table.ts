import type { ScalarField, ValueType } from '../model/fields.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import { storedScalars } from './schema.ts';
import { isStorableInstant, isStorableInteger } from './storable-values.ts';

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
  /** $1 id — whether the object is live, without locking it. */
  readonly live: string;
  /** $1 id, $2 now, $3 kind, $4 snapshot, $5… columns, then subject, message id, payload when notifying. */
  readonly insert: Readonly<Record<'plain' | 'notify', string>>;
  /** $1 id, $2 expected version, $3 new version, $4 now, $5 kind, $6 operation, $7 snapshot, $8… columns, then the outbox values. */
  readonly update: Readonly<Record<'plain' | 'notify', string>>;
  /** $1 id, $2 new version, $3 now, $4 kind, $5 snapshot */
  readonly softDelete: string;
  /**
   * The insert or update that writes only if every referenced object (in `targets`, tables in
   * order; their IDs are the last parameters) is live, and keeps them so until it ends: one
   * statement instead of a transaction of locks. Zero rows back means a reference is gone (or, for
   * an update, the version moved).
   */
  guarded(write: 'insert' | 'update', notify: boolean, targets: readonly string[]): string;
}

/** Everything the store needs to move one kind between SQL rows and wire objects. */
export interface KindTable {
  readonly kind: Kind;
  readonly columns: readonly Column[];
  readonly byKey: ReadonlyMap<string, Column>;
  /**
   * `id, version, created_at::text AS created_at, updated_at::text AS updated_at, col…`: each item
   * starts with its column name (callers may prefix a table alias) and contains no ", ".
   */
  readonly selectList: string;
  readonly statements: KindStatements;
  toObject(row: Record<string, unknown>): ApiObject;
  /** SQL parameter for a wire value. */
  toParam(column: Column, value: unknown): unknown;
}

/** A stored value the read path could not turn into a wire value; it is left out of the object. */
export interface UnreadableValue {
  kind: string;
  id: number;
  field: string;
  reason: string;
}

let reportUnreadable: (value: UnreadableValue) => void = (value) =>
  process.emitWarning(`${value.kind} ${value.id}: ${value.field} cannot be read (${value.reason}); it is left out`);
const MAX_REPORTED = 10_000;

/** Where unreadable stored values are reported, once per table, object and field (the API server passes its logger). */
export function reportUnreadableValuesTo(report: (value: UnreadableValue) => void): void {
  reportUnreadable = report;
}

/** Reports each unreadable value of one table once; returns undefined, the value's stand-in. */
function unreadableReporter(kind: Kind): (id: number, field: string, reason: string) => undefined {
  const reported = new Set<string>();
  return (id, field, reason) => {
    const key = `${id}/${field}`;
    if (!reported.has(key)) {
      if (reported.size >= MAX_REPORTED) reported.clear();
      reported.add(key);
      reportUnreadable({ kind: kind.name, id, field, reason });
    }
    return undefined;
  };
}

/**
 * TIMESTAMPTZ as PostgreSQL prints it (DateStyle ISO, which the drivers assume as well), in any
 * session time zone: `2024-06-15 12:34:56.789+02`, `0001-12-31 19:03:58-04:56:02 BC`. Read as text
 * because the drivers' own parsing loses years below 100 (PGlite reads 0099 as 1999, 0013 as an
 * Invalid Date) and years that the session offset pushes past 9999.
 */
const PG_TIMESTAMPTZ = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?( BC)?$/;

/** Epoch milliseconds of a TIMESTAMPTZ printed as text; NaN when it is not in that form. */
export function parseTimestamptz(text: string): number {
  const m = PG_TIMESTAMPTZ.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years below 100 literally.
  date.setUTCFullYear(m[12] ? 1 - year : year, month - 1, day);
  date.setUTCHours(hour, minute, second, Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000));
  const offsetSeconds = (Number(m[9] ?? 0) * 60 + Number(m[10] ?? 0)) * 60 + Number(m[11] ?? 0);
  return date.getTime() - (m[8] === '-' ? -1 : 1) * offsetSeconds * 1000;
}

function readTime(value: unknown): string | undefined {
  const epochMs = value instanceof Date ? value.getTime() : parseTimestamptz(String(value));
  return isStorableInstant(epochMs) ? new Date(epochMs).toISOString() : undefined;
}

/** int8 arrives as a number (pg, with our parser), or as a bigint from PGlite past 2^53. */
function readInteger(value: unknown): number | undefined {
  const number = typeof value === 'bigint' ? Number(value) : value;
  return isStorableInteger(number) ? number : undefined;
}

type Unreadable = ReturnType<typeof unreadableReporter>;

/** The wire value of a stored column, or undefined (reported) when it cannot be returned faithfully. */
function readValue(unreadable: Unreadable, id: number, column: Pick<Column, 'key' | 'valueType'>, value: unknown): unknown {
  switch (column.valueType) {
    case 'time':
      return readTime(value) ?? unreadable(id, column.key, `not a timestamp between years 1 and 9999: ${String(value).slice(0, 40)}`);
    case 'integer':
      return readInteger(value) ?? unreadable(id, column.key, 'not an integer within ±(2^53 - 1)');
    default:
      return value;
  }
}

const timeColumn = (column: string): string => `${column}::text AS ${column}`;

export function kindTable(kind: Kind): KindTable {
  const columns: Column[] = storedScalars(kind).map(([field, spec]) => ({
    field,
    key: kind.jsonKey(field),
    column: kind.column(field),
    valueType: spec.valueType,
    spec,
  }));
  const byKey = new Map(columns.map((column) => [column.key, column]));
  const selectList = [
    'id',
    'version',
    timeColumn('created_at'),
    timeColumn('updated_at'),
    ...columns.map((c) => (c.valueType === 'time' ? timeColumn(c.column) : c.column)),
  ].join(', ');
  const unreadable = unreadableReporter(kind);
  const createdAt = { key: 'CreatedAt', valueType: 'time' } as const;
  const updatedAt = { key: 'UpdatedAt', valueType: 'time' } as const;

  return {
    kind,
    columns,
    byKey,
    selectList,
    statements: kindStatements(kind, columns, selectList),
    toObject(row) {
      const id = Number(row.id);
      const object: ApiObject = {
        ID: id,
        CreatedAt: readValue(unreadable, id, createdAt, row.created_at),
        UpdatedAt: readValue(unreadable, id, updatedAt, row.updated_at),
      };
      for (const column of columns) {
        const stored = row[column.column];
        if (stored == null) continue;
        const value = readValue(unreadable, id, column, stored);
        if (value !== undefined) object[column.key] = value;
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

/** `g0 AS (SELECT … FOR SHARE), …` for the referenced tables, their IDs from parameter `first` on. */
function guardCtes(targets: readonly string[], first: number): { ctes: string; condition: string } {
  return {
    ctes: targets.map((table, index) => `g${index} AS (SELECT 1 FROM ${table} WHERE id = $${first + index} AND deleted_at IS NULL FOR SHARE), `).join(''),
    condition: targets.map((_, index) => ` AND EXISTS (SELECT 1 FROM g${index})`).join(''),
  };
}

function kindStatements(kind: Kind, columns: readonly Column[], selectList: string): KindStatements {
  const insertParams = columns.length + 4;
  const updateParams = columns.length + 7;
  const insert = (notify: boolean, targets: readonly string[] = []): string => {
    const guards = guardCtes(targets, insertParams + (notify ? 3 : 0) + 1);
    const actor = insertParams + (notify ? 3 : 0) + targets.length + 1;
    const values = `$1, 1, $2, $2${columns.map((_, index) => `, $${index + 5}`).join('')}`;
    const source = targets.length > 0 ? `SELECT ${values} WHERE true${guards.condition}` : `VALUES (${values})`;
    return `WITH ${guards.ctes}o AS (INSERT INTO ${kind.table} (id, version, created_at, updated_at${columns.map((c) => `, ${c.column}`).join('')})
                ${source} RETURNING id),
          r AS (INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot, actor)
                SELECT id, 1, $3, 'Created', $2, $4, $${actor}::text FROM o)${notify ? outboxCte(insertParams + 1, 2) : ''}
     SELECT id FROM o`;
  };
  const update = (notify: boolean, targets: readonly string[] = []): string => {
    const guards = guardCtes(targets, updateParams + (notify ? 3 : 0) + 1);
    const actor = updateParams + (notify ? 3 : 0) + targets.length + 1;
    return `WITH ${guards.ctes}o AS (UPDATE ${kind.table} SET version = $3, updated_at = $4${columns.map((c, index) => `, ${c.column} = $${index + 8}`).join('')}
                WHERE id = $1 AND version = $2 AND deleted_at IS NULL${guards.condition} RETURNING id),
          r AS (INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot, actor)
                SELECT id, $3, $5, $6, $4, $7, $${actor}::text FROM o)${notify ? outboxCte(updateParams + 1, 4) : ''}
     SELECT id FROM o`;
  };
  const guarded = new Map<string, string>();
  return {
    get: `SELECT ${selectList} FROM ${kind.table} WHERE id = $1 AND deleted_at IS NULL`,
    lockLive: `SELECT 1 FROM ${kind.table} WHERE id = $1 AND deleted_at IS NULL FOR SHARE`,
    live: `SELECT 1 FROM ${kind.table} WHERE id = $1 AND deleted_at IS NULL`,
    insert: { plain: insert(false), notify: insert(true) },
    update: { plain: update(false), notify: update(true) },
    softDelete: `WITH o AS (UPDATE ${kind.table} SET version = $2, updated_at = $3, deleted_at = $3 WHERE id = $1 AND deleted_at IS NULL RETURNING id)
     INSERT INTO threeport_revisions (object_id, version, kind, operation, recorded_at, snapshot, actor)
     SELECT id, $2, $4, 'Deleted', $3, $5, $6::text FROM o`,
    guarded(write, notify, targets) {
      const key = `${write}|${notify}|${targets.join(',')}`;
      let statement = guarded.get(key);
      if (!statement) {
        statement = write === 'insert' ? insert(notify, targets) : update(notify, targets);
        guarded.set(key, statement);
      }
      return statement;
    },
  };
}
