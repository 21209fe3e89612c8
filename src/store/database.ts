/**
 * The one interface the store talks to: PostgreSQL/CockroachDB through `pg`, or embedded PGlite.
 * Same SQL, same code path; only the connection differs.
 */
export interface Queryable {
  /** Runs one statement; `prepare` asks for it to be prepared once per connection where the engine supports it. */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], prepare?: boolean): Promise<Row[]>;
}

export interface Database extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** Runs `work` in one transaction (READ COMMITTED), committing on success and rolling back on throw. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** A PostgreSQL error as both drivers report it. */
export interface DatabaseError extends Error {
  code: string;
  constraint?: string;
}

export function isDatabaseError(error: unknown): error is DatabaseError {
  const code = error instanceof Error ? (error as Partial<DatabaseError>).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

export const UNIQUE_VIOLATION = '23505';
export const SERIALIZATION_FAILURE = '40001';
