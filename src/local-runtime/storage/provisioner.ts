import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  StorageV1Api,
  type Informer,
  type KubernetesObject,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import { provisionerName } from './storage-class.ts';

const provisionedByAnnotation = 'pv.kubernetes.io/provisioned-by';

export interface ProvisionerOptions {
  log?: (line: string) => void;
  /** Full re-list period, on top of watch events. */
  resyncMs?: number;
}

/**
 * A dynamic volume provisioner for kwok clusters, which have no storage of their own: for every
 * pending claim of a StorageClass naming `testbed.threeport.io/local` it creates a hostPath
 * PersistentVolume bound to that claim (kube-controller-manager completes the binding), and it
 * deletes such volumes once released. No data is ever written: kwok runs no containers.
 * Returns a function that stops it.
 */
export async function startProvisioner(kubeConfig: KubeConfig, options: ProvisionerOptions = {}): Promise<() => Promise<void>> {
  const log = options.log ?? (() => {});
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const storage = kubeConfig.makeApiClient(StorageV1Api);

  const ourClasses = new Map<string, string>(); // StorageClass name → reclaim policy
  const refreshClasses = async () => {
    const classes = await storage.listStorageClass();
    ourClasses.clear();
    for (const storageClass of classes.items) {
      if (storageClass.provisioner === provisionerName && storageClass.metadata?.name) {
        ourClasses.set(storageClass.metadata.name, storageClass.reclaimPolicy ?? 'Delete');
      }
    }
  };

  const provision = async (claim: V1PersistentVolumeClaim) => {
    const className = claim.spec?.storageClassName;
    if (!className || claim.spec?.volumeName || claim.status?.phase !== 'Pending' || !claim.metadata?.uid) return;
    if (!ourClasses.has(className)) await refreshClasses();
    const reclaimPolicy = ourClasses.get(className);
    if (!reclaimPolicy) return;
    const name = `pvc-${claim.metadata.uid}`;
    const volume: V1PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { [provisionedByAnnotation]: provisionerName } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
        accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
        volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
        storageClassName: className,
        persistentVolumeReclaimPolicy: reclaimPolicy,
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: claim.metadata.namespace,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
        },
        hostPath: { path: `/var/lib/threeport-testbed/${name}` },
      },
    };
    try {
      await core.createPersistentVolume({ body: volume });
      log(`provisioned ${name} for ${claim.metadata.namespace}/${claim.metadata.name}`);
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    }
  };

  const reclaim = async (volume: V1PersistentVolume) => {
    const name = volume.metadata?.name;
    if (!name || volume.metadata?.annotations?.[provisionedByAnnotation] !== provisionerName) return;
    if (volume.status?.phase !== 'Released' || volume.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    try {
      await core.deletePersistentVolume({ name });
      log(`deleted released ${name}`);
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
  };

  const guarded = <T>(handle: (object: T) => Promise<void>) => (object: T) => {
    handle(object).catch((error: unknown) => log(`error: ${error instanceof Error ? error.message : String(error)}`));
  };

  await refreshClasses();
  const claims = makeInformer(kubeConfig, '/api/v1/persistentvolumeclaims', () => core.listPersistentVolumeClaimForAllNamespaces());
  const volumes = makeInformer(kubeConfig, '/api/v1/persistentvolumes', () => core.listPersistentVolume());
  const provisionClaim = guarded(provision);
  const reclaimVolume = guarded(reclaim);
  claims.on('add', provisionClaim);
  claims.on('update', provisionClaim);
  volumes.on('add', reclaimVolume);
  volumes.on('update', reclaimVolume);

  let stopped = false;
  const restartOnError = (name: string, informer: Informer<KubernetesObject>) => {
    informer.on('error', (error: unknown) => {
      if (stopped) return;
      log(`${name} watch ended (${error instanceof Error ? error.message : String(error)}); restarting`);
      setTimeout(() => void informer.start().catch(() => {}), 1_000);
    });
  };
  restartOnError('claims', claims);
  restartOnError('volumes', volumes);
  await claims.start();
  await volumes.start();

  // Watches are hints; a periodic full pass makes sure nothing is missed.
  const resync = setInterval(() => {
    void (async () => {
      await refreshClasses();
      for (const claim of claims.list()) provisionClaim(claim);
      for (const volume of volumes.list()) reclaimVolume(volume);
    })().catch(() => {});
  }, options.resyncMs ?? 10_000);

  return async () => {
    stopped = true;
    clearInterval(resync);
    await claims.stop();
    await volumes.stop();
  };
}
