import type { ApiClient } from '../client/api-client.ts';
import { isKeyValueConflict, type KeyValueEntry, type KeyValueStore } from '../bus/key-value.ts';
import type { Publisher } from '../bus/publisher.ts';
import type { ControllerBus } from '../bus/work-queue.ts';
import type { Logger } from '../log.ts';
import { conditionsOf, findCondition, RECONCILED, TERMINAL_FAILURE_REASON } from '../model/conditions.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import { requestNotification, writeNotification } from '../model/notification.ts';
import { withJitter } from './backoff.ts';
import { pause } from '../concurrency.ts';

export interface ResyncTarget {
  kind: Kind;
  /** Also reconcile every object of the kind this often, reconciled or not (0: never). */
  everyObjectIntervalMs: number;
}

export interface ResyncOptions {
  client: ApiClient;
  bus: Publisher;
  targets: ResyncTarget[];
  /** How often to look for objects still waiting for a controller (0: only once, at start). */
  intervalMs: number;
  /**
   * Shared by every replica (openResyncRecords): when each kind's objects were last all
   * re-verified, so that one replica, not each, does it once per interval.
   */
  records: KeyValueStore;
  /** Written into the records this process claims. */
  owner?: string;
  logger: Logger;
  /** Upper bound on notifications queued per second by one pass. @default 500 */
  maxPerSecond?: number;
}

/** The bucket of resync's records, as every replica opens it. */
export const RESYNC_BUCKET = 'resyncPasses';

/**
 * The shared record of every-object passes: one key per kind, kept until deleted (a bucket max
 * age shorter than an interval would forget a pass and so bring the next one forward).
 */
export const openResyncRecords = (bus: ControllerBus): Promise<KeyValueStore> =>
  bus.keyValue(RESYNC_BUCKET, 'when each kind’s objects were last all re-verified by a controller', { maxAgeMs: 0 });

/** What a replica writes into a kind's record when it claims an every-object pass. */
interface PassRecord {
  /** When the pass started, by the claimer's wall clock (ms since the epoch). */
  at: number;
  by: string;
}

/** How often, at most, a replica looks whether a kind's every-object pass is due. */
const MAX_CHECK_EVERY_MS = 30_000;

/**
 * Level-triggering's safety net. Pages through every object that still needs its controller —
 * not reconciled (scheduled deletions included), or deleted by its controller but never removed —
 * and queues a notification for it, so an object whose notification was lost or never sent is not
 * stranded: at start and every `intervalMs` after, in every replica, each kind on its own (one
 * whose listing fails is retried soon without holding up the others). Notifications carry the
 * API's message ID for that version, so one the broker still remembers is not queued twice.
 *
 * Kinds that ask for it also get every object re-verified every `everyObjectIntervalMs`, which is
 * how drift in the world is found even when nothing reported it. That pass is shared by all the
 * replicas: each looks now and then (from a random moment after start, so kinds and replicas do
 * not all go at once) at the kind's record in `records`, and the one that claims a due record —
 * a compare-and-set write — does the pass. A record is due once it is an interval old by the
 * claimer's clock, or unchanged for an interval by this process's own monotonic clock (so a
 * claimer whose clock runs ahead delays passes by no more than one interval).
 */
export class Resync {
  readonly #o: ResyncOptions;
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #maxPerSecond: number;
  /** record key → the revision last seen there and when (monotonic clock) it was first seen. */
  readonly #seen = new Map<string, { revision: number; since: number }>();

  constructor(options: ResyncOptions) {
    this.#o = options;
    this.#maxPerSecond = options.maxPerSecond ?? 500;
  }

  start(): void {
    this.#loops.push(this.#pendingLoop());
    for (const target of this.#o.targets) {
      if (target.everyObjectIntervalMs > 0) this.#loops.push(this.#everyObjectLoop(target.kind, target.everyObjectIntervalMs));
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
  }

  /**
   * One pass over the objects that need their controller, of every kind (or of `kinds`). A kind
   * whose objects cannot be listed is logged and named in `failed`; the other kinds are queued.
   */
  async pendingPass(kinds: readonly Kind[] = this.#o.targets.map((target) => target.kind)): Promise<{ queued: number; failed: Kind[] }> {
    let queued = 0;
    const failed: Kind[] = [];
    for (const kind of kinds) {
      if (this.#abort.signal.aborted) break;
      try {
        queued += await this.#pendingOf(kind);
      } catch (error) {
        if (this.#abort.signal.aborted) break;
        this.#o.logger.warn({ kind: kind.name, err: error }, 'resync could not look for objects waiting for their controller; trying this kind again soon');
        failed.push(kind);
      }
    }
    return { queued, failed };
  }

  async #pendingOf(kind: Kind): Promise<number> {
    let waiting = 0;
    try {
      for await (const page of this.#o.client.kind(kind.name).pending()) {
        for (const object of page) {
          if (this.#abort.signal.aborted) return waiting;
          const operation = object.DeletionScheduled ? 'Deleted' : object.ObservedGeneration === undefined ? 'Created' : 'Updated';
          await this.#publish(writeNotification(kind, operation, object));
          waiting++;
        }
      }
    } finally {
      if (waiting > 0) this.#o.logger.info({ kind: kind.name, waiting }, 'resync queued objects waiting for their controller');
    }
    return waiting;
  }

  /**
   * Requests a reconcile of every object of `kind` now, whatever the record says; returns how
   * many. Not of an object whose current generation failed in a way retrying cannot fix: it waits
   * for a change, as its Status says.
   */
  async everyObjectPass(kind: Kind): Promise<number> {
    let queued = 0;
    for await (const page of this.#o.client.kind(kind.name).pages()) {
      for (const object of page) {
        if (this.#abort.signal.aborted) return queued;
        if (failedForGood(object)) continue;
        await this.#publish(requestNotification(kind, Number(object.ID), 'resync'));
        queued++;
      }
    }
    if (queued > 0) this.#o.logger.debug({ kind: kind.name, queued }, 'resync asked to re-verify every object');
    return queued;
  }

  /**
   * Does the every-object pass of `kind` if it is due and this replica claims it; returns how many
   * objects it queued, or undefined when the pass was not this replica's to do. A pass that fails
   * or is stopped halfway gives its claim back, for any replica to do again.
   */
  async everyObjectPassIfDue(kind: Kind, intervalMs: number, dueAfterMs = intervalMs): Promise<number | undefined> {
    const { records } = this.#o;
    const key = `everyObject.${kind.name}`;
    const entry = await records.get(key);
    if (entry && !this.#due(key, entry, intervalMs, dueAfterMs)) return undefined;
    const record = JSON.stringify({ at: Date.now(), by: this.#o.owner ?? 'unknown' } satisfies PassRecord);
    let revision: number;
    try {
      revision = entry ? await records.update(key, record, entry.revision) : await records.create(key, record);
    } catch (error) {
      if (isKeyValueConflict(error)) return undefined; // another replica claimed it first
      throw error;
    }
    this.#seen.set(key, { revision, since: performance.now() });
    let done = false;
    try {
      const queued = await this.everyObjectPass(kind);
      done = !this.#abort.signal.aborted;
      return queued;
    } finally {
      if (!done) await records.delete(key, revision).catch(() => undefined);
    }
  }

  /** Due once unchanged for an interval by our clock, or `dueAfterMs` old by the claimer's. */
  #due(key: string, entry: KeyValueEntry, intervalMs: number, dueAfterMs: number): boolean {
    const now = performance.now();
    let seen = this.#seen.get(key);
    if (seen?.revision !== entry.revision) {
      seen = { revision: entry.revision, since: now };
      this.#seen.set(key, seen);
    }
    if (now - seen.since >= intervalMs) return true;
    const at = parseRecord(entry.value)?.at;
    return at !== undefined && Date.now() - at >= dueAfterMs;
  }

  /** The pending pass at start, then every `intervalMs` (jittered); kinds that failed are retried sooner on their own. */
  async #pendingLoop(): Promise<void> {
    const signal = this.#abort.signal;
    const all = this.#o.targets.map((target) => target.kind);
    let kinds = all;
    let delayMs = 0;
    while (!signal.aborted) {
      if (delayMs > 0 && !(await pause(delayMs, signal))) return;
      const { failed } = await this.pendingPass(kinds);
      if (signal.aborted) return;
      if (failed.length > 0) {
        kinds = failed;
        delayMs = withJitter(5000, 0.5);
        continue;
      }
      if (this.#o.intervalMs === 0) return;
      kinds = all;
      delayMs = withJitter(this.#o.intervalMs, 0.1);
    }
  }

  /**
   * Looks whether the kind’s every-object pass is due eight times an interval, from a random
   * moment after start. The first look, after a start, takes a pass half an interval old as due:
   * what changed while no controller ran is found within half an interval of its return, while
   * replicas restarted one after another still share one pass.
   */
  async #everyObjectLoop(kind: Kind, intervalMs: number): Promise<void> {
    const signal = this.#abort.signal;
    const checkEveryMs = Math.min(intervalMs / 8, MAX_CHECK_EVERY_MS);
    let delayMs = Math.random() * checkEveryMs;
    let first = true;
    while (!signal.aborted) {
      if (!(await pause(delayMs, signal))) return;
      try {
        await this.everyObjectPassIfDue(kind, intervalMs, first ? intervalMs / 2 : intervalMs);
        first = false;
        delayMs = withJitter(checkEveryMs, 0.2);
      } catch (error) {
        if (signal.aborted) return;
        this.#o.logger.warn({ kind: kind.name, err: error }, 'resync could not re-verify every object; trying again');
        delayMs = Math.min(withJitter(5000, 0.5), checkEveryMs);
      }
    }
  }

  #sent = 0;
  #windowStart = 0;

  async #publish(notification: { subject: string; payload: string; messageId: string }): Promise<void> {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#sent = 0;
    }
    if (++this.#sent > this.#maxPerSecond) {
      await pause(1000 - (now - this.#windowStart), this.#abort.signal);
      this.#windowStart = Date.now();
      this.#sent = 1;
    }
    await this.#o.bus.publish(notification.subject, notification.payload, notification.messageId);
  }
}

function parseRecord(value: string): PassRecord | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<PassRecord> | null;
    return typeof parsed?.at === 'number' ? (parsed as PassRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves true after `milliseconds`, false if aborted first. */

/** The runtime's condition says the object's current generation failed terminally. */
function failedForGood(object: ApiObject): boolean {
  const reconciled = findCondition(conditionsOf(object), RECONCILED);
  return reconciled?.Reason === TERMINAL_FAILURE_REASON && reconciled.ObservedGeneration === Number(object.Generation ?? 0) && !object.DeletionScheduled;
}
