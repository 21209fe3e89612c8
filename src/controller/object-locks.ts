import { isKeyValueConflict, type KeyValueStore } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';

/**
 * A lock being held. Its holder rewrites it (a new revision) every third of the TTL, and gives up
 * its work once no rewrite succeeded for two thirds of it (see Lease).
 */
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
      // The lock is ours from no later than when the write that took it was sent: the lease's
      // deadline counts from here, never from when the answer came back.
      let sentAt = this.#now();
      try {
        return this.#acquired(key, await store.create(key, this.#held(0)), 0, sentAt);
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
        sentAt = this.#now();
        const revision = await store.update(key, this.#held(attempt), entry.revision);
        if (value && 'holder' in value) this.#options.logger.warn({ key, previousHolder: value.holder }, 'took over a lock its holder stopped refreshing');
        return this.#acquired(key, revision, attempt, sentAt);
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

  #acquired(key: string, revision: number, attempt: number, writtenAt: number): AcquireResult {
    this.#seen.delete(key);
    const lease = new Lease({
      key,
      revision,
      attempt,
      store: this.#options.store,
      ttlMs: this.#options.ttlMs,
      heartbeatMs: this.#options.ttlMs / 3,
      writtenAt,
      now: this.#now,
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
  /** After a whole TTL without a new revision, other replicas may take the lock over. */
  ttlMs: number;
  heartbeatMs: number;
  /** When (by `now`) the write that took the lock was sent. */
  writtenAt: number;
  /** The holder's own monotonic clock. */
  now: () => number;
  value: () => string;
  logger: Logger;
}

/** The share of the TTL a holder may go without a successful refresh before it stops working. */
const HOLD_WITHOUT_REFRESH = 2 / 3;

/**
 * A held lock. Refreshes itself until released; every write is compare-and-set on its revision.
 *
 * Another replica takes the lock over once it has seen the same revision for a whole TTL by its
 * own clock, whether or not the holder is still working (it may just be cut off from the store).
 * So the holder gives up first: when no refresh succeeded within two thirds of the TTL, counted on
 * its own monotonic clock from when the last successful write was sent, `signal` aborts. Every
 * observer saw that revision no earlier than it was sent, so the holder stops at least a third of
 * the TTL before anyone may take over.
 */
export class Lease {
  readonly key: string;
  /** Failures of this object since its last success. */
  readonly attempt: number;
  readonly #state: LeaseState;
  readonly #lost = new AbortController();
  #revision: number;
  /** When (holder's clock) the last successful write of the lock was sent. */
  #writtenAt: number;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #ended = false;
  /** Lost by a conflict: the key is someone else's now, so nothing more is written to it. */
  #takenOver = false;

  constructor(state: LeaseState) {
    this.#state = state;
    this.key = state.key;
    this.attempt = state.attempt;
    this.#revision = state.revision;
    this.#writtenAt = state.writtenAt;
    this.#timer = setInterval(() => void this.#serial(() => this.#refresh()), state.heartbeatMs);
    this.#timer.unref();
    this.#armDeadline();
  }

  /** False once the lock was lost (taken over, or not refreshed in time) or released. */
  get held(): boolean {
    return !this.#lost.signal.aborted && !this.#ended;
  }

  /**
   * Aborts when the lock is lost — another holder took it over, or no refresh succeeded for two
   * thirds of the TTL so another may take it over soon: whatever runs under it must stop. The
   * reason says which.
   */
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
    this.#stopTimers();
    return this.#serial(async () => {
      // A lock lost by the clock may still be at our revision (nobody took it yet): the write is
      // compare-and-set, so releasing it then is safe, and frees it sooner.
      if (this.#takenOver) return;
      try {
        await write();
      } catch (error) {
        this.#state.logger.warn({ key: this.key, err: error }, 'could not release a lock; it expires on its own');
      }
    });
  }

  async #refresh(): Promise<void> {
    if (this.#ended || this.#lost.signal.aborted) return;
    const sentAt = this.#state.now();
    try {
      this.#revision = await this.#state.store.update(this.key, this.#state.value(), this.#revision);
      // A refresh that took so long that the lock was given up meanwhile does not revive it.
      if (!this.#lost.signal.aborted) this.#writtenAt = sentAt;
    } catch (error) {
      if (isKeyValueConflict(error)) {
        this.#takenOver = true;
        this.#stopTimers();
        this.#state.logger.error({ key: this.key }, 'lost a lock to another holder while still working; stopping that reconcile');
        this.#lost.abort(new Error('the object’s lock was taken over by another replica'));
      } else {
        this.#state.logger.warn({ key: this.key, err: error }, 'could not refresh a lock; trying again');
        // Sooner than the next heartbeat: one failed refresh must not use up the time left.
        this.#retry ??= setTimeout(() => {
          this.#retry = undefined;
          void this.#serial(() => this.#refresh());
        }, this.#state.heartbeatMs / 4);
        this.#retry.unref();
      }
    }
  }

  /** Fires when the last successful write is two thirds of a TTL old (re-armed while refreshes succeed). */
  #armDeadline(): void {
    const limitMs = this.#state.ttlMs * HOLD_WITHOUT_REFRESH;
    const waitMs = this.#writtenAt + limitMs - this.#state.now();
    this.#deadline = setTimeout(() => {
      if (this.#ended || this.#lost.signal.aborted) return;
      const sinceMs = this.#state.now() - this.#writtenAt;
      if (sinceMs < limitMs) return this.#armDeadline();
      this.#stopTimers();
      const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;
      this.#state.logger.error({ key: this.key, sinceMs: Math.round(sinceMs), ttlMs: this.#state.ttlMs }, 'could not refresh a lock in time; stopping that reconcile before another replica may take the lock over');
      this.#lost.abort(new Error(`the object’s lock could not be refreshed for ${seconds(sinceMs)} (its TTL is ${seconds(this.#state.ttlMs)}): another replica may take it over`));
    }, Math.max(0, waitMs));
    this.#deadline.unref();
  }

  #stopTimers(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#deadline);
    clearTimeout(this.#retry);
  }

  #serial(work: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(work, work);
    this.#chain = next.catch(() => undefined);
    return next;
  }
}
