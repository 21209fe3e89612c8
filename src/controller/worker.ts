import type { Delivery, WorkQueueConsumer } from '../bus/work-queue.ts';
import type { Logger } from '../log.ts';
import type { DeliveryProcessor } from './delivery-processor.ts';
import type { ControllerMetrics } from './metrics.ts';
import { decodeNotification, type NotificationHint } from '../model/notification.ts';
import type { CompiledRuntimeOptions } from './options.ts';
import { pause } from '../concurrency.ts';

interface Pending {
  delivery: Delivery;
  hint: NotificationHint;
}

/** The work of one object in this process: what runs now and what arrived for it meanwhile. */
interface KeyWork {
  current: Pending;
  parked: Pending[];
}

export interface WorkerOptions {
  name: string;
  consumer: WorkQueueConsumer;
  processor: DeliveryProcessor;
  concurrency: number;
  options: Readonly<CompiledRuntimeOptions>;
  metrics: ControllerMetrics;
  logger: Logger;
}

/**
 * Pulls one reconciler's notifications and runs up to `concurrency` reconciles at once, never two
 * for one object: notifications for an object already being reconciled here wait, and when it is
 * done only the newest of them is handled (the rest are acked: one reconcile covers them all).
 * Every delivery it holds is kept alive with `working()`, so long reconciles are not redelivered.
 */
export class ReconcilerWorker {
  readonly #o: WorkerOptions;
  readonly #work = new Map<number, KeyWork>();
  readonly #fetchAbort = new AbortController();
  #running = 0;
  #slotFreed: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #idle: (() => void) | undefined;

  constructor(options: WorkerOptions) {
    this.#o = options;
  }

  start(): void {
    this.#keepAlive = setInterval(() => this.#touchAll(), Math.max(100, this.#o.options.ackWaitMs / 3));
    this.#keepAlive.unref();
    this.#loop = this.#pull();
  }

  /** Stops pulling and hands back notifications that are waiting; resolves once nothing runs (or after `graceMs`). */
  async stop(graceMs: number): Promise<void> {
    this.#fetchAbort.abort();
    this.#slotFreed?.();
    await this.#loop;
    for (const work of this.#work.values()) {
      for (const pending of work.parked.splice(0)) pending.delivery.nak(0);
    }
    if (this.#running > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    clearInterval(this.#keepAlive);
  }

  get running(): number {
    return this.#running;
  }

  async #pull(): Promise<void> {
    const { consumer, concurrency, options, logger } = this.#o;
    const signal = this.#fetchAbort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const free = concurrency - this.#running;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        continue;
      }
      try {
        for await (const delivery of consumer.fetch(free, options.fetchExpiresMs, signal)) this.#dispatch(delivery);
        if (failures > 0) logger.info('receiving notifications again');
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (failures++ === 0) logger.warn({ err: error }, 'cannot receive notifications; retrying');
        await pause(Math.min(5000, 100 * 2 ** Math.min(failures, 6)), signal);
      }
    }
  }

  #dispatch(delivery: Delivery): void {
    let hint: NotificationHint;
    try {
      hint = decodeNotification(delivery.payload);
    } catch (error) {
      // Never redeliver what can't be read: it would come back forever.
      this.#o.logger.warn({ subject: delivery.subject, sequence: delivery.sequence, reason: (error as Error).message }, 'dropping a notification that cannot be decoded');
      delivery.term();
      this.#o.metrics.reconciles.inc({ reconciler: this.#o.name, result: 'dropped' });
      return;
    }
    const work = this.#work.get(hint.id);
    if (work) {
      work.parked.push({ delivery, hint });
      return;
    }
    this.#running++;
    this.#work.set(hint.id, { current: { delivery, hint }, parked: [] });
    void this.#run(hint.id);
  }

  async #run(id: number): Promise<void> {
    for (;;) {
      const work = this.#work.get(id)!;
      await this.#o.processor.process(work.current.delivery, work.current.hint);
      const next = this.#newest(work.parked.splice(0));
      if (!next || this.#fetchAbort.signal.aborted) {
        if (next) next.delivery.nak(0);
        break;
      }
      work.current = next;
    }
    this.#work.delete(id);
    this.#running--;
    this.#slotFreed?.();
    this.#slotFreed = undefined;
    if (this.#running === 0) this.#idle?.();
  }

  /**
   * Keeps the newest notification of those that piled up and acks the others (it covers them). It
   * inherits what they carried that a re-read can't give: a request to reconcile.
   */
  #newest(parked: Pending[]): Pending | undefined {
    if (parked.length <= 1) return parked[0];
    const rank = (pending: Pending): number => pending.hint.version ?? 0;
    const byVersion = [...parked].sort((a, b) => rank(a) - rank(b));
    const newest = byVersion[byVersion.length - 1]!;
    const hint: NotificationHint = { ...newest.hint };
    for (const pending of byVersion) {
      if (pending.hint.requested && !hint.requested) hint.requested = pending.hint.requested;
      if (pending === newest) continue;
      void pending.delivery.ack();
      this.#o.metrics.reconciles.inc({ reconciler: this.#o.name, result: 'skipped' });
    }
    return { delivery: newest.delivery, hint };
  }

  #touchAll(): void {
    for (const work of this.#work.values()) {
      work.current.delivery.working();
      for (const pending of work.parked) pending.delivery.working();
    }
  }
}

