import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod, type V1PodSpec, type V1ResourceRequirements, type V1VolumeMount } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nodeAllocatable, nodeCapacity } from '../../src/local-runtime/node-resources.ts';
import { freshNamespace, kubeconfig } from '../support/peers.ts';
import { eventually } from '../support/eventually.ts';

function clientsFor(cluster: 'a' | 'b') {
  const { path, context } = kubeconfig(cluster);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  kubeConfig.setCurrentContext(context);
  return { apps: kubeConfig.makeApiClient(AppsV1Api), core: kubeConfig.makeApiClient(CoreV1Api) };
}

/** A one-container Pod with these resources; `extra` adds to its spec. */
function podWith(name: string, resources: V1ResourceRequirements, extra: Omit<V1PodSpec, 'containers'> = {}, mounts: V1VolumeMount[] = []): V1Pod {
  return { metadata: { name }, spec: { ...extra, containers: [{ name: 'app', image: 'nginx:1.27', resources, volumeMounts: mounts }] } };
}

const resourceRequests: [string, V1Pod][] = [
  // Bitnami's "nano" resource preset, as its charts (MariaDB, WordPress…) set by default.
  ['ephemeral-storage', podWith('scratch', { requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '50Mi' }, limits: { cpu: '150m', memory: '192Mi', 'ephemeral-storage': '2Gi' } })],
  [
    'hugepages-2Mi with memory',
    podWith(
      'hugepages',
      { requests: { memory: '128Mi', 'hugepages-2Mi': '256Mi' }, limits: { memory: '128Mi', 'hugepages-2Mi': '256Mi' } },
      { volumes: [{ name: 'hugepage', emptyDir: { medium: 'HugePages-2Mi' } }] },
      [{ name: 'hugepage', mountPath: '/hugepages' }],
    ),
  ],
];

describe.each(['a', 'b'] as const)('kwok cluster %s of the test bed', (cluster) => {
  it('runs a Deployment to Available with its Pods Running on the fake nodes', async () => {
    const { apps, core } = clientsFor(cluster);
    const namespace = await freshNamespace(cluster);
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
          },
        },
      },
    });
    await eventually('Deployment Available', async () => {
      const deployment = await apps.readNamespacedDeployment({ name: 'web', namespace });
      const available = deployment.status?.conditions?.find((condition) => condition.type === 'Available');
      return (available?.status === 'True' && deployment.status?.availableReplicas === 2) || JSON.stringify(deployment.status);
    });
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe('Running');
      expect(pod.spec?.nodeName).toBeTruthy();
    }
  });

  it('has nodes that advertise what a real node does: cpu, memory, pods, ephemeral-storage, huge pages', async () => {
    const { core } = clientsFor(cluster);
    const nodes = (await core.listNode()).items;
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) {
      expect(node.status?.capacity).toEqual(nodeCapacity);
      expect(node.status?.allocatable).toEqual(nodeAllocatable);
    }
  });

  it.each(resourceRequests)('schedules and runs a Pod that requests %s', async (_resource, body) => {
    const { core } = clientsFor(cluster);
    const namespace = await freshNamespace(cluster);
    await core.createNamespacedPod({ namespace, body });
    await eventually('Pod Running', async () => {
      const created = await core.readNamespacedPod({ name: body.metadata!.name!, namespace });
      return (created.status?.phase === 'Running' && Boolean(created.spec?.nodeName)) || `${created.status?.phase} ${JSON.stringify(created.status?.conditions)}`;
    });
  });

  it('leaves a Pod that needs more ephemeral storage than a node has Pending, as a real scheduler would', async () => {
    const { core } = clientsFor(cluster);
    const namespace = await freshNamespace(cluster);
    await core.createNamespacedPod({ namespace, body: podWith('too-big', { requests: { 'ephemeral-storage': '1Ti' } }) });
    await eventually('FailedScheduling for lack of ephemeral-storage', async () => {
      const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=too-big,reason=FailedScheduling' });
      return events.items.some((event) => event.message?.includes('Insufficient ephemeral-storage')) || JSON.stringify(events.items.map((event) => event.message));
    });
    expect((await core.readNamespacedPod({ name: 'too-big', namespace })).status?.phase).toBe('Pending');
  });
});
