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

export const storedScalars = (kind: Kind): [string, ScalarField][] =>
  kind.scalarFields
    .map((name) => [name, kind.fields[name] as ScalarField] as [string, ScalarField])
    .filter(([, field]) => !field.transient);

/** PostgreSQL truncates identifiers at 63 bytes; shorten deterministically so IF NOT EXISTS keeps working. */
function identifier(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 54)}_${createHash('sha1').update(name).digest('hex').slice(0, 8)}`;
}

/** Idempotent DDL for one kind: table, missing columns, indexes. Additive only. */
export function kindDdl(kind: Kind): string[] {
  const columns = storedScalars(kind).map(([name, field]) => {
    const notNull = field.required ? ' NOT NULL' : '';
    return `${kind.column(name)} ${sqlTypes[field.valueType]}${notNull}`;
  });
  const statements = [
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
  ];
  const live = 'WHERE deleted_at IS NULL';
  if (kind.uniqueName) {
    statements.push(`CREATE UNIQUE INDEX IF NOT EXISTS ${identifier(`${kind.table}_name_live`)} ON ${kind.table} (name) ${live}`);
  }
  for (const fields of kind.uniqueTogether) {
    const columnsOf = fields.map((field) => kind.column(field));
    statements.push(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${identifier(`${kind.table}_${columnsOf.join('_')}_live`)} ON ${kind.table} (${columnsOf.join(', ')}) ${live}`,
    );
  }
  for (const flag of kind.exclusiveFlags) {
    const column = kind.column(flag);
    statements.push(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${identifier(`${kind.table}_${column}_exclusive`)} ON ${kind.table} (${column}) ${live} AND ${column}`,
    );
  }
  for (const [name, field] of storedScalars(kind)) {
    if (field.references) {
      const column = kind.column(name);
      statements.push(`CREATE INDEX IF NOT EXISTS ${identifier(`${kind.table}_${column}_ix`)} ON ${kind.table} (${column}) ${live}`);
    }
  }
  if ('Reconciled' in kind.fields) {
    statements.push(`CREATE INDEX IF NOT EXISTS ${identifier(`${kind.table}_reconciled_ix`)} ON ${kind.table} (reconciled, id) ${live}`);
  }
  return statements;
}

export const registryDdl = (registry: Registry): string[] => registry.kinds.flatMap(kindDdl);

export const fingerprint = (statements: readonly string[]): string =>
  createHash('sha256').update(statements.join(';\n')).digest('hex');
