import type { KeyValueStore } from '../bus/key-value.ts';
import type { ApiClient } from '../client/api-client.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Logger } from '../log.ts';
import type { ControllerGroupName } from '../model/controller-groups.ts';

/** What a long-running part of a controller group gets from the manager that runs it. */
export interface RunnableEnvironment {
  client: ApiClient;
  cipher: FieldCipher | undefined;
  logger: Logger;
  /** Aborts when the manager stops. */
  signal: AbortSignal;
  /** Identifies this process in locks. */
  ownerId: string;
  lockTtlMs: number;
  /** The group's lock bucket (NATS KV, or in memory), for leases among replicas. */
  lockStore(): Promise<KeyValueStore>;
}

/**
 * Something a controller group runs beside its reconcilers (e.g. the agents the control plane runs
 * for clusters that can't run their own). `run` resolves when the signal has aborted and it stopped.
 */
export interface Runnable {
  name: string;
  group: ControllerGroupName;
  run(environment: RunnableEnvironment): Promise<void>;
}
