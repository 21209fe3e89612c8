/**
 * Someone changes or deletes a managed resource in the cluster: restored (at once when the agent
 * sees it, or by the periodic re-verification when no agent reports), or — with DriftPolicy
 * DetectOnly — reported and left alone.
 */
import { describe, expect, it } from 'vitest';
import type { KubernetesClient } from '../../src/platform/kubernetes/index.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from './support/manifests.ts';
import { namespaceOf, startWorkloadPlane, type WorkloadPlane } from './support/workload-plane.ts';

/** A change as `kubectl edit` makes it: a merge patch under another field manager. */
async function editByHand(kube: KubernetesClient, namespace: string, image: string): Promise<void> {
  await kube.transport.request('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/web`, {
    query: { fieldManager: 'kubectl-edit' },
    contentType: 'application/merge-patch+json',
    body: { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } },
  });
}

const imageOf = async (kube: KubernetesClient, namespace: string): Promise<string | undefined> => {
  const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
  return (deployment?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]?.image;
};

/**
 * The agent's report must bring the correction well before the periodic re-verification (60 s by
 * default) could: a wait longer than this would let a broken agent path pass.
 */
const AGENT_PATH_MS = 25_000;

async function eventNotes(plane: WorkloadPlane, instanceId: number, reason: string): Promise<string[]> {
  const events = await plane.client.eventsOf(instanceId, { reason });
  return events.map((event) => String(event.Note));
}

describe('drift, seen by the agent', async () => {
  const plane = await startWorkloadPlane();
  const runtime = await plane.registerCluster('a');
  const kube = await plane.kube('a');

  it('a Deployment edited by hand is restored, and the correction is an event', async () => {
    const { instance } = await plane.deploy(uniqueName('edited'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(plane.client, instance.ID);
    await editByHand(kube, namespace, 'nginx:1.99-edited');
    await eventually('image restored', async () => (await imageOf(kube, namespace)) === 'nginx:1.27' || 'still edited', AGENT_PATH_MS);
    await eventually('DriftCorrected event', async () => (await eventNotes(plane, instance.ID, 'DriftCorrected')).some((note) => note.includes('was changed in the cluster')), AGENT_PATH_MS);
  });

  it('a Deployment deleted by hand is created again', async () => {
    const { instance } = await plane.deploy(uniqueName('deleted'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(plane.client, instance.ID);
    const before = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
    await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
    await eventually('Deployment back', async () => {
      const after = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
      return (after !== undefined && after.metadata.uid !== before?.metadata.uid) || 'not back yet';
    }, AGENT_PATH_MS);
    await eventually('DriftCorrected event', async () => (await eventNotes(plane, instance.ID, 'DriftCorrected')).some((note) => note.includes('was deleted from the cluster')), AGENT_PATH_MS);
    await plane.waitForStatus(instance.ID, 'Healthy');
  });

  it('DetectOnly: an edit is reported as a warning and left as it is', async () => {
    const { instance } = await plane.deploy(uniqueName('detect'), web(), runtime.ID, { DriftPolicy: 'DetectOnly' });
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(plane.client, instance.ID);
    await editByHand(kube, namespace, 'nginx:1.99-edited');
    await eventually('DriftDetected event', async () => (await eventNotes(plane, instance.ID, 'DriftDetected')).some((note) => note.includes('was changed in the cluster')), AGENT_PATH_MS);
    const [event] = await plane.client.eventsOf(instance.ID, { reason: 'DriftDetected' });
    expect(event?.Type).toBe('Warning');
    // It was looked at and left: the edit is still there after the reconcile that reported it.
    expect(await imageOf(kube, namespace)).toBe('nginx:1.99-edited');
    expect((await plane.client.kind('WorkloadInstance').get(instance.ID)).Reconciled).toBe(true);

    // Kinds without a generation (a ConfigMap's data) are compared by content.
    await kube.transport.request('PATCH', `/api/v1/namespaces/${namespace}/configmaps/web-settings`, {
      query: { fieldManager: 'kubectl-patch' },
      contentType: 'application/merge-patch+json',
      body: { data: { greeting: 'edited' } },
    });
    await eventually('DriftDetected for the ConfigMap', async () => (await eventNotes(plane, instance.ID, 'DriftDetected')).some((note) => note.startsWith('ConfigMap web-settings') && note.includes('content')), AGENT_PATH_MS);
    const settings = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-settings', namespace });
    expect(settings?.data).toEqual({ greeting: 'edited' });
  });
});

describe('drift, found by the periodic re-verification (no agent reporting)', async () => {
  const plane = await startWorkloadPlane({ settings: { driftIntervalMs: 3000 } });
  // Nobody runs this runtime's agent: only the controller's own re-verification can notice.
  const runtime = await plane.registerCluster('b', { AgentLocation: 'External' });
  const kube = await plane.kube('b');

  it('a deleted Deployment is back within the interval', async () => {
    const { instance } = await plane.deploy(uniqueName('periodic'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Reconciled');
    const namespace = await namespaceOf(plane.client, instance.ID);
    await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace });
    await eventually('Deployment back', async () => (await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace })) !== undefined, 30_000);
    await eventually('DriftCorrected event', async () => (await eventNotes(plane, instance.ID, 'DriftCorrected')).length > 0);
  });
});
