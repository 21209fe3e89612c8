import type { Queryable } from './database.ts';
import { ID_BLOCK_SIZE } from './schema.ts';

/**
 * Hands out object IDs from blocks reserved on the shared sequence, so IDs are unique across all
 * kinds and all API replicas, stay below 2^53, and cost one round trip per block, not per object.
 */
export class IdAllocator {
  readonly #db: Queryable;
  #next = 0;
  #end = 0;
  #refill: Promise<void> | undefined;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * `count` IDs, reserved on the allocator's own connection. Call it before opening a transaction:
   * inside one, a block refill would wait for a connection the transaction holds (PGlite has one).
   */
  async reserve(count: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(await this.next());
    return ids;
  }

  async next(): Promise<number> {
    while (this.#next >= this.#end) {
      this.#refill ??= this.#reserveBlock().finally(() => (this.#refill = undefined));
      await this.#refill;
    }
    return this.#next++;
  }

  async #reserveBlock(): Promise<void> {
    const [row] = await this.#db.query<{ start: number }>("SELECT nextval('threeport_object_ids') AS start", [], true);
    const start = Number(row?.start);
    this.#next = start;
    this.#end = start + ID_BLOCK_SIZE;
  }
}
