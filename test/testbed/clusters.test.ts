import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freshNamespace, kubeconfig } from '../support/peers.ts';
import { eventually } from '../support/eventually.ts';

function clientsFor(cluster: 'a' | 'b') {
  const { path, context } = kubeconfig(cluster);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  kubeConfig.setCurrentContext(context);
  return { apps: kubeConfig.makeApiClient(AppsV1Api), core: kubeConfig.makeApiClient(CoreV1Api) };
}

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
});
