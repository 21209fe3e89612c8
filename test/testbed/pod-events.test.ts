/**
 * The kubelet's ordinary Pod events on the kwok clusters, listed through the Kubernetes API as
 * on a real cluster: Scheduled from the scheduler; Pulled, Created, Started per container as the
 * Pod starts; Killing per running container when it is deleted. Everything else of kwok's Pod
 * lifecycle stays: Ready, conditions, container statuses, Jobs completing, deletion.
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freshNamespace, kubeconfig } from '../support/peers.ts';
import { eventually } from '../support/eventually.ts';

function clients() {
  const { path, context } = kubeconfig('a');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  kubeConfig.setCurrentContext(context);
  return { apps: kubeConfig.makeApiClient(AppsV1Api), batch: kubeConfig.makeApiClient(BatchV1Api), core: kubeConfig.makeApiClient(CoreV1Api) };
}

const { apps, batch, core } = clients();

async function eventsOf(pod: V1Pod): Promise<CoreV1Event[]> {
  const namespace = pod.metadata!.namespace!;
  const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod.metadata!.name}` });
  return list.items.filter((event) => event.involvedObject.uid === pod.metadata!.uid);
}

/** "reason fieldPath: message" of each kubelet event, sorted, for exact comparison. */
function kubeletEvents(events: CoreV1Event[], reasons: string[]): string[] {
  return events
    .filter((event) => reasons.includes(event.reason ?? ''))
    .map((event) => `${event.reason} ${event.involvedObject.fieldPath}: ${event.message}`)
    .sort();
}

async function runningPod(namespace: string, name: string): Promise<V1Pod> {
  let pod: V1Pod | undefined;
  await eventually(`Pod ${name} Ready`, async () => {
    pod = await core.readNamespacedPod({ name, namespace });
    const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
    return (pod.status?.phase === 'Running' && ready?.status === 'True') || `${pod.status?.phase} ${JSON.stringify(pod.status?.containerStatuses)}`;
  });
  return pod!;
}

/** A Deployment `web` of `replicas` Pods with these containers. */
async function createWeb(namespace: string, replicas: number, containers: { name: string; image: string }[]): Promise<void> {
  await apps.createNamespacedDeployment({
    namespace,
    body: { metadata: { name: 'web' }, spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } } },
  });
}

describe('Pod events on the kwok clusters', () => {
  it("a Deployment's Pod reports Scheduled, Pulled, Created, Started as a kubelet would, and Killing when deleted", async () => {
    const namespace = await freshNamespace('a');
    await createWeb(namespace, 1, [{ name: 'web', image: 'nginx:1.27' }]);
    let pod: V1Pod | undefined;
    await eventually('the Deployment to make its Pod', async () => {
      pod = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items[0];
      return pod !== undefined || 'no Pod yet';
    });
    pod = await runningPod(namespace, pod!.metadata!.name!);

    let events: CoreV1Event[] = [];
    await eventually('Scheduled, Pulled, Created, Started', async () => {
      events = await eventsOf(pod!);
      const reasons = new Set(events.map((event) => event.reason));
      return ['Scheduled', 'Pulled', 'Created', 'Started'].every((reason) => reasons.has(reason)) || JSON.stringify([...reasons]);
    });
    const scheduled = events.find((event) => event.reason === 'Scheduled')!;
    expect(scheduled.message).toBe(`Successfully assigned ${namespace}/${pod.metadata!.name} to ${pod.spec!.nodeName}`);
    expect(kubeletEvents(events, ['Pulled', 'Created', 'Started'])).toEqual([
      'Created spec.containers{web}: Created container: web',
      'Pulled spec.containers{web}: Container image "nginx:1.27" already present on machine',
      'Started spec.containers{web}: Started container web',
    ]);
    for (const event of events.filter((candidate) => candidate.reason !== 'Scheduled')) {
      expect(event).toMatchObject({
        type: 'Normal',
        count: 1,
        source: { component: 'kubelet', host: pod.spec!.nodeName },
        reportingComponent: 'kubelet',
        reportingInstance: pod.spec!.nodeName,
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace, name: pod.metadata!.name, uid: pod.metadata!.uid },
      });
    }
    // kwok's status is still the one a Ready Pod has.
    expect(pod.status?.containerStatuses).toMatchObject([{ name: 'web', image: 'nginx:1.27', ready: true, restartCount: 0, state: { running: {} } }]);
    expect(pod.status?.podIP).toBeTruthy();

    await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace });
    await eventually('Killing', async () => {
      const killing = kubeletEvents(await eventsOf(pod!), ['Killing']);
      return killing.length > 0 || 'no Killing yet';
    });
    expect(kubeletEvents(await eventsOf(pod), ['Killing'])).toEqual(['Killing spec.containers{web}: Stopping container web']);
    await eventually('the Pod gone', async () => {
      const left = await core.listNamespacedPod({ namespace, fieldSelector: `metadata.name=${pod!.metadata!.name}` });
      return left.items.length === 0 || 'still there';
    });
  });

  it('reports each container once: init containers (a sidecar too) and regular ones; Killing only for the running ones', async () => {
    const namespace = await freshNamespace('a');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'multi' },
        spec: {
          initContainers: [
            { name: 'migrate', image: 'busybox:1.36' },
            { name: 'proxy', image: 'envoyproxy/envoy:v1.31-latest', restartPolicy: 'Always', imagePullPolicy: 'Always' },
          ],
          containers: [
            { name: 'app', image: 'nginx:1.27' },
            { name: 'logs', image: 'fluent/fluent-bit:latest' },
          ],
        },
      },
    });
    const pod = await runningPod(namespace, 'multi');
    expect(pod.status?.initContainerStatuses).toMatchObject([
      { name: 'migrate', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      { name: 'proxy', started: true, state: { running: {} } },
    ]);
    expect(pod.status?.containerStatuses).toMatchObject([
      { name: 'app', ready: true, state: { running: {} } },
      { name: 'logs', ready: true, state: { running: {} } },
    ]);
    const pulledAlways = (image: string) => `Successfully pulled image "${image}" in 0s (0s including waiting). Image size: 0 bytes.`;
    await eventually('a Started event for each container', async () => (kubeletEvents(await eventsOf(pod), ['Started']).length === 4 ? true : 'not yet'));
    expect(kubeletEvents(await eventsOf(pod), ['Pulled', 'Created', 'Started'])).toEqual([
      'Created spec.containers{app}: Created container: app',
      'Created spec.containers{logs}: Created container: logs',
      'Created spec.initContainers{migrate}: Created container: migrate',
      'Created spec.initContainers{proxy}: Created container: proxy',
      'Pulled spec.containers{app}: Container image "nginx:1.27" already present on machine',
      `Pulled spec.containers{logs}: ${pulledAlways('fluent/fluent-bit:latest')}`,
      'Pulled spec.initContainers{migrate}: Container image "busybox:1.36" already present on machine',
      `Pulled spec.initContainers{proxy}: ${pulledAlways('envoyproxy/envoy:v1.31-latest')}`,
      'Started spec.containers{app}: Started container app',
      'Started spec.containers{logs}: Started container logs',
      'Started spec.initContainers{migrate}: Started container migrate',
      'Started spec.initContainers{proxy}: Started container proxy',
    ]);

    await core.deleteNamespacedPod({ name: 'multi', namespace });
    await eventually('a Killing event for each running container', async () => (kubeletEvents(await eventsOf(pod), ['Killing']).length === 3 ? true : 'not yet'));
    await eventually('the Pod gone', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : 'still there'));
    expect(kubeletEvents(await eventsOf(pod), ['Killing'])).toEqual([
      'Killing spec.containers{app}: Stopping container app',
      'Killing spec.containers{logs}: Stopping container logs',
      'Killing spec.initContainers{proxy}: Stopping container proxy',
    ]);
  });

  it('a namespace deleted with running Pods goes, though the events about stopping them are refused then', { timeout: 120_000 }, async () => {
    const namespace = await freshNamespace('a');
    await createWeb(namespace, 2, [{ name: 'web', image: 'nginx:1.27' }, { name: 'logs', image: 'busybox:1.36' }]);
    await eventually('two Pods Ready', async () => {
      const pods = (await core.listNamespacedPod({ namespace })).items;
      return (pods.length === 2 && pods.every((pod) => pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'))) || `${pods.length} pod(s)`;
    });
    await core.deleteNamespace({ name: namespace });
    await eventually('namespace gone', async () => core.readNamespace({ name: namespace }).then((live) => `still ${live.status?.phase}`, () => true), 90_000);
  });

  it('still completes Jobs, whose finished Pods are deleted without Killing', async () => {
    const namespace = await freshNamespace('a');
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'once' },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'busybox:1.36' }] } } },
      },
    });
    await eventually('Job Complete', async () => {
      const job = await batch.readNamespacedJob({ name: 'once', namespace });
      return job.status?.conditions?.some((condition) => condition.type === 'Complete' && condition.status === 'True') || JSON.stringify(job.status);
    });
    const [pod] = (await core.listNamespacedPod({ namespace, labelSelector: 'job-name=once' })).items;
    expect(pod?.status?.phase).toBe('Succeeded');
    expect(kubeletEvents(await eventsOf(pod!), ['Pulled', 'Created', 'Started'])).toHaveLength(3);
    await core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace });
    await eventually('the Pod gone', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : 'still there'));
    expect(kubeletEvents(await eventsOf(pod!), ['Killing'])).toEqual([]);
  });
});
