import type { Logger } from '../log.ts';
import { MemoryKeyValue, type KeyValueStore } from './key-value.ts';
import { MemoryWorkQueue, type QueuedMessage } from './memory-work-queue.ts';
import type { ConsumerSpec, ControllerBus, WorkQueueConsumer } from './work-queue.ts';

export interface BusMessage {
  subject: string;
  payload: string;
  messageId: string;
}

type Listener = (message: BusMessage) => void;

/** A NATS-style subject pattern (`*` one token, `>` the rest) as a regular expression. */
export function subjectPattern(pattern: string): RegExp {
  const source = pattern
    .split('.')
    .map((token) => (token === '*' ? '[^.]+' : token === '>' ? '.+' : token.replace(/[-/\\^$+?()|[\]{}]/g, '\\$&')))
    .join('\\.');
  return new RegExp(`^${source}$`);
}

/**
 * The in-process bus of the embedded mode: the same contract as NATS JetStream for the publishing
 * side (duplicate message IDs within the window are dropped) and for controllers (durable work
 * queues with ack/nak, and a key-value store for locks), with everything in this process.
 */
export class MemoryBus implements ControllerBus {
  readonly #listeners = new Set<{ pattern: RegExp; listener: Listener }>();
  readonly #recentIds = new Map<string, number>();
  readonly #duplicateWindowMs: number;
  readonly #queues = new Map<string, MemoryWorkQueue>();
  readonly #buckets = new Map<string, MemoryKeyValue>();
  /** Published before any consumer asked for them: kept, like a stream keeps them, until one does. */
  readonly #unclaimed: QueuedMessage[] = [];
  readonly #maxUnclaimed: number;
  readonly #logger: Logger | undefined;
  /** Unclaimed messages dropped because the buffer was full (oldest first, as a stream with DiscardOld). */
  dropped = 0;
  /** The count at the last warning about drops; undefined while the buffer has room. */
  #warnedAt: number | undefined;

  constructor(options: { duplicateWindowMs?: number; maxUnclaimed?: number; logger?: Logger } = {}) {
    this.#duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
    this.#maxUnclaimed = options.maxUnclaimed ?? 100_000;
    this.#logger = options.logger;
  }

  async publish(subject: string, payload: string, messageId: string): Promise<void> {
    const now = Date.now();
    for (const [id, at] of this.#recentIds) {
      if (now - at < this.#duplicateWindowMs) break;
      this.#recentIds.delete(id);
    }
    if (this.#recentIds.has(messageId)) return;
    this.#recentIds.set(messageId, now);
    for (const { pattern, listener } of this.#listeners) {
      if (pattern.test(subject)) listener({ subject, payload, messageId });
    }
    const message = { subject, payload, storedAtMs: now };
    const queue = [...this.#queues.values()].find((candidate) => candidate.filter.test(subject));
    if (queue) queue.enqueue(message);
    else {
      this.#unclaimed.push(message);
      if (this.#unclaimed.length > this.#maxUnclaimed) this.#dropOldest();
    }
  }

  /**
   * Nothing consumes these subjects in this process (a controller group without reconcilers): the
   * oldest goes, loudly. Nothing is lost for good — resync queues every waiting object again.
   */
  #dropOldest(): void {
    const message = this.#unclaimed.shift();
    this.dropped++;
    // Once when dropping starts (again), then every 1000 drops while it goes on.
    if (this.#warnedAt === undefined || this.dropped - this.#warnedAt >= 1000) {
      this.#warnedAt = this.dropped;
      this.#logger?.warn(
        { subject: message?.subject, dropped: this.dropped, waiting: this.#unclaimed.length },
        'no controller in this process consumes these notifications and the buffer is full; dropping the oldest (resync re-queues waiting objects)',
      );
    }
  }

  /** Listens on a NATS-style subject pattern; returns an unsubscribe function. */
  subscribe(pattern: string, listener: Listener): () => void {
    const entry = { pattern: subjectPattern(pattern), listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  async consumer(spec: ConsumerSpec): Promise<WorkQueueConsumer> {
    let queue = this.#queues.get(spec.durable);
    if (!queue) {
      queue = new MemoryWorkQueue(subjectPattern(spec.filterSubject), spec.ackWaitMs);
      this.#queues.set(spec.durable, queue);
      for (let index = 0; index < this.#unclaimed.length; ) {
        const message = this.#unclaimed[index]!;
        if (queue.filter.test(message.subject)) {
          queue.enqueue(message);
          this.#unclaimed.splice(index, 1);
        } else index++;
      }
      if (this.#unclaimed.length < this.#maxUnclaimed) this.#warnedAt = undefined;
    }
    return queue;
  }

  async keyValue(bucket: string): Promise<KeyValueStore> {
    let store = this.#buckets.get(bucket);
    if (!store) {
      store = new MemoryKeyValue();
      this.#buckets.set(bucket, store);
    }
    return store;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    for (const queue of this.#queues.values()) queue.close();
  }
}
