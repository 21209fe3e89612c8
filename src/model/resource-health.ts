/**
 * Whether a live resource is doing its job, for the kinds that say so in their status: workloads
 * (ready replicas, rollouts), jobs, pods, claims, load balancers and CRDs. Other kinds are ready
 * once they exist.
 */
import type { Manifest } from './manifest.ts';

export type Readiness = 'Ready' | 'Progressing' | 'Down' | 'Failed';

export interface ResourceHealth {
  readiness: Readiness;
  /** What a person should know, e.g. `1/3 ready, 2 updated`. Empty when ready. */
  message: string;
}

type Status = Record<string, unknown>;
interface ConditionLike {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

const numberAt = (value: unknown): number => (typeof value === 'number' ? value : 0);
const conditions = (status: Status): ConditionLike[] => (Array.isArray(status.conditions) ? (status.conditions as ConditionLike[]) : []);
const condition = (status: Status, type: string): ConditionLike | undefined => conditions(status).find((c) => c.type === type);
const ready: ResourceHealth = { readiness: 'Ready', message: '' };

function replicated(manifest: Manifest, desired: number, readyCount: number, updated: number | undefined): ResourceHealth {
  const status = (manifest.status ?? {}) as Status;
  const generation = manifest.metadata.generation;
  const observed = status.observedGeneration;
  if (typeof generation === 'number' && typeof observed === 'number' && observed < generation) {
    return { readiness: 'Progressing', message: `waiting for the controller to see generation ${generation}` };
  }
  const progressing = condition(status, 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { readiness: 'Failed', message: `rollout stuck: ${progressing.message ?? 'progress deadline exceeded'} (${readyCount}/${desired} ready)` };
  }
  if (desired === 0) return ready;
  if (readyCount === 0) return { readiness: 'Down', message: `0/${desired} ready` };
  if (readyCount < desired) return { readiness: 'Progressing', message: `${readyCount}/${desired} ready` };
  if (updated !== undefined && updated < desired) return { readiness: 'Progressing', message: `rolling out: ${updated}/${desired} updated` };
  return ready;
}

export function healthOf(manifest: Manifest): ResourceHealth {
  const spec = (manifest.spec ?? {}) as Status;
  const status = (manifest.status ?? {}) as Status;
  if (manifest.metadata.deletionTimestamp) return { readiness: 'Progressing', message: 'being deleted' };
  switch (manifest.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'ReplicationController': {
      const desired = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const extra = numberAt(status.replicas) > desired && manifest.kind === 'Deployment' ? numberAt(status.replicas) - desired : 0;
      const health = replicated(manifest, desired, numberAt(status.readyReplicas), manifest.kind === 'Deployment' ? numberAt(status.updatedReplicas) : undefined);
      if (health.readiness === 'Ready' && extra > 0) return { readiness: 'Progressing', message: `rolling out: ${extra} old replica(s) still terminating` };
      return health;
    }
    case 'StatefulSet': {
      const desired = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const health = replicated(manifest, desired, numberAt(status.readyReplicas), numberAt(status.updatedReplicas) || undefined);
      if (health.readiness === 'Ready' && status.updateRevision && status.currentRevision && status.updateRevision !== status.currentRevision) {
        return { readiness: 'Progressing', message: 'rolling out a new revision' };
      }
      return health;
    }
    case 'DaemonSet':
      return replicated(manifest, numberAt(status.desiredNumberScheduled), numberAt(status.numberReady), numberAt(status.updatedNumberScheduled));
    case 'Job': {
      if (condition(status, 'Complete')?.status === 'True') return ready;
      const failed = condition(status, 'Failed');
      if (failed?.status === 'True') return { readiness: 'Failed', message: failed.message ?? failed.reason ?? 'failed' };
      return { readiness: 'Progressing', message: `${numberAt(status.active)} active, ${numberAt(status.succeeded)} succeeded` };
    }
    case 'Pod': {
      const phase = status.phase;
      if (phase === 'Succeeded') return ready;
      if (phase === 'Failed') return { readiness: 'Failed', message: String(status.message ?? status.reason ?? 'failed') };
      if (phase === 'Running' && condition(status, 'Ready')?.status === 'True') return ready;
      return { readiness: 'Progressing', message: String(phase ?? 'Pending') };
    }
    case 'PersistentVolumeClaim': {
      if (status.phase === 'Bound') return ready;
      if (status.phase === 'Lost') return { readiness: 'Failed', message: 'its volume is lost' };
      return { readiness: 'Progressing', message: 'waiting for a volume' };
    }
    case 'Service': {
      if (spec.type !== 'LoadBalancer') return ready;
      const ingress = (status.loadBalancer as { ingress?: unknown[] } | undefined)?.ingress;
      return Array.isArray(ingress) && ingress.length > 0 ? ready : { readiness: 'Progressing', message: 'waiting for a load balancer address' };
    }
    case 'CustomResourceDefinition':
      return condition(status, 'Established')?.status === 'True' ? ready : { readiness: 'Progressing', message: 'not established yet' };
    default:
      return ready;
  }
}
