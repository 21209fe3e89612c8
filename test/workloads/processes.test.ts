/**
 * threeport's processes failing and coming back: an agent restarted mid-run, two controller
 * replicas on one workload set, a controller killed (-9) half-way through an apply.
 */
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/client/api-client.ts';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import type { KubernetesClient } from '../../src/platform/kubernetes/index.ts';
import { readClusterConnection } from '../../src/cli/providers/local-runtime.ts';
import { spawnApi } from '../support/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { freshDatabase, kubeconfig, startNats } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from './support/manifests.ts';
import { spawnAgent, spawnController } from './support/processes.ts';
import { kubeOf, namespaceOf, resourceRecords, startWorkloadPlane, type Cluster } from './support/workload-plane.ts';

async function registerRuntime(client: ApiClient, cluster: Cluster, fields: Record<string, unknown> = {}): Promise<number> {
  const { path, context } = kubeconfig(cluster);
  const { context: _context, ...connection } = readClusterConnection(path, context);
  const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('runtime'), InfraProvider: 'kind' });
  const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: uniqueName('runtime'), Location: 'Local', KubernetesRuntimeDefinitionID: definition.ID, ...connection, ...fields });
  await eventually('runtime Ready', async () => String((await client.kind('KubernetesRuntimeInstance').get(runtime.ID)).Status).startsWith('Ready'), 90_000);
  return runtime.ID;
}

async function statusOf(client: ApiClient, id: number): Promise<string> {
  return String((await client.kind('WorkloadInstance').get(id)).Status ?? '');
}

/** What of an instance is in the cluster, by kind: exactly its records, nothing twice, nothing else. */
async function clusterMatchesRecords(client: ApiClient, kube: KubernetesClient, instanceId: number): Promise<void> {
  const records = await resourceRecords(client, instanceId);
  const selector = `control-plane.threeport.io/workload-instance=${instanceId}`;
  const inCluster = new Set<string>();
  for (const [apiVersion, kind] of [['v1', 'ConfigMap'], ['apps/v1', 'Deployment'], ['v1', 'Service'], ['v1', 'Namespace']] as const) {
    for (const item of (await kube.list(apiVersion, kind, { labelSelector: selector })).items) {
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
      inCluster.add(`${group}/${kind}/${item.metadata.namespace ?? ''}/${item.metadata.name}`);
    }
  }
  expect([...inCluster].sort()).toEqual([...records.keys()].sort());
}

describe('the agent as a process, restarted mid-run', async () => {
  const plane = await startWorkloadPlane();
  const runtimeId = await registerRuntime(plane.client, 'a', { AgentLocation: 'External' });
  const { path, context } = kubeconfig('a');

  it('status keeps flowing: what changed while it was down is reported when it is back, events never twice', async () => {
    let agent = await spawnAgent({ apiUrl: plane.api.url, kubeconfig: path, context });
    const { definition, instance } = await plane.deploy(uniqueName('agent'), web(), runtimeId);
    await plane.waitForStatus(instance.ID, 'Healthy');
    await agent.kill();

    await plane.client.kind('WorkloadDefinition').update(definition.ID, { YAMLDocument: web({ replicas: 3 }) });
    await eventually('scaled in the cluster', async () => {
      const namespace = await namespaceOf(plane.client, instance.ID);
      const deployment = await (await kubeOf('a')).get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
      return (deployment?.status as { readyReplicas?: number } | undefined)?.readyReplicas === 3;
    });
    const staleHealth = await statusOf(plane.client, instance.ID);
    const eventsBefore = await plane.client.kind('WorkloadEvent').listAll({ workloadinstanceid: instance.ID });

    agent = await spawnAgent({ apiUrl: plane.api.url, kubeconfig: path, context });
    await eventually('the live Deployment reported', async () => {
      const records = await resourceRecords(plane.client, instance.ID);
      const deployment = [...records.values()].find((record) => String(record.ResourceKey).startsWith('apps/Deployment/'));
      return (deployment?.RuntimeDefinition as Manifest | undefined)?.status !== undefined && ((deployment!.RuntimeDefinition as Manifest).status as { readyReplicas?: number }).readyReplicas === 3;
    });
    await eventually('the new pods’ events reported', async () => (await plane.client.kind('WorkloadEvent').list({ workloadinstanceid: instance.ID })).total > eventsBefore.length);
    await plane.waitForStatus(instance.ID, 'Healthy');
    expect(staleHealth).toMatch(/^Healthy/);
    const events = await plane.client.kind('WorkloadEvent').listAll({ workloadinstanceid: instance.ID });
    expect(new Set(events.map((event) => event.RuntimeEventUID)).size).toBe(events.length);
    await agent.kill();
  });
});

describe('controllers as processes on NATS, the API on PostgreSQL', async () => {
  const nats = await startNats();
  const encryptionKey = FieldCipher.generateKey();
  const api = await spawnApi({ databaseUrl: await freshDatabase(), natsUrl: nats.url, encryptionKey });
  const { client } = api;

  it('two replicas: every instance’s resources exist once, nothing duplicated', { timeout: 240_000 }, async () => {
    const replicas = [await spawnController({ apiUrl: api.url, natsUrl: nats.url, encryptionKey }), await spawnController({ apiUrl: api.url, natsUrl: nats.url, encryptionKey })];
    const runtimeId = await registerRuntime(client, 'b');
    const definition = await client.kind('WorkloadDefinition').create({ Name: uniqueName('replicas'), YAMLDocument: web() });
    const instances = await Promise.all(
      Array.from({ length: 12 }, (_, index) => client.kind('WorkloadInstance').create({ Name: uniqueName(`replica-${index}`), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimeId })),
    );
    for (const instance of instances) await eventually(`instance ${instance.Name} Healthy`, async () => (await statusOf(client, instance.ID)).startsWith('Healthy'), 120_000);
    const kube = await kubeOf('b');
    for (const instance of instances) {
      expect((await resourceRecords(client, instance.ID)).size).toBe(4);
      await clusterMatchesRecords(client, kube, instance.ID);
    }
    for (const replica of replicas) await replica.kill();
  });

  it('a controller killed (-9) half-way through an apply: the next one converges, nothing duplicated or left over', { timeout: 300_000 }, async () => {
    let controller = await spawnController({ apiUrl: api.url, natsUrl: nats.url, encryptionKey });
    const runtimeId = await registerRuntime(client, 'a');
    const count = 150;
    const configMaps = Array.from({ length: count }, (_, index) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: part-${index} }\ndata: { index: "${index}" }`).join('\n---\n');
    const definition = await client.kind('WorkloadDefinition').create({ Name: uniqueName('crash'), YAMLDocument: `${web()}---\n${configMaps}` });
    await eventually('definition reconciled', async () => (await client.kind('WorkloadDefinition').get(definition.ID)).Reconciled === true);
    const kube = await kubeOf('a');

    // Kill it while part of the manifests are applied; a fast machine may finish first, so try a few instances.
    let interrupted: number | undefined;
    for (let attempt = 0; attempt < 4 && interrupted === undefined; attempt++) {
      if (attempt > 0) controller = await spawnController({ apiUrl: api.url, natsUrl: nats.url, encryptionKey });
      const instance = await client.kind('WorkloadInstance').create({ Name: uniqueName('crash'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimeId });
      const selector = `control-plane.threeport.io/workload-instance=${instance.ID}`;
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        const applied = (await kube.list('v1', 'ConfigMap', { labelSelector: selector })).items.length;
        if (applied > 0 && applied < count) {
          await controller.kill();
          interrupted = instance.ID;
          break;
        }
        if (applied === count) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await controller.kill();
    }
    expect(interrupted, 'a kill landed in the middle of an apply').toBeDefined();
    const partly = (await kube.list('v1', 'ConfigMap', { labelSelector: `control-plane.threeport.io/workload-instance=${interrupted}` })).items.length;
    expect(partly).toBeLessThan(count);

    await spawnController({ apiUrl: api.url, natsUrl: nats.url, encryptionKey });
    await eventually('converged', async () => (await client.kind('WorkloadInstance').get(interrupted!)).Reconciled === true || (await statusOf(client, interrupted!)), 120_000);
    await eventually('Healthy', async () => (await statusOf(client, interrupted!)).startsWith('Healthy') || (await statusOf(client, interrupted!)), 120_000);
    const records = await resourceRecords(client, interrupted!);
    expect(records.size).toBe(count + 4);
    await clusterMatchesRecords(client, kube, interrupted!);
  });
});
