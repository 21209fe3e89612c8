/**
 * Per-object locks (src/controller/object-locks.ts): expiry decided by the observer's own clock
 * only, takeover of stale locks, replicas with skewed clocks, and the waiting records that space
 * out retries. Unit tests on the in-memory KV with injected clocks, and the KV contract the locks
 * rely on, on the in-memory store and on NATS KV.
 */
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isKeyValueConflict, MemoryKeyValue, type KeyValueStore } from '../../src/bus/key-value.ts';
import { openNatsKeyValue } from '../../src/bus/nats-key-value.ts';
import { ObjectLocks, type AcquireResult, type Lease } from '../../src/controller/object-locks.ts';
import { silentLogger } from '../../src/log.ts';
import { cleanUp } from '../support/control-plane.ts';
import { captureLogger, WARN } from '../support/capture-log.ts';
import { startNats } from '../support/peers.ts';

const TTL = 30_000;
const KEY = 'WorkloadDefinitionReconciler.42';
const MINUTE = 60_000;

/** A KV store that remembers when (by the fake wall clock) each write happened. */
class RecordingStore implements KeyValueStore {
  readonly writes: { at: number; revision: number; value: string }[] = [];
  readonly #inner = new MemoryKeyValue();

  async create(key: string, value: string): Promise<number> {
    return this.#note(value, await this.#inner.create(key, value));
  }
  get(key: string) {
    return this.#inner.get(key);
  }
  async update(key: string, value: string, revision: number): Promise<number> {
    return this.#note(value, await this.#inner.update(key, value, revision));
  }
  delete(key: string, revision: number): Promise<void> {
    return this.#inner.delete(key, revision);
  }
  #note(value: string, revision: number): number {
    this.writes.push({ at: Date.now(), revision, value });
    return revision;
  }
}

/**
 * The holder's view of a store, which can be cut off: every call then hangs (the process froze or
 * was killed mid-flight) or fails at once (the store is unreachable), until healed.
 */
class Partitionable implements KeyValueStore {
  #cut: 'hang' | 'fail' | undefined;
  readonly #inner: KeyValueStore;
  constructor(inner: KeyValueStore) {
    this.#inner = inner;
  }
  cut(mode: 'hang' | 'fail' = 'hang'): void {
    this.#cut = mode;
  }
  heal(): void {
    this.#cut = undefined;
  }
  create(key: string, value: string) {
    return this.#cut ? this.#refuse<number>() : this.#inner.create(key, value);
  }
  get(key: string) {
    return this.#cut ? this.#refuse<undefined>() : this.#inner.get(key);
  }
  update(key: string, value: string, revision: number) {
    return this.#cut ? this.#refuse<number>() : this.#inner.update(key, value, revision);
  }
  delete(key: string, revision: number) {
    return this.#cut ? this.#refuse<void>() : this.#inner.delete(key, revision);
  }
  #refuse<T>(): Promise<T> {
    return this.#cut === 'fail' ? Promise.reject(new Error('connection refused')) : never<T>();
  }
}
const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** A controllable clock: `now()` for ObjectLocks, `advance()` for the test. */
function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const locksOn = (store: KeyValueStore, owner: string, now: () => number, logger = silentLogger()) => new ObjectLocks({ store, owner, ttlMs: TTL, logger, now });

function leaseOf(result: AcquireResult): Lease {
  if (result.state !== 'acquired') throw new Error(`expected to acquire the lock, got ${JSON.stringify(result)}`);
  return result.lease;
}

/** What a crashed holder leaves: a held lock nobody refreshes. */
const deadHolder = (attempt = 0) => JSON.stringify({ holder: 'dead-replica', attempt });

afterEach(() => {
  vi.useRealTimers();
});

describe('lock expiry, as the observing process sees it', () => {
  it('a lock nobody refreshes expires only after a whole TTL since this process first saw that revision', async () => {
    const store = new MemoryKeyValue();
    const clock = manualClock();
    const locks = locksOn(store, 'observer', clock.now);
    await store.create(KEY, deadHolder(2));

    expect(await locks.acquire({ key: KEY, sequence: 1 })).toEqual({ state: 'held', holder: 'dead-replica' });
    clock.advance(TTL - 1);
    expect(await locks.acquire({ key: KEY, sequence: 1 })).toEqual({ state: 'held', holder: 'dead-replica' });

    // A heartbeat (a new revision) restarts the count: the holder is alive after all.
    const entry = (await store.get(KEY))!;
    await store.update(KEY, deadHolder(2), entry.revision);
    clock.advance(1);
    expect((await locks.acquire({ key: KEY, sequence: 1 })).state).toBe('held');
    clock.advance(TTL - 1);
    expect((await locks.acquire({ key: KEY, sequence: 1 })).state).toBe('held');
    clock.advance(1);
    const lease = leaseOf(await locks.acquire({ key: KEY, sequence: 1 }));
    // The failure count survives the takeover (backoff continues where the dead holder left it).
    expect(lease.attempt).toBe(2);
    await lease.release();
  });

  it('a process that first sees an old lock still gives its holder a whole TTL (no clock of another machine is trusted)', async () => {
    const store = new MemoryKeyValue();
    const early = manualClock(0);
    const late = manualClock(5_000_000);
    await store.create(KEY, deadHolder());
    const first = locksOn(store, 'first', early.now);
    expect((await first.acquire({ key: KEY, sequence: 1 })).state).toBe('held');
    early.advance(TTL - 1);
    // Another process sees the same revision for the first time now: it starts its own count.
    const second = locksOn(store, 'second', late.now);
    expect((await second.acquire({ key: KEY, sequence: 1 })).state).toBe('held');
    early.advance(1);
    const lease = leaseOf(await first.acquire({ key: KEY, sequence: 1 }));
    late.advance(TTL);
    // The lock is live again (the first process holds it, a new revision): the second must wait.
    expect(await second.acquire({ key: KEY, sequence: 1 })).toEqual({ state: 'held', holder: 'first' });
    await lease.release();
    expect((await second.acquire({ key: KEY, sequence: 1 })).state).toBe('acquired');
  });

  it('takes over a stale lock, says so, and the lock is then its own', async () => {
    const store = new MemoryKeyValue();
    const clock = manualClock();
    const log = captureLogger();
    const locks = locksOn(store, 'survivor', clock.now, log.logger);
    await store.create(KEY, deadHolder(1));
    expect((await locks.acquire({ key: KEY, sequence: 5 })).state).toBe('held');
    clock.advance(TTL);
    const lease = leaseOf(await locks.acquire({ key: KEY, sequence: 5 }));
    expect(JSON.parse((await store.get(KEY))!.value)).toEqual({ holder: 'survivor', attempt: 1 });
    expect(log.lines).toContainEqual(expect.objectContaining({ level: WARN, previousHolder: 'dead-replica', msg: 'took over a lock its holder stopped refreshing' }));
    await lease.release();
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('a lock in the original’s format (a bare controller UUID) is a foreign lock, taken over rather than parsed', async () => {
    const store = new MemoryKeyValue();
    await store.create(KEY, '6f1c2a52-6c0e-4a57-9d4e-2b1f6d1e0c11');
    const lease = leaseOf(await locksOn(store, 'ours', manualClock().now).acquire({ key: KEY, sequence: 1 }));
    expect(lease.attempt).toBe(0);
    await lease.release();
  });
});

describe('a live holder keeps its lock; a lost one knows it', () => {
  it('heartbeats keep the lock from expiring for as long as the holder lives', async () => {
    vi.useFakeTimers();
    const store = new RecordingStore();
    const observer = locksOn(store, 'observer', () => Date.now());
    const lease = leaseOf(await locksOn(store, 'holder', () => Date.now()).acquire({ key: KEY, sequence: 1 }));
    for (let step = 0; step < 40; step++) {
      await vi.advanceTimersByTimeAsync(TTL / 4);
      expect((await observer.acquire({ key: KEY, sequence: 2 })).state, `after ${((step + 1) * TTL) / 4} ms`).toBe('held');
    }
    // Ten TTLs: about thirty heartbeats, each a new revision.
    expect(store.writes.length).toBeGreaterThanOrEqual(29);
    expect(lease.held).toBe(true);
    await lease.release();
  });

  it('a holder whose key someone else rewrote aborts its signal at the next heartbeat and releases nothing of the new holder’s', async () => {
    vi.useFakeTimers();
    const store = new MemoryKeyValue();
    const lease = leaseOf(await locksOn(store, 'slow', () => Date.now()).acquire({ key: KEY, sequence: 1 }));
    const entry = (await store.get(KEY))!;
    const intruder = JSON.stringify({ holder: 'intruder', attempt: 0 });
    await store.update(KEY, intruder, entry.revision);
    expect(lease.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(TTL / 3 + 1);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.held).toBe(false);
    await lease.release();
    await lease.defer({ waitMs: 1000, carrier: 1, version: 1, attempt: 1 });
    expect((await store.get(KEY))?.value).toBe(intruder);
  });
});

describe('a holder that cannot refresh its lock gives it up by its own clock', () => {
  it.each(['fail', 'hang'] as const)('refreshes that %s abort the signal, saying why, within two thirds of the TTL — before any replica may take over', async (mode) => {
    vi.useFakeTimers();
    const store = new RecordingStore();
    const holderView = new Partitionable(store);
    const log = captureLogger();
    const lease = leaseOf(await locksOn(holderView, 'holder', () => Date.now(), log.logger).acquire({ key: KEY, sequence: 1 }));
    const observer = locksOn(store, 'observer', () => Date.now());
    let abortedAt: number | undefined;
    lease.signal.addEventListener('abort', () => (abortedAt = Date.now()));
    // Two heartbeats get through, then the store is out of reach.
    await vi.advanceTimersByTimeAsync((2 * TTL) / 3 + 1);
    expect((await observer.acquire({ key: KEY, sequence: 2 })).state).toBe('held');
    holderView.cut(mode);
    const lastWrite = store.writes.at(-1)!.at;

    let takenAt: number | undefined;
    let takeover: Lease | undefined;
    const step = TTL / 30;
    for (let elapsed = 0; elapsed < 3 * TTL && takenAt === undefined; elapsed += step) {
      await vi.advanceTimersByTimeAsync(step);
      const result = await observer.acquire({ key: KEY, sequence: 2 });
      if (result.state === 'acquired') {
        takenAt = Date.now();
        takeover = result.lease;
      }
    }
    expect(abortedAt, 'the holder gave its lock up').toBeDefined();
    expect(abortedAt! - lastWrite, 'not before two thirds of the TTL without a refresh').toBeGreaterThanOrEqual((2 * TTL) / 3);
    expect(abortedAt! - lastWrite, 'and not much later').toBeLessThanOrEqual((2 * TTL) / 3 + step);
    expect(takenAt, 'the observer took the lock over').toBeDefined();
    expect(takenAt! - abortedAt!, 'the holder stopped a third of the TTL before the takeover').toBeGreaterThanOrEqual(TTL / 3 - step);
    expect(lease.held).toBe(false);
    expect(String((lease.signal.reason as Error).message)).toMatch(/lock could not be refreshed for 20s \(its TTL is 30s\): another replica may take it over/);
    expect(log.lines).toContainEqual(expect.objectContaining({ key: KEY, msg: expect.stringContaining('could not refresh a lock in time') }));
    if (mode === 'fail') {
      // (A hung write is never answered, so a release queued behind it never runs.)
      holderView.heal();
      await lease.release();
    }
    expect(JSON.parse((await store.get(KEY))!.value), 'the given-up lease leaves the new holder’s lock alone').toEqual({ holder: 'observer', attempt: 0 });
    await takeover!.release();
  });

  it('one refresh that fails is retried before the next heartbeat: the lock stays held', async () => {
    vi.useFakeTimers();
    const store = new RecordingStore();
    const holderView = new Partitionable(store);
    const lease = leaseOf(await locksOn(holderView, 'holder', () => Date.now()).acquire({ key: KEY, sequence: 1 }));
    const observer = locksOn(store, 'observer', () => Date.now());
    holderView.cut('fail');
    await vi.advanceTimersByTimeAsync(TTL / 3 + 1);
    holderView.heal();
    for (let step = 0; step < 20; step++) {
      await vi.advanceTimersByTimeAsync(TTL / 4);
      expect((await observer.acquire({ key: KEY, sequence: 2 })).state, `after ${TTL / 3 + ((step + 1) * TTL) / 4} ms`).toBe('held');
    }
    expect(lease.held).toBe(true);
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('a lease released after it gave its lock up, while nobody took it, deletes it: the next replica need not wait out the TTL', async () => {
    vi.useFakeTimers();
    const store = new MemoryKeyValue();
    const holderView = new Partitionable(store);
    const lease = leaseOf(await locksOn(holderView, 'holder', () => Date.now()).acquire({ key: KEY, sequence: 1 }));
    holderView.cut('fail');
    await vi.advanceTimersByTimeAsync((2 * TTL) / 3);
    expect(lease.signal.aborted).toBe(true);
    holderView.heal();
    await lease.release();
    expect(await store.get(KEY)).toBeUndefined();
  });
});

describe('replicas whose clocks differ by minutes', () => {
  // One replica's clock runs 7 minutes ahead, the other's 5 minutes behind. A lock whose expiry
  // compared timestamps across machines would be stolen from a live holder by the one ahead, and
  // waited on for 12 minutes past its holder's death by the one behind.
  const clocks = { ahead: () => Date.now() + 7 * MINUTE, behind: () => Date.now() - 5 * MINUTE };

  it.each([
    ['behind', 'ahead'],
    ['ahead', 'behind'],
  ] as const)('the one %s holds, the one %s neither steals the live lock nor waits for ever once the holder dies', async (holderClock, observerClock) => {
    vi.useFakeTimers({ now: new Date('2026-03-01T00:00:00Z') });
    const store = new RecordingStore();
    const holderView = new Partitionable(store);
    const holder = locksOn(holderView, `holder-${holderClock}`, clocks[holderClock]);
    const observer = locksOn(store, `observer-${observerClock}`, clocks[observerClock]);
    const lease = leaseOf(await holder.acquire({ key: KEY, sequence: 1 }));

    for (let step = 0; step < 40; step++) {
      await vi.advanceTimersByTimeAsync(TTL / 4);
      expect((await observer.acquire({ key: KEY, sequence: 2 })).state, 'the holder is alive').toBe('held');
    }
    expect(lease.held).toBe(true);

    // The holder is cut off for good (frozen, killed): no more heartbeats, nothing releases the lock.
    holderView.cut();
    const diedAt = Date.now();
    const lastHeartbeat = store.writes.at(-1)!.at;
    let takenAt: number | undefined;
    let takeover: Lease | undefined;
    for (let step = 0; step < 40 && takenAt === undefined; step++) {
      await vi.advanceTimersByTimeAsync(TTL / 4);
      const result = await observer.acquire({ key: KEY, sequence: 2 });
      if (result.state === 'acquired') {
        takenAt = Date.now();
        takeover = result.lease;
      }
    }
    expect(takenAt, 'the observer took the dead holder’s lock').toBeDefined();
    expect(takenAt! - lastHeartbeat, 'not before a whole TTL without a heartbeat').toBeGreaterThanOrEqual(TTL);
    // Fake time: polls every TTL/4, so within TTL plus two polls of the death, not 12 minutes later.
    expect(takenAt! - diedAt).toBeLessThanOrEqual(TTL + TTL / 2);
    await takeover!.release();
  });
});

describe('waiting records', () => {
  /** The state a failed reconcile leaves: no holder, a retry by notification 7 (version 5) after 10 s. */
  async function waitingRecord(store: KeyValueStore, key: string): Promise<void> {
    const lease = leaseOf(await locksOn(store, 'failed-replica', manualClock().now).acquire({ key, sequence: 7, version: 5 }));
    await lease.defer({ waitMs: 10_000, carrier: 7, version: 5, attempt: 3 });
  }

  it('covers notifications not newer than its version until its wait has passed', async () => {
    const store = new MemoryKeyValue();
    const clock = manualClock();
    const replica = locksOn(store, 'replica', clock.now);
    await waitingRecord(store, KEY);
    expect(await replica.acquire({ key: KEY, sequence: 8, version: 5 })).toEqual({ state: 'covered' });
    expect(await replica.acquire({ key: KEY, sequence: 9, version: 4 })).toEqual({ state: 'covered' });
    // The original's payloads carry no version: a scheduled retry re-reads the object anyway.
    expect(await replica.acquire({ key: KEY, sequence: 10 })).toEqual({ state: 'covered' });
    clock.advance(9_999);
    expect(await replica.acquire({ key: KEY, sequence: 11, version: 5 })).toEqual({ state: 'covered' });
    clock.advance(1);
    // The retry is overdue (its carrier lost?): anyone may do it now, keeping the failure count.
    const lease = leaseOf(await replica.acquire({ key: KEY, sequence: 12, version: 5 }));
    expect(lease.attempt).toBe(3);
    await lease.release();
  });

  it('does not cover a newer version, a requested reconcile, or its own carrier', async () => {
    const store = new MemoryKeyValue();
    const replica = locksOn(store, 'replica', manualClock().now);
    const cases = [
      { key: `${KEY}.newer`, request: { sequence: 8, version: 6 } },
      { key: `${KEY}.requested`, request: { sequence: 8, version: 5, requested: true } },
      { key: `${KEY}.requested-unversioned`, request: { sequence: 8, requested: true } },
      { key: `${KEY}.carrier`, request: { sequence: 7, version: 5 } },
    ];
    for (const { key, request } of cases) {
      await waitingRecord(store, key);
      const lease = leaseOf(await replica.acquire({ key, ...request }));
      expect(lease.attempt, key).toBe(3);
      await lease.release();
    }
  });

  it('a requested reconcile does not take a lock someone holds', async () => {
    const store = new MemoryKeyValue();
    const holder = leaseOf(await locksOn(store, 'holder', manualClock().now).acquire({ key: KEY, sequence: 1 }));
    expect(await locksOn(store, 'other', manualClock().now).acquire({ key: KEY, sequence: 2, requested: true })).toEqual({ state: 'held', holder: 'holder' });
    await holder.release();
  });
});

describe.each(['memory', 'nats'] as const)('the key-value contract the locks rely on (%s)', (flavour) => {
  let nats: Promise<string> | undefined;
  let buckets = 0;
  /** A fresh bucket (one NATS server for the file). */
  async function open(): Promise<KeyValueStore> {
    if (flavour === 'memory') return new MemoryKeyValue();
    nats ??= startNats().then((server) => server.url);
    const connection = await connect({ servers: await nats });
    cleanUp(() => connection.close());
    return openNatsKeyValue(connection, `lockContractTest${++buckets}`, { description: 'test' });
  }

  it('create only when absent, update and delete only at the revision read', async () => {
    const store = await open();
    const conflict = (promise: Promise<unknown>) => promise.then(() => 'written', (error: unknown) => (isKeyValueConflict(error) ? 'conflict' : String(error)));
    const first = await store.create('a.1', 'one');
    expect(await conflict(store.create('a.1', 'two'))).toBe('conflict');
    expect(await store.get('a.1')).toEqual({ value: 'one', revision: first });
    const second = await store.update('a.1', 'two', first);
    expect(second).toBeGreaterThan(first);
    expect(await conflict(store.update('a.1', 'three', first))).toBe('conflict');
    expect(await conflict(store.delete('a.1', first))).toBe('conflict');
    await store.delete('a.1', second);
    expect(await store.get('a.1')).toBeUndefined();
    // A key deleted is free again: the next reconcile takes it with create.
    expect(await store.create('a.1', 'again')).toBeGreaterThan(second);
  });

  it('a dead holder’s lock is taken over after a TTL of the observer’s clock, and its holder’s attempt carried', async () => {
    const store = await open();
    await store.create(KEY, deadHolder(4));
    const clock = manualClock();
    const locks = locksOn(store, 'observer', clock.now);
    expect((await locks.acquire({ key: KEY, sequence: 1 })).state).toBe('held');
    clock.advance(TTL);
    const lease = leaseOf(await locks.acquire({ key: KEY, sequence: 1 }));
    expect(lease.attempt).toBe(4);
    await lease.defer({ waitMs: 5000, carrier: 1, version: 2, attempt: 5 });
    expect(await locksOn(store, 'other', manualClock().now).acquire({ key: KEY, sequence: 2, version: 2 })).toEqual({ state: 'covered' });
  });
});
