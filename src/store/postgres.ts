import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Database, Queryable } from './database.ts';

const INT8_OID = 20;

/** IDs and counts are BIGINT; every value we store is below 2^53, so numbers are exact. */
function parseTypes(oid: number, format?: string): (value: string) => unknown {
  if (oid === INT8_OID) return (value) => Number(value);
  return pg.types.getTypeParser(oid, format as 'text');
}

/**
 * Prepared statements are named after their text: PostgreSQL truncates long names, and a name
 * must never stand for two different statements on one connection.
 */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `tp_${createHash('sha1').update(text).digest('base64url')}`;
    statementNames.set(text, name);
  }
  return name;
}

class PoolQueryable implements Queryable {
  readonly #client: pg.Pool | pg.PoolClient;
  constructor(client: pg.Pool | pg.PoolClient) {
    this.#client = client;
  }
  async query<Row>(text: string, params: readonly unknown[] = [], prepare?: boolean): Promise<Row[]> {
    const prepared = prepare ? { name: statementName(text) } : {};
    const result = await this.#client.query({ text, values: params as unknown[], ...prepared });
    return result.rows as Row[];
  }
}

export async function openPostgres(url: string, options: { maxConnections?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 16,
    types: { getTypeParser: parseTypes },
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const client = await pool.connect();
  client.release();
  const queryable = new PoolQueryable(pool);
  return {
    engine: 'postgres',
    query: (text, params, prepare) => queryable.query(text, params, prepare),
    async transaction(work) {
      const connection = await pool.connect();
      try {
        await connection.query('BEGIN');
        const result = await work(new PoolQueryable(connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        connection.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}
