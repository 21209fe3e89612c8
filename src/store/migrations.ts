import { randomInt, randomUUID } from 'node:crypto';
import type { Registry } from '../model/registry.ts';
import { isDatabaseError, UNIQUE_VIOLATION, type Database, type Queryable } from './database.ts';
import { coreDdl, fingerprint, ID_BLOCK_SIZE, registryDdl, type DdlStatement, type UniqueRule } from './schema.ts';

/**
 * A change the registry cannot express additively (renames, type changes, data moves).
 * Append new ones; never edit one that has shipped.
 */
interface Migration {
  version: number;
  name: string;
  up(tx: Queryable): Promise<void>;
}

const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'core tables: object ids, revisions, outbox',
    async up(tx) {
      for (const statement of coreDdl.split(';').map((s) => s.trim()).filter(Boolean)) await tx.query(statement);
    },
  },
  {
    version: 2,
    name: 'object IDs start at a random point',
    // IDs then differ between control planes (as the original's unique_rowid IDs do), so what several
    // control planes put into one cluster — ThreeportWorkload names, instance labels — never collides.
    async up(tx) {
      const [sequence] = await tx.query<{ is_called: boolean }>('SELECT is_called FROM threeport_object_ids');
      if (sequence?.is_called) return; // IDs were handed out already
      const start = 1 + ID_BLOCK_SIZE * randomInt(2 ** 24, 2 ** 44);
      await tx.query("SELECT setval('threeport_object_ids', $1, false)", [start]);
    },
  },
  {
    version: 3,
    name: 'the control plane’s identity',
    // Labels what this control plane puts into clusters, so agents and controllers of others
    // sharing a cluster leave it alone.
    async up(tx) {
      await tx.query('CREATE TABLE IF NOT EXISTS threeport_installation (singleton BOOLEAN PRIMARY KEY, id TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)');
      await tx.query('INSERT INTO threeport_installation (singleton, id, created_at) VALUES (true, $1, $2) ON CONFLICT (singleton) DO NOTHING', [randomUUID(), new Date()]);
    },
  },
  {
    version: 4,
    name: 'who wrote each revision; the control plane’s certificate authority',
    // The CA's key is kept here, encrypted with the control plane's key, and never leaves the API.
    async up(tx) {
      await tx.query('ALTER TABLE threeport_revisions ADD COLUMN IF NOT EXISTS actor TEXT');
      await tx.query(`CREATE TABLE IF NOT EXISTS threeport_certificate_authority (
        singleton BOOLEAN PRIMARY KEY, certificate TEXT NOT NULL, private_key TEXT NOT NULL, subject JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL)`);
    },
  },
];

/** The control plane's identity (one per database). */
export async function controlPlaneId(db: Queryable): Promise<string> {
  const [row] = await db.query<{ id: string }>('SELECT id FROM threeport_installation');
  if (!row) throw new Error('the database has no control plane identity: run the migrations');
  return row.id;
}

const MIGRATION_LOCK = 7_410_123_007;

/**
 * Brings the database schema up to date at start-up: numbered migrations first, then the
 * registry's kind tables, columns and indexes (idempotent, skipped when unchanged).
 */
export async function migrate(db: Database, registry: Registry): Promise<{ applied: string[] }> {
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    // Serialises API replicas starting together — before any DDL, since two concurrent
    // CREATE TABLE IF NOT EXISTS of one table collide in pg_type. Where advisory locks don't exist
    // (CockroachDB) the failed call must not abort the transaction, hence the savepoint.
    await tx.query('SAVEPOINT migration_lock');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]).catch(() => tx.query('ROLLBACK TO SAVEPOINT migration_lock'));
    await tx.query(`CREATE TABLE IF NOT EXISTS threeport_schema_migrations (
      version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS threeport_schema_state (
      singleton BOOLEAN PRIMARY KEY, registry_fingerprint TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`);
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM threeport_schema_migrations')).map((r) => Number(r.version)));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await migration.up(tx);
      await tx.query('INSERT INTO threeport_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        new Date(),
      ]);
      applied.push(`${migration.version} ${migration.name}`);
    }

    const statements = registryDdl(registry);
    const wanted = fingerprint(statements);
    const [state] = await tx.query<{ registry_fingerprint: string }>('SELECT registry_fingerprint FROM threeport_schema_state');
    if (state?.registry_fingerprint !== wanted) {
      for (const statement of statements) await runDdl(tx, statement);
      await tx.query(
        `INSERT INTO threeport_schema_state (singleton, registry_fingerprint, updated_at) VALUES (true, $1, $2)
         ON CONFLICT (singleton) DO UPDATE SET registry_fingerprint = excluded.registry_fingerprint, updated_at = excluded.updated_at`,
        [wanted, new Date()],
      );
      applied.push(`registry schema ${wanted.slice(0, 12)}`);
    }
  });
  return { applied };
}

/** The schema cannot be brought up to date until someone changes rows in the database. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

async function runDdl(tx: Queryable, statement: DdlStatement): Promise<void> {
  try {
    await tx.query(statement.sql);
  } catch (error) {
    // Rows written before the rule existed (an older version, or by hand) break it.
    if (statement.unique && isDatabaseError(error) && error.code === UNIQUE_VIOLATION) {
      throw new MigrationError(duplicatesMessage(statement.unique, (error as { detail?: unknown }).detail), { cause: error });
    }
    throw error;
  }
}

function duplicatesMessage(rule: UniqueRule, detail: unknown): string {
  const which = typeof detail === 'string' && detail ? ` (${detail.replace(/\.$/, '')})` : '';
  const fields = rule.fields.join(', ');
  const broken =
    rule.rule === 'exclusive'
      ? `more than one live ${rule.kind} has ${fields} set${which}, and at most one may`
      : rule.rule === 'name'
        ? `live ${rule.kind} objects share a Name${which}, and names are unique per kind`
        : `live ${rule.kind} objects have the same ${fields}${which}, and no two may`;
  const fix = rule.rule === 'exclusive' ? `set ${fields} to false on all but one of them` : 'remove the duplicate rows (or rename them)';
  return `cannot update the database schema: ${broken}; the unique index ${rule.index} on ${rule.table} cannot be created. Fix the rows in ${rule.table} — ${fix} — then start again`;
}
