/**
 * What threeport may touch in a cluster, and what counts as a change to apply rather than drift:
 * objects it did not make are never adopted, changed or deleted; a definition edit reaches every
 * instance (DetectOnly ones too) without being called drift; resources other controllers add to an
 * instance are applied with it and removed when they ask; a renamed instance keeps its namespace;
 * nothing is pruned while an apply fails.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/model/manifest.ts';
import type { KubernetesClient } from '../../src/platform/kubernetes/index.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from './support/manifests.ts';
import { namespaceOf, resourceRecords, startWorkloadPlane } from './support/workload-plane.ts';

const configMap = (name: string, namespace: string | undefined, data: Record<string, string>): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}${namespace ? `\n  namespace: ${namespace}` : ''}\ndata: ${JSON.stringify(data)}\n`;

const imageOf = async (kube: KubernetesClient, namespace: string): Promise<string | undefined> => {
  const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
  return (deployment?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]?.image;
};

describe('ownership and desired changes', async () => {
  const plane = await startWorkloadPlane({ auth: true });
  const { client } = plane;
  const runtime = await plane.registerCluster('a');
  const kube = await plane.kube('a');
  const driftEvents = async (instanceId: number): Promise<string[]> =>
    [...(await client.eventsOf(instanceId, { reason: 'DriftCorrected' })), ...(await client.eventsOf(instanceId, { reason: 'DriftDetected' }))].map((event) => String(event.Note));

  it('an object of the same name that threeport did not make is refused, left as it is, and not deleted with the instance', async () => {
    const namespace = uniqueName('theirs');
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { force: true });
    // Made by someone else, with the very content the manifest has: an apply would adopt it silently.
    const theirs: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace }, data: { owner: 'them' } };
    await kube.transport.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, { query: { fieldManager: 'kubectl-create' }, body: theirs });

    const yaml = `${configMap('shared', namespace, { owner: 'them' })}---\n${configMap('mine', namespace, { owner: 'threeport' })}`;
    const { instance } = await plane.deploy(uniqueName('refused'), yaml, runtime.ID);
    const refused = await plane.waitForStatus(instance.ID, /ConfigMap shared/);
    expect(refused.Status).toContain('already exists and was not made by this workload instance');
    const shared = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'shared', namespace });
    expect(shared?.metadata.labels).toBeUndefined();
    expect((shared?.metadata.managedFields as { manager: string }[] | undefined)?.map((entry) => entry.manager)).toEqual(['kubectl-create']);
    expect(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'mine', namespace })).toBeDefined();

    await client.kind('WorkloadInstance').delete(instance.ID);
    await eventually('instance removed', async () => client.kind('WorkloadInstance').get(instance.ID).then(() => false, () => true));
    expect(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'mine', namespace })).toBeUndefined();
    expect((await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'shared', namespace }))?.metadata.uid).toBe(shared?.metadata.uid);
  });

  it('a cluster-scoped resource of a second instance of one definition is refused, naming the instance it belongs to', async () => {
    const role = uniqueName('reader');
    const yaml = `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: ${role}\nrules:\n  - { apiGroups: [''], resources: [pods], verbs: [get] }\n`;
    const { definition, instance: first } = await plane.deploy(uniqueName('role'), yaml, runtime.ID);
    await plane.waitForStatus(first.ID, 'Healthy');
    const second = await client.kind('WorkloadInstance').create({ Name: uniqueName('role-2'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const refused = await plane.waitForStatus(second.ID, /ClusterRole/);
    expect(refused.Status).toContain(`it belongs to workload instance ${first.ID}`);

    await client.kind('WorkloadInstance').delete(second.ID);
    await eventually('second removed', async () => client.kind('WorkloadInstance').get(second.ID).then(() => false, () => true));
    const live = await kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: role });
    expect(live?.metadata.labels?.['control-plane.threeport.io/workload-instance']).toBe(String(first.ID));
  });

  it('a definition edit reaches every instance, DetectOnly ones too, and is not drift', async () => {
    const name = uniqueName('edit');
    const { definition, instance: correcting } = await plane.deploy(name, web(), runtime.ID);
    const detecting = await client.kind('WorkloadInstance').create({ Name: `${name}-detect`, WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID, DriftPolicy: 'DetectOnly' });
    await plane.waitForStatus(correcting.ID, 'Healthy');
    await plane.waitForStatus(detecting.ID, 'Healthy');

    await client.kind('WorkloadDefinition').update(definition.ID, { YAMLDocument: web({ image: 'nginx:1.28' }) });
    for (const instance of [correcting, detecting]) {
      const namespace = await namespaceOf(client, instance.ID);
      await eventually(`instance ${instance.ID} rolled out`, async () => (await imageOf(kube, namespace)) === 'nginx:1.28' || `image ${await imageOf(kube, namespace)}`);
      await eventually(`instance ${instance.ID} records reconciled`, async () => [...(await resourceRecords(client, instance.ID)).values()].every((record) => record.Reconciled === true));
      await plane.waitForStatus(instance.ID, 'Healthy');
      expect(await driftEvents(instance.ID)).toEqual([]);
    }
  });

  it('a resource another controller adds is applied with the instance, watched, and removed when it is scheduled for deletion', async () => {
    const { instance } = await plane.deploy(uniqueName('added'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    const added = await client.kind('WorkloadResourceInstance').create({
      WorkloadInstanceID: instance.ID,
      JSONDefinition: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'route' }, data: { host: 'example.com' } },
    });
    await client.kind('WorkloadInstance').requestReconcile(instance.ID, 'a route was added');
    await eventually('added resource applied', async () => (await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'route', namespace })) !== undefined);
    const applied = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'route', namespace });
    expect(applied?.metadata.labels?.['control-plane.threeport.io/workload-instance']).toBe(String(instance.ID));
    // The ThreeportWorkload the agent watches by is applied after the resources.
    await eventually('added resource watched', async () => JSON.stringify((await kube.get({ apiVersion: 'control-plane.threeport.io/v1alpha1', kind: 'ThreeportWorkload', name: `workload-instance-${instance.ID}` }))?.spec).includes('"route"'));
    // The record stays the other controller's: not rewritten by threeport.
    expect((await client.kind('WorkloadResourceInstance').get(added.ID)).JSONDefinition).toEqual(added.JSONDefinition);

    await client.kind('WorkloadResourceInstance').update(added.ID, { ScheduledForDeletion: new Date().toISOString() });
    await client.kind('WorkloadInstance').requestReconcile(instance.ID, 'a route was removed');
    await eventually('added resource removed', async () => (await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'route', namespace })) === undefined);
    await eventually('its record removed', async () => client.kind('WorkloadResourceInstance').get(added.ID).then(() => false, () => true));
    expect(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace })).toBeDefined();
  });

  it('a renamed instance keeps its namespace', async () => {
    const { instance } = await plane.deploy(uniqueName('before'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    const renamed = await client.kind('WorkloadInstance').update(instance.ID, { Name: uniqueName('after') });
    await eventually('renamed instance reconciled', async () => {
      const current = await client.kind('WorkloadInstance').get(instance.ID);
      return (current.Reconciled === true && current.ObservedGeneration === renamed.Generation) || `Status: ${String(current.Status)}`;
    });
    const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
    expect(deployment?.metadata.labels?.['app.kubernetes.io/instance']).toBe(renamed.Name);
    const namespaces = [...(await resourceRecords(client, instance.ID)).keys()].filter((key) => key.startsWith('/Namespace/'));
    expect(namespaces).toEqual([`/Namespace//${namespace}`]);
  });

  it('nothing is pruned while an apply fails; once it applies, it is', async () => {
    const { definition, instance } = await plane.deploy(uniqueName('prune'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    const withoutConfigMap = (yaml: string): string => yaml.split('---').filter((document) => !document.includes('kind: ConfigMap')).join('---');

    await client.kind('WorkloadDefinition').update(definition.ID, { YAMLDocument: withoutConfigMap(web({ replicas: -1 })) });
    const failed = await plane.waitForStatus(instance.ID, 'Failed');
    expect(failed.Status).toContain('Deployment');
    expect(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-settings', namespace })).toBeDefined();

    await client.kind('WorkloadDefinition').update(definition.ID, { YAMLDocument: withoutConfigMap(web()) });
    await eventually('ConfigMap pruned', async () => (await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-settings', namespace })) === undefined);
    await plane.waitForStatus(instance.ID, 'Healthy');
  });
});
