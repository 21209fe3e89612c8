/**
 * A control plane for workload tests: the API (PGlite and the in-process bus, or PostgreSQL and
 * NATS), the workload and kubernetes-runtime controllers in this process, and the test bed's two
 * simulated clusters registered as runtimes. Everything stops after the test file.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { ControllerBus } from '../../../src/bus/work-queue.ts';
import { ApiClient } from '../../../src/client/api-client.ts';
import { ControllerManager } from '../../../src/controller/manager.ts';
import type { RuntimeOptions } from '../../../src/controller/options.ts';
import { partsOfGroups, type ControllerSettings } from '../../../src/controllers/catalog.ts';
import type { ControllerGroupName } from '../../../src/model/controller-groups.ts';
import { FieldCipher } from '../../../src/crypto/field-cipher.ts';
import { createLogger, silentLogger } from '../../../src/log.ts';
import type { ApiObject } from '../../../src/model/kind.ts';
import type { Manifest } from '../../../src/model/manifest.ts';
import type { ObjectOf } from '../../../src/model/object-types.ts';
import { KubernetesClient, type ResourceRef } from '../../../src/platform/kubernetes/index.ts';
import { KubernetesTransport } from '../../../src/platform/kubernetes/transport.ts';
import { readClusterConnection } from '../../../src/cli/providers/local-runtime.ts';
import { cleanUp, startApi, type ApiHarness, type ApiOptions } from '../../support/control-plane.ts';
import { eventually } from '../../support/eventually.ts';
import { kubeconfig } from '../../support/peers.ts';
import { uniqueName } from '../../support/samples.ts';

export type Cluster = 'a' | 'b';
type WorkloadInstance = ObjectOf<'WorkloadInstance'>;

export const testLogger = () => (process.env.THREEPORT_TEST_LOG ? createLogger('debug', 'test-workloads') : silentLogger());

/** Fast settings: short backoffs and checks, so recoveries and re-verifications happen within a test. */
export const fastRuntime: RuntimeOptions = {
  lockTtlMs: 5000,
  ackWaitMs: 10_000,
  backoff: { initialMs: 250, maxMs: 3000, jitter: 0.1 },
  lockWaitMs: 50,
  resyncIntervalMs: 10_000,
  shutdownGraceMs: 5000,
  fetchExpiresMs: 2000,
};

export interface WorkloadPlaneOptions extends ApiOptions {
  /** Run the controllers in this process (default true); false to run them elsewhere. */
  controllers?: boolean;
  settings?: Partial<ControllerSettings>;
  runtime?: RuntimeOptions;
  /** A bus of its own for the controllers (NATS); default the API's. */
  bus?: ControllerBus;
  /** The controller groups run. @default ['workload', 'kubernetes-runtime'] */
  groups?: ControllerGroupName[];
}

export interface WorkloadPlane {
  api: ApiHarness;
  client: ApiClient;
  managers: ControllerManager[];
  /** Starts (another) controller replica in this process. */
  startControllers(bus?: ControllerBus): Promise<ControllerManager>;
  /** Registers a test-bed cluster as a runtime and waits until it is Ready. */
  registerCluster(cluster: Cluster, fields?: ApiObject): Promise<ObjectOf<'KubernetesRuntimeInstance'>>;
  /** Creates a workload definition and an instance of it on `runtimeId`. */
  deploy(name: string, yaml: string, runtimeId: number, fields?: ApiObject): Promise<{ definition: ObjectOf<'WorkloadDefinition'>; instance: WorkloadInstance }>;
  /** Waits until the instance's Status starts with `status` (e.g. Healthy); returns it. */
  waitForStatus(instanceId: number, status: string | RegExp, timeoutMs?: number): Promise<WorkloadInstance>;
  /** A Kubernetes client for a test-bed cluster, to look at what is there. */
  kube(cluster: Cluster): Promise<KubernetesClient>;
}

const kubeClients = new Map<Cluster, Promise<KubernetesClient>>();

export function kubeOf(cluster: Cluster): Promise<KubernetesClient> {
  let client = kubeClients.get(cluster);
  if (!client) {
    const { path, context } = kubeconfig(cluster);
    const config = new KubeConfig();
    config.loadFromFile(path);
    config.setCurrentContext(context);
    client = KubernetesTransport.fromKubeConfig(config).then((transport) => new KubernetesClient(transport));
    kubeClients.set(cluster, client);
  }
  return client;
}

export async function startWorkloadPlane(options: WorkloadPlaneOptions = {}): Promise<WorkloadPlane> {
  const api = await startApi(options);
  const cipher = FieldCipher.fromBase64(api.encryptionKey);
  const managers: ControllerManager[] = [];
  const groups = options.groups ?? ['workload', 'kubernetes-runtime'];
  // With auth on, the controllers call the API with the roles of exactly the groups they run:
  // what a group writes of others' kinds must be in its alsoWrites.
  const auth = api.server.auth;
  const controllerClient = (): ApiClient =>
    auth
      ? new ApiClient({ baseUrl: api.url, tls: { ca: auth.caCertificate }, token: auth.resolver.internalToken({ name: `controllers:${groups.join(',')}`, roles: groups.map((group) => `controller:${group}` as const) }) })
      : new ApiClient({ baseUrl: api.url });
  const startControllers = async (bus: ControllerBus = options.bus ?? api.server.bus): Promise<ControllerManager> => {
    const { reconcilers, runnables } = partsOfGroups(groups, {
      apiUrl: api.url,
      agentImage: 'ghcr.io/threeport/threeport-ts:test',
      runtimeCheckIntervalMs: 3000,
      agentFlushIntervalMs: 200,
      ...(auth && { agentAccess: { caCertificate: auth.caCertificate } }),
      ...options.settings,
    });
    const manager = new ControllerManager({ bus, client: controllerClient(), reconcilers, runnables, logger: testLogger(), cipher, runtime: { ...fastRuntime, ...options.runtime } });
    await manager.start();
    cleanUp(() => manager.stop());
    managers.push(manager);
    return manager;
  };
  if (options.controllers !== false) await startControllers();
  const client = api.client;

  const plane: WorkloadPlane = {
    api,
    client,
    managers,
    startControllers,
    async registerCluster(cluster, fields = {}) {
      const { path, context } = kubeconfig(cluster);
      const { context: _context, ...connection } = readClusterConnection(path, context);
      const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName(`runtime-${cluster}`), InfraProvider: 'kind' });
      const runtime = await client.kind('KubernetesRuntimeInstance').create({
        Name: uniqueName(`runtime-${cluster}`),
        Location: 'Local',
        KubernetesRuntimeDefinitionID: definition.ID,
        ...connection,
        ...fields,
      });
      let ready = runtime;
      await eventually(`runtime ${runtime.Name} Ready`, async () => {
        ready = await client.kind('KubernetesRuntimeInstance').get(runtime.ID);
        return String(ready.Status ?? '').startsWith('Ready') || `Status: ${String(ready.Status)}`;
      });
      return ready;
    },
    async deploy(name, yaml, runtimeId, fields = {}) {
      const definition = await client.kind('WorkloadDefinition').create({ Name: name, YAMLDocument: yaml });
      const instance = await client.kind('WorkloadInstance').create({ Name: name, WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimeId, ...fields });
      return { definition, instance };
    },
    async waitForStatus(instanceId, status, timeoutMs = 90_000) {
      let current: WorkloadInstance | undefined;
      await eventually(
        `workload instance ${instanceId} ${String(status)}`,
        async () => {
          current = await client.kind('WorkloadInstance').get(instanceId);
          const line = String(current.Status ?? '');
          return (typeof status === 'string' ? line.startsWith(status) : status.test(line)) || `Status: ${line || '(none)'}`;
        },
        timeoutMs,
        200,
      );
      return current!;
    },
    kube: kubeOf,
  };
  return plane;
}

/** The live object, or undefined. */
export async function live(cluster: KubernetesClient, ref: ResourceRef): Promise<Manifest | undefined> {
  return cluster.get(ref);
}

/** The instance's resource records, by ResourceKey. */
export async function resourceRecords(client: ApiClient, instanceId: number): Promise<Map<string, ObjectOf<'WorkloadResourceInstance'>>> {
  const records = await client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: instanceId });
  return new Map(records.map((record) => [String(record.ResourceKey), record]));
}

/** The namespace the instance's namespaced resources went into (from its records). */
export async function namespaceOf(client: ApiClient, instanceId: number): Promise<string> {
  const records = await resourceRecords(client, instanceId);
  const namespace = [...records.values()].map((record) => (record.JSONDefinition as Manifest).metadata.namespace).find(Boolean);
  if (!namespace) throw new Error(`workload instance ${instanceId} has no namespaced resource`);
  return namespace;
}

/** Deletes every object of each kind in turn (what uses a thing before the thing), waiting until each kind is gone: the clusters are shared between test files. */
export async function deleteEvery(client: ApiClient, kinds: readonly string[], timeoutMs = 120_000): Promise<void> {
  for (const kind of kinds) {
    for (const object of await client.kind(kind).listAll()) await client.kind(kind).delete(Number(object.ID)).catch(() => undefined);
    await eventually(`every ${kind} gone`, async () => (await client.kind(kind).listAll()).length === 0, timeoutMs);
  }
}
