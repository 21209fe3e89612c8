/**
 * A Kubernetes Secret a controller writes straight into a workload's cluster (a database's
 * connection, later a secret store's values): never through an API object, whose reads would
 * return the values. Server-side applied, labelled with who delivered it, so a re-delivery
 * corrects drift, removal takes exactly it, and a Secret of that name threeport did not deliver
 * is never overwritten or deleted.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { Manifest } from '../../model/manifest.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import type { KubernetesClient, ResourceRef } from '../../platform/kubernetes/index.ts';

export interface SecretDelivery {
  namespace: string;
  name: string;
  data: Record<string, string>;
  /** The label saying who delivered it, e.g. control-plane.threeport.io/aws-relational-database-instance=12. */
  owner: { label: string; value: string; description: string };
  controlPlaneId: string;
}

const refOf = (delivery: Pick<SecretDelivery, 'namespace' | 'name'>): ResourceRef => ({ apiVersion: 'v1', kind: 'Secret', namespace: delivery.namespace, name: delivery.name });

const deliveredBy = (live: Manifest, owner: SecretDelivery['owner'], controlPlaneId: string): boolean =>
  live.metadata.labels?.[owner.label] === owner.value && live.metadata.labels[CONTROL_PLANE_LABEL] === controlPlaneId;

/** Writes the Secret (again: a changed or deleted one is restored); refuses one of that name someone else made. */
export async function deliverSecret(cluster: KubernetesClient, delivery: SecretDelivery, signal: AbortSignal): Promise<void> {
  const live = await cluster.get(refOf(delivery), signal);
  if (live && !deliveredBy(live, delivery.owner, delivery.controlPlaneId)) {
    throw new TerminalError(`Secret ${delivery.namespace}/${delivery.name} already exists and ${delivery.owner.description} did not make it: remove it, or use another secret name`);
  }
  const labels = { 'app.kubernetes.io/managed-by': 'threeport', [delivery.owner.label]: delivery.owner.value, [CONTROL_PLANE_LABEL]: delivery.controlPlaneId };
  await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: delivery.name, namespace: delivery.namespace, labels }, type: 'Opaque', stringData: delivery.data }, { force: true, signal });
}

/** Removes the Secret if it is the one delivered; one of that name someone else made stays. */
export async function withdrawSecret(cluster: KubernetesClient, delivery: Pick<SecretDelivery, 'namespace' | 'name' | 'owner' | 'controlPlaneId'>, signal: AbortSignal): Promise<void> {
  const live = await cluster.get(refOf(delivery), signal);
  if (!live || !deliveredBy(live, delivery.owner, delivery.controlPlaneId)) return;
  await cluster.delete(refOf(delivery), signal, live.metadata.uid ? { uid: live.metadata.uid } : {});
}
