import { JetStreamApiCodes, JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { KeyValueConflict, type KeyValueEntry, type KeyValueStore } from './key-value.ts';

export interface NatsKeyValueOptions {
  description?: string;
  /**
   * How long an entry nobody rewrites is kept (the bucket's max age). Only a backstop that
   * garbage-collects what crashed holders left: lock expiry itself is decided by the lock holder's
   * own deadline, so it does not depend on this. The original's 20 minutes; 0 keeps entries until
   * they are deleted.
   */
  maxAgeMs?: number;
}

const isSequenceConflict = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/** A NATS KV bucket behind the KeyValueStore contract; creates the bucket when it is missing. */
export async function openNatsKeyValue(nc: NatsConnection, bucket: string, options: NatsKeyValueOptions = {}): Promise<KeyValueStore> {
  const kvm = new Kvm(jetstream(nc));
  const kv = await kvm.create(bucket, {
    history: 1,
    ttl: options.maxAgeMs ?? 20 * 60_000,
    ...(options.description && { description: options.description }),
  });
  return new NatsKeyValue(kv);
}

class NatsKeyValue implements KeyValueStore {
  readonly #kv: KV;

  constructor(kv: KV) {
    this.#kv = kv;
  }

  async create(key: string, value: string): Promise<number> {
    try {
      return await this.#kv.create(key, value);
    } catch (error) {
      if (isSequenceConflict(error)) throw new KeyValueConflict(key);
      throw error;
    }
  }

  async get(key: string): Promise<KeyValueEntry | undefined> {
    const entry = await this.#kv.get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { value: entry.string(), revision: entry.revision };
  }

  async update(key: string, value: string, revision: number): Promise<number> {
    try {
      return await this.#kv.update(key, value, revision);
    } catch (error) {
      if (isSequenceConflict(error)) throw new KeyValueConflict(key);
      throw error;
    }
  }

  async delete(key: string, revision: number): Promise<void> {
    try {
      await this.#kv.delete(key, { previousSeq: revision });
    } catch (error) {
      if (isSequenceConflict(error)) throw new KeyValueConflict(key);
      throw error;
    }
  }
}
