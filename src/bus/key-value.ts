/**
 * The small key-value contract the controller runtime needs for its per-object locks: atomic
 * create, compare-and-set update and delete by revision. NATS KV provides it in production; the
 * in-process twin below provides it in embedded mode.
 */
export interface KeyValueEntry {
  value: string;
  /** Changes on every write; the handle for compare-and-set. */
  revision: number;
}

export interface KeyValueStore {
  /** Writes `value` only if `key` holds nothing; throws KeyValueConflict otherwise. Returns the revision. */
  create(key: string, value: string): Promise<number>;
  get(key: string): Promise<KeyValueEntry | undefined>;
  /** Writes `value` only if `key` is still at `revision`; throws KeyValueConflict otherwise. */
  update(key: string, value: string, revision: number): Promise<number>;
  /** Deletes `key` only if it is still at `revision`; throws KeyValueConflict otherwise. */
  delete(key: string, revision: number): Promise<void>;
}

/** The key exists (create) or moved on since the revision given (update, delete). */
export class KeyValueConflict extends Error {
  constructor(key: string) {
    super(`key ${key} was changed by someone else`);
    this.name = 'KeyValueConflict';
  }
}

export const isKeyValueConflict = (error: unknown): error is KeyValueConflict => error instanceof KeyValueConflict;

/** The in-process key-value store of the embedded mode. */
export class MemoryKeyValue implements KeyValueStore {
  readonly #entries = new Map<string, KeyValueEntry>();
  #revision = 0;

  async create(key: string, value: string): Promise<number> {
    if (this.#entries.has(key)) throw new KeyValueConflict(key);
    return this.#write(key, value);
  }

  async get(key: string): Promise<KeyValueEntry | undefined> {
    const entry = this.#entries.get(key);
    return entry && { ...entry };
  }

  async update(key: string, value: string, revision: number): Promise<number> {
    if (this.#entries.get(key)?.revision !== revision) throw new KeyValueConflict(key);
    return this.#write(key, value);
  }

  async delete(key: string, revision: number): Promise<void> {
    if (this.#entries.get(key)?.revision !== revision) throw new KeyValueConflict(key);
    this.#entries.delete(key);
  }

  #write(key: string, value: string): number {
    const revision = ++this.#revision;
    this.#entries.set(key, { value, revision });
    return revision;
  }
}
