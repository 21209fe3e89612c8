import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freshNamespace, kubeconfig } from '../support/peers.ts';
import { eventually } from '../support/eventually.ts';

describe('storage in the kwok clusters', () => {
  it('binds a claim of the default StorageClass, so a Pod using it is scheduled and Running', async () => {
    const { path, context } = kubeconfig('a');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(path);
    kubeConfig.setCurrentContext(context);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const namespace = await freshNamespace('a');

    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
      },
    });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'db' },
        spec: {
          containers: [{ name: 'db', image: 'mariadb:11', volumeMounts: [{ name: 'data', mountPath: '/var/lib/mysql' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
        },
      },
    });

    await eventually('claim Bound', async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace });
      return claim.status?.phase === 'Bound' || `${claim.status?.phase}`;
    });
    await eventually('Pod Running', async () => {
      const pod = await core.readNamespacedPod({ name: 'db', namespace });
      return pod.status?.phase === 'Running' || `${pod.status?.phase} ${JSON.stringify(pod.status?.conditions)}`;
    });
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace });
    expect(claim.spec?.storageClassName).toBe('standard');
    const volume = await core.readPersistentVolume({ name: claim.spec!.volumeName! });
    expect(volume.spec?.capacity?.storage).toBe('2Gi');

    // Released volumes are deleted, as a cloud provisioner would.
    await core.deleteNamespacedPod({ name: 'db', namespace, gracePeriodSeconds: 0 });
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'data', namespace });
    await eventually('volume deleted after its claim', async () => {
      const volumes = await core.listPersistentVolume();
      return !volumes.items.some((item) => item.metadata?.name === volume.metadata?.name) || 'still there';
    });
  });
});
