import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
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

/** A data directory that cannot be used as it is: the operator's to fix, as the message says. */
export class DataDirectoryError extends Error {}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Copies of processes that crashed while making a data directory (`<dir>.<pid>.partial`). */
function removeAbandonedCopies(dir: string): void {
  const prefix = `${basename(dir)}.`;
  const siblings = existsSync(dirname(dir)) ? readdirSync(dirname(dir)) : [];
  for (const entry of siblings) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.partial')) continue;
    const pid = Number(entry.slice(prefix.length, -'.partial'.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) rmSync(join(dirname(dir), entry), { recursive: true, force: true });
  }
}

/**
 * Fills `dataDir` (absent or empty) whole or not at all: a crash halfway leaves no half a
 * database, and of two processes making it at once one wins and the other uses its database.
 * Says where the database came from.
 */
async function createDataDir(dataDir: string): Promise<'template' | 'initdb' | 'made by another'> {
  const template = templateDir();
  removeAbandonedCopies(dataDir);
  removeAbandonedCopies(template);
  const partial = `${dataDir}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const fromTemplate = existsSync(join(template, 'PG_VERSION'));
  if (fromTemplate) {
    cpSync(template, partial, { recursive: true });
  } else {
    await (await PGlite.create(partial, { startParams })).close();
    const templatePartial = `${template}.${process.pid}.partial`;
    try {
      cpSync(partial, templatePartial, { recursive: true });
      renameSync(templatePartial, template);
    } catch {
      // Only a speed-up for the next new data directory (another process may have made it first).
      rmSync(templatePartial, { recursive: true, force: true });
    }
  }
  chmodSync(partial, 0o700);
  try {
    if (existsSync(dataDir)) rmdirSync(dataDir); // only if empty
    renameSync(partial, dataDir);
    return fromTemplate ? 'template' : 'initdb';
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (existsSync(join(dataDir, 'PG_VERSION'))) return 'made by another';
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new DataDirectoryError(`${dataDir} holds files but no database: move them away or choose another data directory`, { cause: error });
    throw error;
  }
}

/** The embedded database: PostgreSQL compiled to WebAssembly, persisted in `dataDir`. */
export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o700 });
  const made = existsSync(join(dataDir, 'PG_VERSION')) ? undefined : await createDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir, { startParams });
  } catch (error) {
    if (made !== 'template') throw error;
    // A damaged template: made again by initdb, which replaces it.
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(templateDir(), { recursive: true, force: true });
    await createDataDir(dataDir);
    db = await PGlite.create(dataDir, { startParams });
  }
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
