import type { Logger } from '../log.ts';
import type { Outbox, OutboxMessage } from '../store/outbox.ts';
import type { Publisher } from './publisher.ts';

export interface OutboxRelayOptions {
  outbox: Outbox;
  publisher: Publisher;
  logger: Logger;
  /** Messages claimed per transaction. */
  batchSize?: number;
  /** How often to look for messages nobody woke us for (other replicas, a crash before publish). */
  pollIntervalMs?: number;
  /** Longest wait between attempts while the broker is unreachable. */
  maxBackoffMs?: number;
}

/**
 * Publishes committed outbox rows to the bus and deletes each one only after the broker
 * acknowledged it. Woken right after every write that queued a notification; polls as a fallback.
 */
export class OutboxRelay {
  readonly #options: Required<OutboxRelayOptions>;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #pendingWake = false;
  #failing = false;

  constructor(options: OutboxRelayOptions) {
    this.#options = { batchSize: 256, pollIntervalMs: 1000, maxBackoffMs: 5000, ...options };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Asks the relay to look at the outbox now. Cheap; call it after every notifying commit. */
  wake(): void {
    this.#pendingWake = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { outbox, logger, batchSize, pollIntervalMs, maxBackoffMs } = this.#options;
    let backoffMs = 100;
    while (this.#running) {
      this.#pendingWake = false;
      try {
        const published = await outbox.drain(batchSize, (messages) => this.#publishAll(messages));
        if (this.#failing) {
          this.#failing = false;
          logger.info('notifications are being published again');
        }
        backoffMs = 100;
        if (published === batchSize || this.#pendingWake) continue;
        await this.#sleep(pollIntervalMs);
      } catch (error) {
        if (!this.#failing) {
          this.#failing = true;
          logger.warn({ err: error }, 'cannot publish notifications; they stay in the outbox and will be retried');
        }
        await this.#sleep(backoffMs, { ignoreWake: true });
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      }
    }
  }

  /**
   * Publishes concurrently and returns the acknowledged messages up to the first failure, oldest
   * first: what follows a failure is retried with it, so one object's notifications keep their order.
   * Throws when even the oldest failed.
   */
  async #publishAll(messages: OutboxMessage[]): Promise<OutboxMessage[]> {
    const { publisher } = this.#options;
    const results = await Promise.allSettled(messages.map((m) => publisher.publish(m.subject, m.payload, m.messageId)));
    const firstFailure = results.findIndex((result) => result.status === 'rejected');
    if (firstFailure === -1) return messages;
    if (firstFailure === 0) throw (results[0] as PromiseRejectedResult).reason;
    return messages.slice(0, firstFailure);
  }

  #sleep(milliseconds: number, options: { ignoreWake?: boolean } = {}): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, milliseconds);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        if (!this.#running || !options.ignoreWake) {
          this.#wake = undefined;
          done();
        }
      };
    });
  }
}
