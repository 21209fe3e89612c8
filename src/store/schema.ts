import { createHash } from 'node:crypto';
import type { ScalarField, ValueType } from '../model/fields.ts';
import type { Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';

const sqlTypes: Record<ValueType, string> = {
  string: 'TEXT',
  integer: 'BIGINT',
  boolean: 'BOOLEAN',
  time: 'TIMESTAMPTZ',
  json: 'JSONB',
};

/** Object IDs come from one sequence shared by every kind, handed out in blocks of this size. */
export const ID_BLOCK_SIZE = 64;

/** Tables that are not kinds: ID allocation, revision history, the notification outbox. */
export const coreDdl = `
CREATE SEQUENCE IF NOT EXISTS threeport_object_ids INCREMENT BY ${ID_BLOCK_SIZE} START WITH 1;
CREATE TABLE IF NOT EXISTS threeport_revisions (
  object_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  kind TEXT NOT NULL,
  operation TEXT NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  snapshot JSONB NOT NULL,
  PRIMARY KEY (object_id, version)
);
CREATE SEQUENCE IF NOT EXISTS threeport_outbox_seq;
CREATE TABLE IF NOT EXISTS threeport_outbox (
  seq BIGINT PRIMARY KEY DEFAULT nextval('threeport_outbox_seq'),
  subject TEXT NOT NULL,
  message_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
`;

export const storedScalars = (kind: Kind): [string, ScalarField][] => kind.scalarFields.map((name) => [name, kind.fields[name] as ScalarField]);

/** PostgreSQL truncates identifiers at 63 bytes; shorten deterministically so IF NOT EXISTS keeps working. */
function identifier(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 54)}_${createHash('sha1').update(name).digest('hex').slice(0, 8)}`;
}

/** What a unique index keeps unique, to say what to do when existing rows violate it. */
export interface UniqueRule {
  kind: string;
  table: string;
  index: string;
  fields: readonly string[];
  /** `name`: one live object per Name; `together`: per combination of the fields; `exclusive`: at most one live object with the flag set. */
  rule: 'name' | 'together' | 'exclusive';
}

/** One idempotent schema statement; a unique index says what it keeps unique. */
export interface DdlStatement {
  sql: string;
  unique?: UniqueRule;
}

/** Idempotent DDL for one kind: table, missing columns, indexes. Additive only. */
export function kindDdl(kind: Kind): DdlStatement[] {
  const columns = storedScalars(kind).map(([name, field]) => {
    const notNull = field.required ? ' NOT NULL' : '';
    return `${kind.column(name)} ${sqlTypes[field.valueType]}${notNull}`;
  });
  const statements: DdlStatement[] = [
    `CREATE TABLE IF NOT EXISTS ${kind.table} (
  id BIGINT PRIMARY KEY,
  version BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  deleted_at TIMESTAMPTZ${columns.map((column) => `,\n  ${column}`).join('')}
)`,
    ...storedScalars(kind).map(
      ([name, field]) => `ALTER TABLE ${kind.table} ADD COLUMN IF NOT EXISTS ${kind.column(name)} ${sqlTypes[field.valueType]}`,
    ),
  ].map((sql) => ({ sql }));
  const live = 'WHERE deleted_at IS NULL';
  const unique = (index: string, fields: readonly string[], rule: UniqueRule['rule']): UniqueRule => ({ kind: kind.name, table: kind.table, index, fields, rule });
  if (kind.uniqueName) {
    const index = identifier(`${kind.table}_name_live`);
    statements.push({ sql: `CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${kind.table} (name) ${live}`, unique: unique(index, ['Name'], 'name') });
  }
  for (const fields of kind.uniqueTogether) {
    const columnsOf = fields.map((field) => kind.column(field));
    const index = identifier(`${kind.table}_${columnsOf.join('_')}_live`);
    statements.push({ sql: `CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${kind.table} (${columnsOf.join(', ')}) ${live}`, unique: unique(index, fields, 'together') });
  }
  for (const flag of kind.exclusiveFlags) {
    const column = kind.column(flag);
    const index = identifier(`${kind.table}_${column}_exclusive`);
    statements.push({ sql: `CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${kind.table} (${column}) ${live} AND ${column}`, unique: unique(index, [flag], 'exclusive') });
  }
  for (const [name, field] of storedScalars(kind)) {
    if (field.references || field.indexed) {
      const column = kind.column(name);
      statements.push({ sql: `CREATE INDEX IF NOT EXISTS ${identifier(`${kind.table}_${column}_ix`)} ON ${kind.table} (${column}) ${live}` });
    }
  }
  if ('Reconciled' in kind.fields) {
    statements.push({ sql: `CREATE INDEX IF NOT EXISTS ${identifier(`${kind.table}_reconciled_ix`)} ON ${kind.table} (reconciled, id) ${live}` });
  }
  return statements;
}

export const registryDdl = (registry: Registry): DdlStatement[] => registry.kinds.flatMap(kindDdl);

export const fingerprint = (statements: readonly DdlStatement[]): string =>
  createHash('sha256').update(statements.map((statement) => statement.sql).join(';\n')).digest('hex');
