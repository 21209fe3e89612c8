/** The Kubernetes platform layer every controller that touches a cluster uses. */
export { applyAll, deleteAll, type ApplyResult, type DesiredResource, type DeleteResult, type Ownership } from './apply.ts';
export { applyStage, inApplyOrder, inDeleteOrder } from './apply-order.ts';
export { describeResource, FIELD_MANAGER, KubernetesClient, refOf, type Manifest, type ObjectMeta, type ResourceRef, type WatchEvent } from './client.ts';
export { ClusterClients, connect, connectionFingerprint, type ClusterConnection } from './connections.ts';
export { KubernetesApiError, isKubernetesConflict, isKubernetesGone, isKubernetesNotFound, isKubernetesTransient } from './errors.ts';
export { Reflector, type ReflectorEventType, type ReflectorOptions } from './reflector.ts';
export * as labels from './labels.ts';
export { withInstanceLabels, type InstanceLabels } from './labels.ts';
