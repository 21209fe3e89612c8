/**
 * A workload's life on a real kube-apiserver (kwok nodes): create → running → Healthy, a changed
 * definition rolled out, a removed resource pruned, a CRD with a resource of it, the namespace
 * rules, and delete → gone from the cluster and the API.
 */
import { describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/client/api-client.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';
import { web, widgetCrdAndWidget, wordpress } from './support/manifests.ts';
import { namespaceOf, resourceRecords, startWorkloadPlane } from './support/workload-plane.ts';

describe('workloads on a simulated cluster', async () => {
  const plane = await startWorkloadPlane({ auth: true });
  const { client } = plane;
  const runtimeA = await plane.registerCluster('a', { DefaultRuntime: true });
  const runtimeB = await plane.registerCluster('b');
  const kubeA = await plane.kube('a');
  const kubeB = await plane.kube('b');

  it('the original wordpress sample without a namespace: applied in a namespace of its own, running, Healthy, its events reported', async () => {
    const name = uniqueName('wordpress');
    const { instance } = await plane.deploy(name, wordpress(), runtimeA.ID);
    const healthy = await plane.waitForStatus(instance.ID, 'Healthy');
    expect(healthy).toMatchObject({ Reconciled: true, ObservedGeneration: healthy.Generation });

    const namespace = await namespaceOf(client, instance.ID);
    expect(namespace).toMatch(new RegExp(`^${name}-[a-z0-9]{10}$`));
    const records = await resourceRecords(client, instance.ID);
    expect([...records.keys()].sort()).toEqual(
      [`/Namespace//${namespace}`, `apps/Deployment/${namespace}/wordpress`, `/Service/${namespace}/wordpress`, `apps/StatefulSet/${namespace}/mariadb`, `/Service/${namespace}/mariadb`].sort(),
    );
    const deployment = await kubeA.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'wordpress', namespace });
    expect(deployment?.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'threeport',
      'control-plane.threeport.io/workload-instance': String(instance.ID),
      'control-plane.threeport.io/managed-by': 'threeport',
    });
    const pods = await kubeA.list('v1', 'Pod', { namespace, labelSelector: `control-plane.threeport.io/workload-instance=${instance.ID}` });
    expect(pods.items.map((pod) => (pod.status as { phase?: string }).phase)).toEqual(['Running', 'Running']);
    const claims = await kubeA.list('v1', 'PersistentVolumeClaim', { namespace });
    expect(claims.items.map((claim) => (claim.status as { phase?: string }).phase)).toEqual(['Bound']);
    // The agent reports each resource's live object into its record…
    await eventually('live objects recorded', async () => {
      const current = await resourceRecords(client, instance.ID);
      return [...current.values()].every((record) => (record.RuntimeDefinition as Manifest | undefined)?.metadata?.uid !== undefined);
    });
    // …and the cluster's events about the workload, once each.
    await eventually('pod events reported', async () => {
      const events = await client.kind('WorkloadEvent').listAll({ workloadinstanceid: instance.ID });
      const reasons = new Set(events.map((event) => event.Reason));
      // The scheduler's, the controllers' and the kubelet's (kwok plays it), as on a real cluster.
      return ['Scheduled', 'Pulled', 'Created', 'Started', 'SuccessfulCreate', 'ScalingReplicaSet'].every((reason) => reasons.has(reason)) || `reasons: ${[...reasons].join(', ')}`;
    });
    const events = await client.kind('WorkloadEvent').listAll({ workloadinstanceid: instance.ID });
    expect(new Set(events.map((event) => event.RuntimeEventUID)).size).toBe(events.length);
    expect(events.find((event) => event.Reason === 'Started')?.Message).toMatch(/^Started container (wordpress|mariadb)$/);
  });

  it('a definition edit is rolled out to its instance; a resource removed from it is pruned', async () => {
    const name = uniqueName('web');
    const { definition, instance } = await plane.deploy(name, web(), runtimeA.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);

    // A new image, and the ConfigMap gone.
    const edited = web({ image: 'nginx:1.28' }).split('---').filter((document) => !document.includes('kind: ConfigMap')).join('---');
    await client.kind('WorkloadDefinition').update(definition.ID, { YAMLDocument: edited });
    await eventually('new image rolled out', async () => {
      const deployment = await kubeA.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
      const image = (deployment?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image;
      return image === 'nginx:1.28' || `image ${image}`;
    });
    await eventually('ConfigMap pruned', async () => !(await kubeA.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-settings', namespace })));
    const healthy = await plane.waitForStatus(instance.ID, 'Healthy');
    expect(healthy.ObservedGeneration).toBe(healthy.Generation);
    // The agent's health is about the generation that was rolled out.
    await eventually('health of the new generation', async () => {
      const current = await client.kind('WorkloadInstance').get(instance.ID);
      const health = current.Conditions?.find((condition) => condition.Type === 'Healthy');
      return (health?.Status === 'True' && health.ObservedGeneration === current.Generation) || JSON.stringify(health);
    });
    // Its record goes after the cluster object does.
    await eventually('ConfigMap record removed', async () => ![...(await resourceRecords(client, instance.ID)).keys()].some((key) => key.includes('ConfigMap')));
    const definitions = await client.kind('WorkloadResourceDefinition').listAll({ workloaddefinitionid: definition.ID });
    expect(definitions.map((resource) => resource.ResourceKey).sort()).toEqual(['/Service//web', 'apps/Deployment//web']);
  });

  it('a CRD and a resource of it in one definition', async () => {
    const group = `${uniqueName('widgets')}.example.com`;
    const { instance } = await plane.deploy(uniqueName('crd'), widgetCrdAndWidget(group), runtimeB.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    const widget = await kubeB.get({ apiVersion: `${group}/v1`, kind: 'Widget', name: 'first', namespace });
    expect(widget?.spec).toEqual({ size: 3 });
    await client.kind('WorkloadInstance').delete(instance.ID);
    await eventually('CRD removed', async () => !(await kubeB.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: `widgets.${group}` })));
  });

  it('a definition that brings its namespace: used as is, one instance per runtime', async () => {
    const namespace = uniqueName('shop');
    const { definition, instance } = await plane.deploy(uniqueName('shop'), wordpress({ namespace }), runtimeB.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    expect(await namespaceOf(client, instance.ID)).toBe(namespace);
    const records = await resourceRecords(client, instance.ID);
    expect([...records.keys()].filter((key) => key.startsWith('/Namespace/'))).toEqual([`/Namespace//${namespace}`]);

    const second = await client.kind('WorkloadInstance').create({ Name: uniqueName('shop-2'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimeB.ID });
    const refused = await plane.waitForStatus(second.ID, 'Failed');
    expect(refused.Status).toContain(`namespace ${namespace} on this runtime already belongs to workload instance ${instance.ID}`);
    // On another runtime it is fine.
    const elsewhere = await client.kind('WorkloadInstance').create({ Name: uniqueName('shop-3'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimeA.ID });
    await plane.waitForStatus(elsewhere.ID, 'Healthy');
  });

  it('an instance without a runtime goes to the default runtime', async () => {
    const definition = await client.kind('WorkloadDefinition').create({ Name: uniqueName('default'), YAMLDocument: web() });
    const instance = await client.kind('WorkloadInstance').create({ Name: uniqueName('default'), WorkloadDefinitionID: definition.ID });
    expect(instance.KubernetesRuntimeInstanceID).toBe(runtimeA.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
  });

  it('manifests that are not Kubernetes objects: a clear error on the definition, the instance waits', async () => {
    const yaml = `${web()}---\napiVersion: v1\nkind: ConfigMap\ndata: { nameless: true }\n`;
    const { definition, instance } = await plane.deploy(uniqueName('bad'), yaml, runtimeA.ID);
    await eventually('definition failed', async () => {
      const current = await client.kind('WorkloadDefinition').get(definition.ID);
      return String(current.Status).startsWith('Failed: YAMLDocument document 4') || `Status: ${String(current.Status)}`;
    });
    expect((await client.kind('WorkloadDefinition').get(definition.ID)).Status).toContain('(ConfigMap) has no metadata.name');
    const waiting = await plane.waitForStatus(instance.ID, 'Waiting');
    expect(waiting.Status).toContain(`workload definition ${definition.Name} is not reconciled yet`);
    // Fixed, it goes through.
    await client.kind('WorkloadDefinition').update(definition.ID, { YAMLDocument: web() });
    await plane.waitForStatus(instance.ID, 'Healthy');
  });

  it('delete: every resource gone from the cluster, the records, events and ThreeportWorkload too', { timeout: 180_000 }, async () => {
    const { definition, instance } = await plane.deploy(uniqueName('gone'), wordpress(), runtimeA.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    expect((await client.kind('WorkloadEvent').list({ workloadinstanceid: instance.ID })).total).toBeGreaterThan(0);

    await client.kind('WorkloadInstance').delete(instance.ID);
    await eventually('instance removed', async () => client.kind('WorkloadInstance').get(instance.ID).then(() => false, (error: unknown) => isNotFound(error)));
    expect((await client.kind('WorkloadResourceInstance').list({ workloadinstanceid: instance.ID })).total).toBe(0);
    expect((await client.kind('WorkloadEvent').list({ workloadinstanceid: instance.ID })).total).toBe(0);
    expect(await kubeA.get({ apiVersion: 'control-plane.threeport.io/v1alpha1', kind: 'ThreeportWorkload', name: `workload-instance-${instance.ID}` })).toBeUndefined();
    await eventually('namespace gone', async () => !(await kubeA.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })), 120_000);
    // The definition can go now, and its resource definitions with it.
    await client.kind('WorkloadDefinition').delete(definition.ID);
    await eventually('definition removed', async () => client.kind('WorkloadDefinition').get(definition.ID).then(() => false, (error: unknown) => isNotFound(error)));
    expect((await client.kind('WorkloadResourceDefinition').list({ workloaddefinitionid: definition.ID })).total).toBe(0);
  });
});
