/**
 * Objects a controller writes straight into a workload's cluster — a Secret with a database's
 * connection or a secret's values (never through an API object, whose reads would return them),
 * the External Secrets Operator's objects of a secret instance. Server-side applied, labelled with
 * who delivered them, so a re-delivery corrects drift, removal takes exactly them, and an object
 * of that name threeport did not deliver is never overwritten or deleted.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { Manifest } from '../../model/manifest.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { KubernetesApiError, refOf, type KubernetesClient, type ResourceRef } from '../../platform/kubernetes/index.ts';

/** Who delivers: the label saying so (e.g. control-plane.threeport.io/secret-instance=12), in one control plane. */
export interface Deliverer {
  label: string;
  value: string;
  /** For messages: "secret instance api-key". */
  description: string;
  controlPlaneId: string;
}

export interface SecretDelivery {
  namespace: string;
  name: string;
  data: Record<string, string>;
}

/** The labels a deliverer's objects carry. */
export const deliveryLabels = (by: Deliverer): Record<string, string> => ({ 'app.kubernetes.io/managed-by': 'threeport', [by.label]: by.value, [CONTROL_PLANE_LABEL]: by.controlPlaneId });

const deliveredBy = (live: Manifest, by: Deliverer): boolean => live.metadata.labels?.[by.label] === by.value && live.metadata.labels[CONTROL_PLANE_LABEL] === by.controlPlaneId;

const describe = (ref: ResourceRef): string => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

/** Writes the object (again: a changed or deleted one is restored), labelled as the deliverer's; refuses one of that name someone else made. */
export async function deliverObject(cluster: KubernetesClient, manifest: Manifest, by: Deliverer, signal: AbortSignal): Promise<void> {
  const ref = refOf(manifest);
  const live = await cluster.get(ref, signal);
  if (live && !deliveredBy(live, by)) {
    throw new TerminalError(`${describe(ref)} already exists and ${by.description} did not make it: remove it, or use another name`);
  }
  await cluster.apply({ ...manifest, metadata: { ...manifest.metadata, labels: { ...manifest.metadata.labels, ...deliveryLabels(by) } } }, { force: true, signal });
}

/** Removes the object if the deliverer made it; one of that name someone else made stays, and so does one of a kind the cluster no longer serves. */
export async function withdrawObject(cluster: KubernetesClient, ref: ResourceRef, by: Deliverer, signal: AbortSignal): Promise<void> {
  const live = await cluster.get(ref, signal).catch((error: unknown) => {
    if (error instanceof KubernetesApiError && error.reason === 'NoKindMatch') return undefined;
    throw error;
  });
  if (!live || !deliveredBy(live, by)) return;
  await cluster.delete(ref, signal, live.metadata.uid ? { uid: live.metadata.uid } : {});
}

const secretRef = (secret: Pick<SecretDelivery, 'namespace' | 'name'>): ResourceRef => ({ apiVersion: 'v1', kind: 'Secret', namespace: secret.namespace, name: secret.name });

export function deliverSecret(cluster: KubernetesClient, secret: SecretDelivery, by: Deliverer, signal: AbortSignal): Promise<void> {
  return deliverObject(cluster, { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret.name, namespace: secret.namespace }, type: 'Opaque', stringData: secret.data }, by, signal);
}

export function withdrawSecret(cluster: KubernetesClient, secret: Pick<SecretDelivery, 'namespace' | 'name'>, by: Deliverer, signal: AbortSignal): Promise<void> {
  return withdrawObject(cluster, secretRef(secret), by, signal);
}
