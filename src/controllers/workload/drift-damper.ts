/**
 * Keeps threeport from fighting another controller over a resource. When something in the cluster
 * (an autoscaler changing replicas, an operator rewriting a field) changes a resource again and
 * again, correcting it each time is a loop neither side wins: after `limit` corrections within
 * `windowMs`, further corrections of that resource wait `pauseMs` after the previous one.
 */
export interface DriftDamperOptions {
  /** @default 3 */
  limit?: number;
  /** @default 600000 (10 minutes) */
  windowMs?: number;
  /** @default 300000 (5 minutes) */
  pauseMs?: number;
  /** Resources remembered at most (least recently corrected forgotten first). @default 100000 */
  capacity?: number;
}

export class DriftDamper {
  readonly #corrections = new Map<string, number[]>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #pauseMs: number;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: DriftDamperOptions = {}, now: () => number = () => performance.now()) {
    this.#limit = options.limit ?? 3;
    this.#windowMs = options.windowMs ?? 600_000;
    this.#pauseMs = options.pauseMs ?? 300_000;
    this.#capacity = options.capacity ?? 100_000;
    this.#now = now;
  }

  /** Milliseconds until the resource may be corrected again; 0 when it may be now. */
  pausedFor(id: string): number {
    const recent = this.#recent(id);
    if (recent.length < this.#limit) return 0;
    return Math.max(0, recent[recent.length - 1]! + this.#pauseMs - this.#now());
  }

  /** Notes a correction; true when this one starts the pauses (the time to warn). */
  corrected(id: string): boolean {
    const before = this.#recent(id);
    const recent = [...before, this.#now()].slice(-this.#limit);
    this.#corrections.delete(id);
    this.#corrections.set(id, recent);
    if (this.#corrections.size > this.#capacity) this.#corrections.delete(this.#corrections.keys().next().value!);
    return before.length === this.#limit - 1;
  }

  forget(prefix: string): void {
    for (const id of this.#corrections.keys()) if (id.startsWith(prefix)) this.#corrections.delete(id);
  }

  #recent(id: string): number[] {
    const since = this.#now() - this.#windowMs;
    return (this.#corrections.get(id) ?? []).filter((time) => time >= since);
  }
}
