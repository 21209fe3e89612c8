/**
 * The two ways the runtime is wired, as real peers: the embedded bus (PGlite API, the API's
 * in-process bus, queues and locks shared by every manager in the process) and NATS JetStream
 * (PostgreSQL API whose relay publishes to a private nats-server; each manager a replica with its
 * own connection). Tests whose behaviour depends on the bus run on both.
 */
import { NatsBus } from '../../../src/bus/nats.ts';
import { streamConfigs } from '../../../src/bus/streams.ts';
import type { ControllerBus } from '../../../src/bus/work-queue.ts';
import type { KeyValueStore } from '../../../src/bus/key-value.ts';
import { registry } from '../../../src/model/registry.ts';
import { cleanUp, startApi, type ApiHarness } from '../../support/control-plane.ts';
import { startNats, type NatsHandle } from '../../support/peers.ts';
import { testLogger } from './harness.ts';

export type BusName = 'embedded' | 'nats';
export const buses: readonly BusName[] = ['embedded', 'nats'];

export interface Bed {
  name: BusName;
  api: ApiHarness;
  nats: NatsHandle | undefined;
  /** The bus of one controller process: the API's own in-process bus, or a new NATS connection. */
  controllerBus(): Promise<ControllerBus>;
  /** The lock bucket of a kind's controller group, as the controllers see it (`workloadLock`, …). */
  lockStore(kind: string): Promise<KeyValueStore>;
}

/** Opened exactly as the manager opens it (NATS refuses a bucket re-declared with other settings). */
function lockBucket(bus: ControllerBus, kind: string): Promise<KeyValueStore> {
  const group = registry.get(kind).controller!;
  return bus.keyValue(group.lockBucket, `contains locks on ${group.name} objects`);
}

export async function startBed(name: BusName): Promise<Bed> {
  if (name === 'embedded') {
    const api = await startApi({ database: 'pglite' });
    return { name, api, nats: undefined, controllerBus: async () => api.server.bus, lockStore: (kind) => lockBucket(api.server.bus, kind) };
  }
  const nats = await startNats();
  const api = await startApi({ database: 'postgres', natsUrl: nats.url });
  const controllerBus = async (): Promise<ControllerBus> => {
    const bus = new NatsBus({ url: nats.url, logger: testLogger(), streams: streamConfigs(registry) });
    cleanUp(() => bus.close());
    return bus;
  };
  let shared: Promise<ControllerBus> | undefined;
  return {
    name,
    api,
    nats,
    controllerBus,
    lockStore: async (kind) => lockBucket(await (shared ??= controllerBus()), kind),
  };
}
