import { scopedSignal } from '../concurrency.ts';
import type { Delivery, WorkQueueConsumer } from './work-queue.ts';

export interface QueuedMessage {
  subject: string;
  payload: string;
  storedAtMs: number;
}

interface Entry extends QueuedMessage {
  seq: number;
  deliveries: number;
}

interface Waiter {
  push(entry: Entry): void;
}

/**
 * The in-process twin of a durable JetStream pull consumer on a work-queue stream: messages stay
 * until acked, nak redelivers after a delay, an unacked delivery comes back after the ack wait,
 * `working()` restarts that wait, `term()` drops. Fetches are served oldest message first.
 */
export class MemoryWorkQueue implements WorkQueueConsumer {
  readonly filter: RegExp;
  readonly #ackWaitMs: number;
  readonly #ready: Entry[] = [];
  readonly #delayed = new Set<NodeJS.Timeout>();
  readonly #unacked = new Map<number, NodeJS.Timeout>();
  readonly #waiters: Waiter[] = [];
  #seq = 0;
  #closed = false;

  constructor(filter: RegExp, ackWaitMs: number) {
    this.filter = filter;
    this.#ackWaitMs = ackWaitMs;
  }

  enqueue(message: QueuedMessage): void {
    if (this.#closed) return;
    this.#offer({ ...message, seq: ++this.#seq, deliveries: 0 });
  }

  async *fetch(max: number, expiresMs: number, signal: AbortSignal): AsyncIterable<Delivery> {
    let remaining = max;
    const expiry = scopedSignal([signal], expiresMs);
    try {
      while (remaining > 0 && !expiry.signal.aborted && !this.#closed) {
        const entry = this.#ready.shift() ?? (await this.#next(expiry.signal));
        if (!entry) return;
        remaining--;
        yield this.#deliver(entry);
      }
    } finally {
      expiry.dispose();
    }
  }

  async depth(): Promise<number> {
    return this.#ready.length + this.#delayed.size + this.#unacked.size;
  }

  close(): void {
    this.#closed = true;
    for (const timer of [...this.#delayed, ...this.#unacked.values()]) clearTimeout(timer);
    this.#delayed.clear();
    this.#unacked.clear();
    this.#ready.length = 0;
  }

  #next(signal: AbortSignal): Promise<Entry | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        push: (entry) => {
          signal.removeEventListener('abort', onAbort);
          resolve(entry);
        },
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #offer(entry: Entry): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.push(entry);
    else this.#ready.push(entry);
  }

  #deliver(entry: Entry): Delivery {
    entry.deliveries++;
    const delivery = entry.deliveries;
    const isCurrent = (): boolean => this.#unacked.has(entry.seq) && entry.deliveries === delivery;
    const settle = (): boolean => {
      if (!isCurrent()) return false;
      clearTimeout(this.#unacked.get(entry.seq));
      this.#unacked.delete(entry.seq);
      return true;
    };
    const armAckWait = (): void => {
      clearTimeout(this.#unacked.get(entry.seq));
      this.#unacked.set(entry.seq, setTimeout(() => settle() && this.#offer(entry), this.#ackWaitMs).unref());
    };
    armAckWait();
    return {
      subject: entry.subject,
      payload: entry.payload,
      sequence: entry.seq,
      deliveryCount: delivery,
      storedAtMs: entry.storedAtMs,
      ack: async () => void settle(),
      nak: (delayMs) => {
        if (!settle() || this.#closed) return;
        if (delayMs <= 0) return this.#offer(entry);
        const timer = setTimeout(() => {
          this.#delayed.delete(timer);
          this.#offer(entry);
        }, delayMs).unref();
        this.#delayed.add(timer);
      },
      working: () => {
        if (isCurrent()) armAckWait();
      },
      term: () => void settle(),
    };
  }
}
