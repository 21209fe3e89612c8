import type { Publisher } from './publisher.ts';

export interface BusMessage {
  subject: string;
  payload: string;
  messageId: string;
}

type Listener = (message: BusMessage) => void;

/**
 * The in-process bus of the embedded mode: same contract as NATS for the publishing side, with
 * subscribers in the same process. Duplicate message IDs within the window are dropped, as JetStream does.
 */
export class MemoryBus implements Publisher {
  readonly #listeners = new Set<{ pattern: RegExp; listener: Listener }>();
  readonly #recentIds = new Map<string, number>();
  readonly #duplicateWindowMs: number;

  constructor(options: { duplicateWindowMs?: number } = {}) {
    this.#duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
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
  }

  /** Listens on a NATS-style subject pattern (`*` one token, `>` the rest); returns an unsubscribe function. */
  subscribe(subjectPattern: string, listener: Listener): () => void {
    const source = subjectPattern
      .split('.')
      .map((token) => (token === '*' ? '[^.]+' : token === '>' ? '.+' : token.replace(/[-/\\^$+?()|[\]{}]/g, '\\$&')))
      .join('\\.');
    const entry = { pattern: new RegExp(`^${source}$`), listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
