import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConsumerSpec, Delivery, WorkQueueConsumer } from './work-queue.ts';

const nanos = (milliseconds: number): number => milliseconds * 1_000_000;

/**
 * Creates the durable pull consumer, or updates it to `spec` (the original's controllers may have
 * created it with server defaults).
 */
export async function ensureNatsConsumer(nc: NatsConnection, spec: ConsumerSpec): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    filter_subject: spec.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    // Unlimited: the runtime spaces retries itself (backoff), and drops undecodable messages.
    max_deliver: -1,
    max_ack_pending: 10_000,
  };
  try {
    await jsm.consumers.info(spec.stream, spec.durable);
    await jsm.consumers.update(spec.stream, spec.durable, config);
  } catch (error) {
    if (!/consumer not found/i.test((error as Error).message)) throw error;
    await jsm.consumers.add(spec.stream, config);
  }
}

/** A durable JetStream pull consumer behind the WorkQueueConsumer contract. */
export class NatsWorkQueueConsumer implements WorkQueueConsumer {
  readonly #connection: () => Promise<NatsConnection>;
  readonly #spec: ConsumerSpec;
  #ensured = false;

  constructor(connection: () => Promise<NatsConnection>, spec: ConsumerSpec) {
    this.#connection = connection;
    this.#spec = spec;
  }

  async *fetch(max: number, expiresMs: number, signal: AbortSignal): AsyncIterable<Delivery> {
    const nc = await this.#connection();
    if (!this.#ensured) {
      await ensureNatsConsumer(nc, this.#spec);
      this.#ensured = true;
    }
    const consumer = await jetstream(nc).consumers.get(this.#spec.stream, this.#spec.durable);
    const messages = await consumer.fetch({ max_messages: max, expires: expiresMs, idle_heartbeat: Math.min(5000, Math.max(1000, expiresMs / 4)) });
    const stop = (): void => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const message of messages) yield toDelivery(message);
    } catch (error) {
      // A consumer lost with the broker's store: create it again on the next fetch.
      if (/consumer not found|stream not found/i.test((error as Error).message)) this.#ensured = false;
      throw error;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  async depth(): Promise<number> {
    const nc = await this.#connection();
    const info = await (await jetstreamManager(nc)).consumers.info(this.#spec.stream, this.#spec.durable);
    return info.num_pending + info.num_ack_pending;
  }
}

function toDelivery(message: JsMsg): Delivery {
  return {
    subject: message.subject,
    payload: message.string(),
    sequence: message.info.streamSequence,
    deliveryCount: message.info.deliveryCount,
    storedAtMs: Number(message.info.timestampNanos) / 1e6,
    // A lost ack or nak (NATS away) only means a redelivery after the ack wait, which the runtime
    // absorbs: don't wait for the broker's reply, and never throw from here.
    ack: async () => quietly(() => message.ack()),
    nak: (delayMs) => quietly(() => message.nak(Math.max(0, Math.round(delayMs)))),
    working: () => quietly(() => message.working()),
    term: () => quietly(() => message.term()),
  };
}

function quietly(send: () => void): void {
  try {
    send();
  } catch {
    // the connection is closed or reconnecting; see above
  }
}
