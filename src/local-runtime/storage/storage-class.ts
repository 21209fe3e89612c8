import { ApiException, KubeConfig, StorageV1Api, type V1StorageClass } from '@kubernetes/client-node';

/** The provisioner name our StorageClass names and our provisioner answers to. */
export const provisionerName = 'testbed.threeport.io/local';
export const storageClassName = 'standard';

/** Creates the cluster's default StorageClass, served by our provisioner. */
export async function ensureDefaultStorageClass(kubeConfig: KubeConfig): Promise<void> {
  const storage = kubeConfig.makeApiClient(StorageV1Api);
  const body: V1StorageClass = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: storageClassName,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: provisionerName,
    reclaimPolicy: 'Delete',
    // Immediate: a claim is bound as soon as it exists, before any Pod is scheduled.
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: true,
  };
  try {
    await storage.createStorageClass({ body });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
}
