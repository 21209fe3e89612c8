/**
 * What the agent watches, from the ThreeportWorkloads in the cluster: each resource threeport
 * applied, the WorkloadResourceInstance it is recorded as, and the instance it belongs to.
 */
import type { Manifest } from '../model/manifest.ts';
import { GENERATION_ANNOTATION, type ThreeportWorkloadSpec, type WorkloadType } from '../model/threeport-workload.ts';

/** `apps/Deployment/shop/web` — the same shape as a ResourceKey. */
export type ResourceId = string;
/** `WorkloadInstance/12` */
export type InstanceKey = string;

export interface WatchedEntry {
  resourceId: ResourceId;
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  resourceInstanceId: number;
  instance: InstanceKey;
}

export interface PlannedInstance {
  key: InstanceKey;
  type: WorkloadType;
  id: number;
  /** The instance's Generation these resources were applied for, if the controller said. */
  generation?: number;
  resources: WatchedEntry[];
}

export const resourceIdOf = (object: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): ResourceId => {
  const group = object.apiVersion.includes('/') ? object.apiVersion.slice(0, object.apiVersion.lastIndexOf('/')) : '';
  return `${group}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
};

export const instanceKeyOf = (type: WorkloadType, id: number): InstanceKey => `${type}/${id}`;

export class WatchPlan {
  readonly #instances = new Map<InstanceKey, PlannedInstance>();
  readonly #resources = new Map<ResourceId, WatchedEntry>();

  /** Replaces what one ThreeportWorkload says; returns the resources it no longer lists. */
  set(workload: Manifest): WatchedEntry[] {
    const spec = workload.spec as ThreeportWorkloadSpec | undefined;
    if (!spec?.workloadType || !spec.workloadInstanceId) return [];
    const key = instanceKeyOf(spec.workloadType, spec.workloadInstanceId);
    const resources: WatchedEntry[] = (spec.workloadResourceInstances ?? []).map((resource) => {
      const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
      const entry: WatchedEntry = {
        resourceId: `${resource.group}/${resource.kind}/${resource.namespace ?? ''}/${resource.name}`,
        apiVersion,
        kind: resource.kind,
        name: resource.name,
        ...(resource.namespace && { namespace: resource.namespace }),
        resourceInstanceId: resource.threeportID ?? 0,
        instance: key,
      };
      return entry;
    });
    const dropped = this.remove(key).filter((old) => !resources.some((entry) => entry.resourceId === old.resourceId));
    const generation = Number(workload.metadata.annotations?.[GENERATION_ANNOTATION]);
    this.#instances.set(key, { key, type: spec.workloadType, id: spec.workloadInstanceId, resources, ...(generation > 0 && { generation }) });
    for (const entry of resources) this.#resources.set(entry.resourceId, entry);
    return dropped;
  }

  /** Forgets an instance; returns the resources it listed. */
  remove(key: InstanceKey): WatchedEntry[] {
    const instance = this.#instances.get(key);
    if (!instance) return [];
    this.#instances.delete(key);
    for (const entry of instance.resources) if (this.#resources.get(entry.resourceId)?.instance === key) this.#resources.delete(entry.resourceId);
    return instance.resources;
  }

  entry(resourceId: ResourceId): WatchedEntry | undefined {
    return this.#resources.get(resourceId);
  }

  instance(key: InstanceKey): PlannedInstance | undefined {
    return this.#instances.get(key);
  }

  instanceKeys(): IterableIterator<InstanceKey> {
    return this.#instances.keys();
  }

  instanceOfWorkload(workload: Manifest): InstanceKey | undefined {
    const spec = workload.spec as ThreeportWorkloadSpec | undefined;
    return spec?.workloadType && spec.workloadInstanceId ? instanceKeyOf(spec.workloadType, spec.workloadInstanceId) : undefined;
  }

  /** Every apiVersion/kind a listed resource has. */
  kinds(): Map<string, { apiVersion: string; kind: string }> {
    const kinds = new Map<string, { apiVersion: string; kind: string }>();
    for (const entry of this.#resources.values()) kinds.set(`${entry.apiVersion}/${entry.kind}`, { apiVersion: entry.apiVersion, kind: entry.kind });
    return kinds;
  }
}
