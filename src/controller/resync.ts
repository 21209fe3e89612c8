import type { ApiClient } from '../client/api-client.ts';
import type { Publisher } from '../bus/publisher.ts';
import type { Logger } from '../log.ts';
import type { Kind } from '../model/kind.ts';
import { requestNotification, writeNotification } from '../model/notification.ts';
import { withJitter } from './backoff.ts';

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
  logger: Logger;
  /** Upper bound on notifications queued per second by one pass. @default 500 */
  maxPerSecond?: number;
}

/**
 * Level-triggering's safety net. Pages through every object that still needs its controller —
 * not reconciled (scheduled deletions included), or deleted by its controller but never removed —
 * and queues a notification for it, so an object whose notification was lost or never sent is not
 * stranded. Notifications carry the API's message ID for that version, so one the broker still
 * remembers is not queued twice. For kinds that ask for it, every object is also re-verified
 * periodically (and once at start), which is how drift in the world is found even when nothing
 * reported it.
 */
export class Resync {
  readonly #o: ResyncOptions;
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #maxPerSecond: number;

  constructor(options: ResyncOptions) {
    this.#o = options;
    this.#maxPerSecond = options.maxPerSecond ?? 500;
  }

  start(): void {
    this.#loops.push(this.#every(this.#o.intervalMs, () => this.pendingPass()));
    for (const target of this.#o.targets) {
      if (target.everyObjectIntervalMs > 0) this.#loops.push(this.#every(target.everyObjectIntervalMs, () => this.everyObjectPass(target.kind)));
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
  }

  /** One pass over the objects of every kind that need their controller; returns how many were queued. */
  async pendingPass(): Promise<number> {
    let queued = 0;
    for (const { kind } of this.#o.targets) {
      let waiting = 0;
      for await (const page of this.#o.client.kind(kind.name).pending()) {
        for (const object of page) {
          if (this.#abort.signal.aborted) return queued;
          const operation = object.DeletionScheduled ? 'Deleted' : object.ObservedGeneration === undefined ? 'Created' : 'Updated';
          const notification = writeNotification(kind, operation, object);
          // The API's notification of this version may carry what a copy from the stored object
          // cannot (secret data, never stored): ours must never stand in for it as a duplicate.
          if (carriesTransient(kind)) notification.messageId = `resync.${notification.messageId}`;
          await this.#publish(notification);
          waiting++;
        }
      }
      if (waiting > 0) this.#o.logger.info({ kind: kind.name, waiting }, 'resync queued objects waiting for their controller');
      queued += waiting;
    }
    return queued;
  }

  /** Requests a reconcile of every object of `kind`; returns how many. */
  async everyObjectPass(kind: Kind): Promise<number> {
    let queued = 0;
    for await (const page of this.#o.client.kind(kind.name).pages()) {
      for (const object of page) {
        if (this.#abort.signal.aborted) return queued;
        await this.#publish(requestNotification(kind, Number(object.ID), 'resync'));
        queued++;
      }
    }
    if (queued > 0) this.#o.logger.debug({ kind: kind.name, queued }, 'resync asked to re-verify every object');
    return queued;
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
      await sleep(1000 - (now - this.#windowStart), this.#abort.signal);
      this.#windowStart = Date.now();
      this.#sent = 1;
    }
    await this.#o.bus.publish(notification.subject, notification.payload, notification.messageId);
  }

  /** Runs `pass` now and then every `intervalMs` (jittered) until stopped; 0 runs it once. */
  async #every(intervalMs: number, pass: () => Promise<number>): Promise<void> {
    const signal = this.#abort.signal;
    let delayMs = 0;
    while (!signal.aborted) {
      if (delayMs > 0 && !(await sleep(delayMs, signal))) return;
      try {
        await pass();
        if (intervalMs === 0) return;
        delayMs = withJitter(intervalMs, 0.1);
      } catch (error) {
        if (signal.aborted) return;
        this.#o.logger.warn({ err: error }, 'resync failed; trying again');
        delayMs = withJitter(5000, 0.5);
      }
    }
  }
}

const carriesTransient = (kind: Kind): boolean => Object.values(kind.fields).some((field) => field.kind === 'scalar' && field.transient);

/** Resolves true after `milliseconds`, false if aborted first. */
function sleep(milliseconds: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => finish(true), Math.max(0, milliseconds));
    const onAbort = (): void => finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    function finish(value: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }
  });
}
