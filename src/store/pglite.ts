import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.ts';

/** PGlite's version, which keys the template (its package.json is not among its exports). */
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
}

/**
 * A new data directory starts as a copy of a pristine one, kept once per machine and PGlite
 * version: PGlite's own initdb (WebAssembly) takes seconds. The copy is made on disk, not through
 * PGlite's `loadDataDir`, which unpacks the tarball in memory and leaves the process ~70 MB larger
 * for good (freed malloc memory is not given back).
 */
function templateDir(): string {
  const cache = process.env.THREEPORT_CACHE ?? join(homedir(), '.cache', 'threeport');
  return join(cache, `pglite-${pgliteVersion()}-template`);
}

/**
 * PostgreSQL's shared buffers live in PGlite's WebAssembly memory and are written through at
 * start, so each MB is resident from then on: 16 MB instead of initdb's 128 MB saves ~110 MB of
 * RSS. Reads beyond them come from the OS page cache of the data directory's files.
 */
const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/** Fills `dataDir` (absent or empty) whole or not at all: a crash halfway leaves no half a database. */
async function createDataDir(dataDir: string): Promise<void> {
  const partial = `${dataDir}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const template = templateDir();
  if (existsSync(join(template, 'PG_VERSION'))) {
    cpSync(template, partial, { recursive: true });
  } else {
    await (await PGlite.create(partial, { startParams })).close();
    try {
      const templatePartial = `${template}.${process.pid}.partial`;
      cpSync(partial, templatePartial, { recursive: true });
      renameSync(templatePartial, template);
    } catch {
      // Only a speed-up for the next new data directory (another process may have made it first).
    }
  }
  chmodSync(partial, 0o700);
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(partial, dataDir);
}

/** The embedded database: PostgreSQL compiled to WebAssembly, persisted in `dataDir`. */
export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o700 });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await createDataDir(dataDir);
  const db = await PGlite.create(dataDir, { startParams });
  const queryable = (target: Pick<PGlite, 'query'>): Queryable => ({
    async query<Row>(text: string, params: readonly unknown[] = []) {
      const result = await target.query<Row>(text, params as unknown[]);
      return result.rows;
    },
  });
  const root = queryable(db);
  return {
    engine: 'pglite',
    query: (text, params) => root.query(text, params),
    transaction: (work) => db.transaction((tx) => work(queryable(tx))),
    async exec(sql) {
      await db.exec(sql);
    },
    close: () => db.close(),
  };
}
