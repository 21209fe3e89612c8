import type { KeyValueStore } from './key-value.ts';
import type { Publisher } from './publisher.ts';

/**
 * One notification handed to a consumer. Until it is acked it belongs to this consumer; if it is
 * neither acked nor kept alive with `working()` within the ack wait, it is delivered again.
 */
export interface Delivery {
  readonly subject: string;
  readonly payload: string;
  /** The message's identity in its stream: the same on every redelivery. */
  readonly sequence: number;
  /** 1 on the first delivery, counting every redelivery and nak since. */
  readonly deliveryCount: number;
  /** When the broker stored the message (ms since the epoch). */
  readonly storedAtMs: number;
  /** Done with it: the broker removes it (work-queue retention). */
  ack(): Promise<void>;
  /** Give it back, to be delivered again (to any consumer replica) after `delayMs`. */
  nak(delayMs: number): void;
  /** Still on it: restarts the ack wait. */
  working(): void;
  /** Never deliver it again (an undecodable message). */
  term(): void;
}

/** A durable consumer on a work-queue stream, shared by every replica that opens it. */
export interface WorkQueueConsumer {
  /**
   * Asks for up to `max` deliveries and yields each as soon as it arrives; ends when `max` came,
   * after `expiresMs`, or when `signal` aborts. Throws when the broker cannot be reached.
   */
  fetch(max: number, expiresMs: number, signal: AbortSignal): AsyncIterable<Delivery>;
  /** Messages waiting plus those handed out and not yet acked (the queue depth). */
  depth(): Promise<number>;
}

export interface ConsumerSpec {
  stream: string;
  /** Durable name, shared by replicas: `<Kind>ReconcilerConsumer`. */
  durable: string;
  /** e.g. `workloadDefinition.*` */
  filterSubject: string;
  ackWaitMs: number;
}

/** What the controller runtime needs from a bus: consumers, lock storage, and publishing (resync). */
export interface ControllerBus extends Publisher {
  consumer(spec: ConsumerSpec): Promise<WorkQueueConsumer>;
  /**
   * A key-value bucket, created when missing. `maxAgeMs` bounds how long an entry nobody rewrites
   * is kept (NATS KV's max age; 0: until deleted); it applies when the bucket is created.
   */
  keyValue(bucket: string, description: string, options?: { maxAgeMs?: number }): Promise<KeyValueStore>;
}
