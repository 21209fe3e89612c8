import { isKeyValueConflict, type KeyValueStore } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';

/** A lock being held: `until` is pushed forward by the holder's heartbeat. */
interface HeldValue {
  holder: string;
  until: number;
  /** Failures since the last success, carried across holders. */
  attempt: number;
}

/**
 * Nobody holds the object, but a retry is scheduled: the notification `carrier` (a stream
 * sequence) comes back at `retryAt`. Until then other notifications up to `version` add nothing.
 */
interface WaitingValue {
  retryAt: number;
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
  | { state: 'covered'; retryAt: number };

export interface ObjectLocksOptions {
  store: KeyValueStore;
  /** Written into the locks this process holds. */
  owner: string;
  ttlMs: number;
  logger: Logger;
  now?: () => number;
}

export interface AcquireRequest {
  key: string;
  /** Stream sequence of the notification being handled. */
  sequence: number;
  /** Object version the notification announced, if it said. */
  version?: number;
}

function parse(value: string): LockValue | undefined {
  try {
    const parsed = JSON.parse(value) as LockValue;
    return typeof parsed === 'object' && parsed !== null && ('holder' in parsed || 'retryAt' in parsed) ? parsed : undefined;
  } catch {
    return undefined; // the original's locks hold a bare controller UUID: treat as a foreign, expired lock
  }
}

/**
 * Per-object locks in a key-value store (NATS KV, or in memory). A holder's lock lasts `ttlMs`
 * past its last heartbeat, so a crashed holder's lock is taken over once it goes stale. Released
 * locks may leave a "waiting" record that spaces out retries across every replica (backoff).
 */
export class ObjectLocks {
  readonly #options: ObjectLocksOptions;
  readonly #now: () => number;

  constructor(options: ObjectLocksOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const { store } = this.#options;
    const { key } = request;
    for (let round = 0; round < 3; round++) {
      try {
        return this.#acquired(key, await store.create(key, this.#held(0)), 0);
      } catch (error) {
        if (!isKeyValueConflict(error)) throw error;
      }
      const entry = await store.get(key);
      if (!entry) continue;
      const value = parse(entry.value);
      const now = this.#now();
      if (value && 'holder' in value && value.until > now) return { state: 'held', holder: value.holder };
      if (value && 'retryAt' in value && value.carrier !== request.sequence && value.retryAt > now) {
        const newer = request.version !== undefined && value.version !== undefined && request.version > value.version;
        if (!newer) return { state: 'covered', retryAt: value.retryAt };
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

  #held(attempt: number): string {
    return JSON.stringify({ holder: this.#options.owner, until: this.#now() + this.#options.ttlMs, attempt } satisfies HeldValue);
  }

  #acquired(key: string, revision: number, attempt: number): AcquireResult {
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
  #revision: number;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #lost = false;
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
    return !this.#lost && !this.#ended;
  }

  /** Releases the lock. Never throws: a lock that can't be deleted expires on its own. */
  release(): Promise<void> {
    return this.#end(async () => {
      await this.#state.store.delete(this.key, this.#revision);
    });
  }

  /** Releases the lock into a waiting record: a retry by `carrier` at `retryAt`. */
  defer(waiting: { retryAt: number; carrier: number; version?: number; attempt: number }): Promise<void> {
    return this.#end(async () => {
      await this.#state.store.update(this.key, JSON.stringify(waiting satisfies WaitingValue), this.#revision);
    });
  }

  #end(write: () => Promise<void>): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    clearInterval(this.#timer);
    return this.#serial(async () => {
      if (this.#lost) return;
      try {
        await write();
      } catch (error) {
        this.#state.logger.warn({ key: this.key, err: error }, 'could not release a lock; it expires on its own');
      }
    });
  }

  async #refresh(): Promise<void> {
    if (this.#ended || this.#lost) return;
    try {
      this.#revision = await this.#state.store.update(this.key, this.#state.value(), this.#revision);
    } catch (error) {
      if (isKeyValueConflict(error)) {
        this.#lost = true;
        clearInterval(this.#timer);
        this.#state.logger.error({ key: this.key }, 'lost a lock to another holder while still working');
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
