import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type StreamConfig } from '@nats-io/jetstream';
import type { Logger } from '../log.ts';
import type { KeyValueStore } from './key-value.ts';
import { openNatsKeyValue } from './nats-key-value.ts';
import { NatsWorkQueueConsumer } from './nats-work-queue.ts';
import type { ConsumerSpec, ControllerBus, WorkQueueConsumer } from './work-queue.ts';
import { parseNatsUrl, redactUrl } from './nats-url.ts';

export type StreamSpec = Partial<StreamConfig> & { name: string };

export interface NatsBusOptions {
  url: string;
  logger: Logger;
  /** Streams to create or update on every (re)connection. */
  streams: StreamSpec[];
  /** How long a publish waits for the broker before the relay tries again later. */
  publishTimeoutMs?: number;
}


/**
 * NATS JetStream. Connects in the background and keeps reconnecting, so the API keeps accepting
 * writes while NATS is away; the outbox holds their notifications until it is back.
 */
export class NatsBus implements ControllerBus {
  readonly #options: NatsBusOptions;
  readonly #connection: Promise<NatsConnection>;
  #js: JetStreamClient | undefined;
  #connected: NatsConnection | undefined;
  #streamsReady: Promise<void> | undefined;
  #closed = false;

  constructor(options: NatsBusOptions) {
    parseNatsUrl(options.url);
    this.#options = options;
    this.#connection = connect({
      servers: options.url,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      name: 'threeport',
    });
    this.#connection.then(
      (nc) => this.#watch(nc),
      (error: unknown) => options.logger.error({ err: error }, 'NATS connection failed'),
    );
  }

  /** The live connection (the controller runtime shares it for consumers and locks). */
  connection(): Promise<NatsConnection> {
    return this.#connection;
  }

  async publish(subject: string, payload: string, messageId: string): Promise<void> {
    const js = await this.#jetstream();
    try {
      await js.publish(subject, payload, { msgID: messageId, timeout: this.#options.publishTimeoutMs ?? 5000 });
    } catch (error) {
      // A NATS server that lost its store has no streams: recreate them before the retry.
      this.#streamsReady = undefined;
      throw error;
    }
  }

  /** A durable pull consumer on one of the streams (created when first fetched from). */
  async consumer(spec: ConsumerSpec): Promise<WorkQueueConsumer> {
    return new NatsWorkQueueConsumer(async () => {
      await this.#jetstream();
      return this.#connection;
    }, spec);
  }

  /** A KV bucket (the lock buckets, resync's records), created when missing. */
  async keyValue(bucket: string, description: string, options: { maxAgeMs?: number } = {}): Promise<KeyValueStore> {
    await this.#jetstream();
    return openNatsKeyValue(await this.#connection, bucket, { description, ...(options.maxAgeMs !== undefined && { maxAgeMs: options.maxAgeMs }) });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const nc = await Promise.race([this.#connection, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100))]);
    await nc?.drain().catch(() => nc.close());
  }

  async #jetstream(): Promise<JetStreamClient> {
    const nc = this.#connected ?? (await this.#firstConnection());
    if (nc.isClosed()) throw new Error('NATS connection closed');
    this.#streamsReady ??= this.#ensureStreams(nc).catch((error: unknown) => {
      this.#streamsReady = undefined;
      throw error;
    });
    await this.#streamsReady;
    this.#js ??= jetstream(nc);
    return this.#js;
  }

  /** Waits for the first connection, but no longer than a publish may wait. */
  async #firstConnection(): Promise<NatsConnection> {
    const timeoutMs = this.#options.publishTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    try {
      this.#connected = await Promise.race([
        this.#connection,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`NATS at ${redactUrl(this.#options.url)} is not reachable`)), timeoutMs);
        }),
      ]);
      return this.#connected;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Creates missing streams and updates ours. A stream that exists but refuses our settings (one an
   * older threeport made with other retention, say) is used as it is, with a warning: refusing to
   * publish into it would strand every notification.
   */
  async #ensureStreams(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc);
    for (const config of this.#options.streams) {
      const exists = await jsm.streams.info(config.name).then(
        () => true,
        (error: unknown) => {
          if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return false;
          throw error;
        },
      );
      if (!exists) {
        await jsm.streams.add(config);
        continue;
      }
      await jsm.streams.update(config.name, config).catch((error: unknown) => {
        this.#options.logger.warn({ stream: config.name, err: error }, 'the existing stream keeps its own settings');
      });
    }
  }

  async #watch(nc: NatsConnection): Promise<void> {
    const { logger } = this.#options;
    logger.info({ server: nc.getServer() }, 'connected to NATS');
    this.#jetstream().catch((error: unknown) => logger.warn({ err: error }, 'cannot create the JetStream streams yet'));
    for await (const status of nc.status()) {
      if (this.#closed) return;
      if (status.type === 'disconnect') logger.warn('NATS disconnected; notifications wait in the outbox');
      if (status.type === 'reconnect') {
        this.#streamsReady = undefined;
        logger.info('NATS reconnected');
        this.#jetstream().catch((error: unknown) => logger.warn({ err: error }, 'cannot create the JetStream streams yet'));
      }
    }
  }
}
