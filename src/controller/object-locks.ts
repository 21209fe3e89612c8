import { isKeyValueConflict, type KeyValueStore } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';

/** A lock being held. Its holder rewrites it (a new revision) every third of the TTL. */
interface HeldValue {
  holder: string;
  /** Failures since the last success, carried across holders. */
  attempt: number;
}

/**
 * Nobody holds the object, but a retry is scheduled: the notification `carrier` (a stream
 * sequence) comes back after `waitMs`. Until then other notifications up to `version` add nothing.
 */
interface WaitingValue {
  waitMs: number;
  carrier: number;
  version?: number;
  attempt: number;
}

type LockValue = HeldValue | WaitingValue;

export type AcquireResult =
  | { state: 'acquired'; lease: Lease }
  /** Another holder is working on the object. */
  | { state: 'held'; holder: string }
  /** A retry of this object is already scheduled and this notification adds nothing newer. */
  | { state: 'covered' };

export interface ObjectLocksOptions {
  store: KeyValueStore;
  /** Written into the locks this process holds. */
  owner: string;
  ttlMs: number;
  logger: Logger;
  /** This process's clock; only ever compared with itself. */
  now?: () => number;
}

export interface AcquireRequest {
  key: string;
  /** Stream sequence of the notification being handled. */
  sequence: number;
  /** Object version the notification announced, if it said. */
  version?: number;
  /** Someone asked for this reconcile: a scheduled retry does not cover it. */
  requested?: boolean;
}

function parse(value: string): LockValue | undefined {
  try {
    const parsed = JSON.parse(value) as LockValue;
    return typeof parsed === 'object' && parsed !== null && ('holder' in parsed || 'waitMs' in parsed) ? parsed : undefined;
  } catch {
    return undefined; // the original's locks hold a bare controller UUID: treat as a foreign, expired lock
  }
}

/** How often the memory of observed revisions is swept. */
const SWEEP_EVERY = 1000;

/**
 * Per-object locks in a key-value store (NATS KV, or in memory). Expiry never compares clocks of
 * different machines: a lock is stale once this process has seen the same revision of it — no
 * heartbeat from its holder — for a whole TTL by its own clock. Released locks may leave a
 * "waiting" record that spaces out retries across every replica (backoff).
 */
export class ObjectLocks {
  readonly #options: ObjectLocksOptions;
  readonly #now: () => number;
  /** key → the revision last seen there and when (our clock) it was first seen. */
  readonly #seen = new Map<string, { revision: number; since: number }>();
  #calls = 0;

  constructor(options: ObjectLocksOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const { store } = this.#options;
    const { key } = request;
    this.#sweep();
    for (let round = 0; round < 3; round++) {
      try {
        return this.#acquired(key, await store.create(key, this.#held(0)), 0);
      } catch (error) {
        if (!isKeyValueConflict(error)) throw error;
      }
      const entry = await store.get(key);
      if (!entry) continue;
      const value = parse(entry.value);
      const unchangedFor = this.#unchangedFor(key, entry.revision);
      if (value && 'holder' in value && unchangedFor < this.#options.ttlMs) return { state: 'held', holder: value.holder };
      if (value && 'waitMs' in value && value.carrier !== request.sequence && unchangedFor < value.waitMs && !request.requested) {
        const newer = request.version !== undefined && value.version !== undefined && request.version > value.version;
        if (!newer) return { state: 'covered' };
      }
      const attempt = value?.attempt ?? 0;
      try {
        const revision = await store.update(key, this.#held(attempt), entry.revision);
        if (value && 'holder' in value) this.#options.logger.warn({ key, previousHolder: value.holder }, 'took over a lock its holder stopped refreshing');
        return this.#acquired(key, revision, attempt);
      } catch (error) {
        if (!isKeyValueConflict(error)) throw error;
      }
    }
    return { state: 'held', holder: 'unknown' };
  }

  /** For how long (our clock) the key has shown this revision; 0 the first time we see it. */
  #unchangedFor(key: string, revision: number): number {
    const now = this.#now();
    const seen = this.#seen.get(key);
    if (seen?.revision === revision) return now - seen.since;
    this.#seen.set(key, { revision, since: now });
    return 0;
  }

  /** Forgets observations older than any TTL or wait could matter for. */
  #sweep(): void {
    if (++this.#calls % SWEEP_EVERY !== 0) return;
    const horizon = this.#now() - 24 * 3600_000;
    for (const [key, seen] of this.#seen) if (seen.since < horizon) this.#seen.delete(key);
  }

  #held(attempt: number): string {
    return JSON.stringify({ holder: this.#options.owner, attempt } satisfies HeldValue);
  }

  #acquired(key: string, revision: number, attempt: number): AcquireResult {
    this.#seen.delete(key);
    const lease = new Lease({
      key,
      revision,
      attempt,
      store: this.#options.store,
      heartbeatMs: this.#options.ttlMs / 3,
      value: () => this.#held(attempt),
      logger: this.#options.logger,
    });
    return { state: 'acquired', lease };
  }
}

interface LeaseState {
  key: string;
  revision: number;
  attempt: number;
  store: KeyValueStore;
  heartbeatMs: number;
  value: () => string;
  logger: Logger;
}

/** A held lock. Refreshes itself until released; every write is compare-and-set on its revision. */
export class Lease {
  readonly key: string;
  /** Failures of this object since its last success. */
  readonly attempt: number;
  readonly #state: LeaseState;
  readonly #lost = new AbortController();
  #revision: number;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #ended = false;

  constructor(state: LeaseState) {
    this.#state = state;
    this.key = state.key;
    this.attempt = state.attempt;
    this.#revision = state.revision;
    this.#timer = setInterval(() => void this.#serial(() => this.#refresh()), state.heartbeatMs);
    this.#timer.unref();
  }

  /** False once another holder took the lock over (this one failed to refresh in time). */
  get held(): boolean {
    return !this.#lost.signal.aborted && !this.#ended;
  }

  /** Aborts when another holder takes the lock over: whatever runs under it must stop. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** Releases the lock. Never throws: a lock that can't be deleted expires on its own. */
  release(): Promise<void> {
    return this.#end(async () => {
      await this.#state.store.delete(this.key, this.#revision);
    });
  }

  /** Releases the lock into a waiting record: a retry by `carrier` after `waitMs`. */
  defer(waiting: { waitMs: number; carrier: number; version?: number; attempt: number }): Promise<void> {
    return this.#end(async () => {
      await this.#state.store.update(this.key, JSON.stringify(waiting satisfies WaitingValue), this.#revision);
    });
  }

  #end(write: () => Promise<void>): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    clearInterval(this.#timer);
    return this.#serial(async () => {
      if (this.#lost.signal.aborted) return;
      try {
        await write();
      } catch (error) {
        this.#state.logger.warn({ key: this.key, err: error }, 'could not release a lock; it expires on its own');
      }
    });
  }

  async #refresh(): Promise<void> {
    if (this.#ended || this.#lost.signal.aborted) return;
    try {
      this.#revision = await this.#state.store.update(this.key, this.#state.value(), this.#revision);
    } catch (error) {
      if (isKeyValueConflict(error)) {
        clearInterval(this.#timer);
        this.#state.logger.error({ key: this.key }, 'lost a lock to another holder while still working; stopping that reconcile');
        this.#lost.abort(new Error('the object’s lock was taken over by another replica'));
      } else {
        this.#state.logger.warn({ key: this.key, err: error }, 'could not refresh a lock; trying again');
      }
    }
  }

  #serial(work: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(work, work);
    this.#chain = next.catch(() => undefined);
    return next;
  }
}
