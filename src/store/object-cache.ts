import type { ApiObject } from '../model/kind.ts';

interface Entry {
  version: number;
  /** Absent for an object that was deleted. */
  object?: ApiObject;
}

/**
 * Recently used objects by kind and ID, for a database this process alone writes (the embedded
 * one). Entries carry the object's version and only ever move forward, so a slow read of an old
 * row can never replace what a newer write put here; a deletion leaves a tombstone.
 */
export class ObjectCache {
  readonly #entries = new Map<string, Entry>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  /** `undefined`: not cached; `null`: known deleted. */
  get(kind: string, id: number): ApiObject | null | undefined {
    const key = `${kind}:${id}`;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.object ?? null;
  }

  /** Records `object` (or, without one, the deletion) at `version`, unless a newer one is known. */
  put(kind: string, id: number, version: number, object?: ApiObject): void {
    const key = `${kind}:${id}`;
    const current = this.#entries.get(key);
    if (current && current.version >= version) return;
    this.#entries.delete(key);
    this.#entries.set(key, object ? { version, object: Object.freeze(object) } : { version });
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
