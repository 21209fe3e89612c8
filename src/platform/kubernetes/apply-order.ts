/**
 * The order resources are applied in, so that each finds what it needs: namespaces, then CRDs
 * (waited on until established), service accounts and RBAC, configuration and storage, services,
 * workloads, and the rest (custom resources, autoscalers, ingress, webhooks). Deletion goes in
 * reverse.
 */
import type { Manifest } from './client.ts';

const stages: readonly (readonly string[])[] = [
  ['Namespace'],
  ['CustomResourceDefinition'],
  ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'],
  ['PriorityClass', 'ResourceQuota', 'LimitRange', 'NetworkPolicy', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'ConfigMap', 'Secret'],
  ['Service'],
  ['Pod', 'ReplicationController', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'],
];
const rest = stages.length;

const stageByKind = new Map(stages.flatMap((kinds, stage) => kinds.map((kind) => [kind, stage] as const)));

/** 0 for namespaces … the last stage for kinds it doesn't know (custom resources among them). */
export const applyStage = (kind: string): number => stageByKind.get(kind) ?? rest;

/** The manifests grouped by stage, in apply order (a stable sort: within a stage, as given). */
export function inApplyOrder<T extends Pick<Manifest, 'kind'>>(manifests: readonly T[]): T[][] {
  const grouped: T[][] = Array.from({ length: rest + 1 }, () => []);
  for (const manifest of manifests) grouped[applyStage(manifest.kind)]!.push(manifest);
  return grouped.filter((group) => group.length > 0);
}

/** The manifests grouped by stage, in delete order. */
export const inDeleteOrder = <T extends Pick<Manifest, 'kind'>>(manifests: readonly T[]): T[][] => inApplyOrder(manifests).reverse();
