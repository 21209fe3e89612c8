import type { ApiClient } from '../client/api-client.ts';
import type { Publisher } from '../bus/publisher.ts';
import type { WorkQueueConsumer } from '../bus/work-queue.ts';
import type { Logger } from '../log.ts';
import type { Kind } from '../model/kind.ts';
import { withJitter } from './backoff.ts';
import { encodeNotification, subjectSuffix } from './notification.ts';
import type { Operation } from './reconciler.ts';

export interface ResyncTarget {
  kind: Kind;
  consumer: WorkQueueConsumer;
}

export interface ResyncOptions {
  client: ApiClient;
  bus: Publisher;
  targets: ResyncTarget[];
  /** 0: only once, at start. */
  intervalMs: number;
  logger: Logger;
}

/**
 * Level-triggering's safety net: lists every object still waiting for a controller (Reconciled
 * false, which includes scheduled deletions) and queues a notification for it, so an object whose
 * notification was lost or never sent is not stranded. Notifications carry the API's message ID
 * for that version, so one the broker still remembers is not queued twice; and a kind whose queue
 * already holds at least as many notifications as it has waiting objects is left alone this round.
 */
export class Resync {
  readonly #o: ResyncOptions;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: ResyncOptions) {
    this.#o = options;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  /** One pass over every kind; returns how many notifications it queued. */
  async runOnce(): Promise<number> {
    let queued = 0;
    for (const { kind, consumer } of this.#o.targets) {
      if (this.#abort.signal.aborted) break;
      const waiting = await this.#o.client.kind(kind.name).listAll({ reconciled: false });
      if (waiting.length === 0) continue;
      const depth = await consumer.depth().catch(() => 0);
      if (depth >= waiting.length) {
        this.#o.logger.debug({ kind: kind.name, waiting: waiting.length, depth }, 'resync: the queue already covers every waiting object');
        continue;
      }
      for (const object of waiting) {
        const operation: Operation = object.DeletionScheduled ? 'Deleted' : Number(object.Version) === 1 ? 'Created' : 'Updated';
        await this.#o.bus.publish(`${kind.subjectPrefix}.${subjectSuffix[operation]}`, encodeNotification(operation, object), `${kind.name}.${String(object.ID)}.${String(object.Version)}`);
        queued++;
      }
      this.#o.logger.info({ kind: kind.name, waiting: waiting.length }, 'resync queued objects waiting for reconciliation');
    }
    return queued;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let delayMs = 0;
    while (!signal.aborted) {
      if (delayMs > 0 && !(await sleep(delayMs, signal))) return;
      try {
        await this.runOnce();
        if (this.#o.intervalMs === 0) return;
        delayMs = withJitter(this.#o.intervalMs, 0.1);
      } catch (error) {
        if (signal.aborted) return;
        this.#o.logger.warn({ err: error }, 'resync failed; trying again');
        delayMs = withJitter(5000, 0.5);
      }
    }
  }
}

/** Resolves true after `milliseconds`, false if aborted first. */
function sleep(milliseconds: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(true), milliseconds);
    const onAbort = (): void => finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    function finish(value: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }
  });
}
