import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
 * A new data directory starts as a copy of a pristine one, dumped once per machine and PGlite
 * version: PGlite's own initdb (WebAssembly) takes several seconds, loading the copy one.
 */
function templatePath(): string {
  const cache = process.env.THREEPORT_CACHE ?? join(homedir(), '.cache', 'threeport');
  return join(cache, `pglite-${pgliteVersion()}-template.tar.gz`);
}

async function createDataDir(dataDir: string): Promise<PGlite> {
  const template = templatePath();
  if (existsSync(template)) {
    try {
      return await PGlite.create(dataDir, { loadDataDir: new Blob([readFileSync(template)]) });
    } catch {
      // A damaged template: fall through to a plain initdb, which also replaces it.
    }
  }
  const db = await PGlite.create(dataDir);
  try {
    const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
    mkdirSync(join(template, '..'), { recursive: true });
    const partial = `${template}.${process.pid}.partial`;
    writeFileSync(partial, dump);
    renameSync(partial, template);
  } catch {
    // Only a speed-up for the next new data directory.
  }
  return db;
}

/** The embedded database: PostgreSQL compiled to WebAssembly, persisted in `dataDir`. */
export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = existsSync(join(dataDir, 'PG_VERSION')) ? await PGlite.create(dataDir) : await createDataDir(dataDir);
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
