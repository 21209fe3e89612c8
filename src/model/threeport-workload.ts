/**
 * The contract between the workload controllers and the agent, in the cluster: one
 * ThreeportWorkload (the original's CRD, `control-plane.threeport.io/v1alpha1`, cluster-scoped) per
 * workload instance, listing the resources the agent reports on and the WorkloadResourceInstance
 * each one is recorded as. The controller keeps it current whenever the instance's resources
 * change (the original never updated it), labelled with the control plane it belongs to.
 */
import type { Manifest } from './manifest.ts';
import { groupOf } from './resource-key.ts';

export const THREEPORT_WORKLOAD_API_VERSION = 'control-plane.threeport.io/v1alpha1';
export const THREEPORT_WORKLOAD_KIND = 'ThreeportWorkload';
/** Which control plane made a resource or a ThreeportWorkload (its ControlPlaneID). */
export const CONTROL_PLANE_LABEL = 'control-plane.threeport.io/control-plane-id';
export const COMPUTE_SPACE_NAMESPACE = 'threeport-control-plane';
/** The instance Generation whose resources the ThreeportWorkload lists (written after they were applied). */
export const GENERATION_ANNOTATION = 'control-plane.threeport.io/generation';

export type WorkloadType = 'WorkloadInstance' | 'HelmWorkloadInstance';

export interface WatchedResource {
  name: string;
  namespace?: string;
  group: string;
  version: string;
  kind: string;
  /** The WorkloadResourceInstance's ID; 0 for resources without one (a Helm release's). */
  threeportID: number;
}

export interface ThreeportWorkloadSpec {
  workloadType: WorkloadType;
  workloadInstanceId: number;
  workloadResourceInstances: WatchedResource[];
}

/** `workload-instance-12`, `helm-workload-instance-7` (the original's names). */
export const threeportWorkloadName = (type: WorkloadType, instanceId: number): string =>
  `${type === 'WorkloadInstance' ? 'workload-instance' : 'helm-workload-instance'}-${instanceId}`;

export function threeportWorkload(spec: ThreeportWorkloadSpec, controlPlaneId: string, generation: number): Manifest {
  return {
    apiVersion: THREEPORT_WORKLOAD_API_VERSION,
    kind: THREEPORT_WORKLOAD_KIND,
    metadata: {
      name: threeportWorkloadName(spec.workloadType, spec.workloadInstanceId),
      labels: { [CONTROL_PLANE_LABEL]: controlPlaneId },
      annotations: { [GENERATION_ANNOTATION]: String(generation) },
    },
    spec,
  };
}

export function watchedResource(manifest: Manifest, threeportID: number): WatchedResource {
  const version = manifest.apiVersion.slice(manifest.apiVersion.lastIndexOf('/') + 1);
  return {
    name: manifest.metadata.name,
    ...(manifest.metadata.namespace && { namespace: manifest.metadata.namespace }),
    group: groupOf(manifest.apiVersion),
    version,
    kind: manifest.kind,
    threeportID,
  };
}

/** The CRD, as the original's installer defines it (with a schema, so the server keeps the spec). */
export const threeportWorkloadCrd: Manifest = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'threeportworkloads.control-plane.threeport.io' },
  spec: {
    group: 'control-plane.threeport.io',
    names: { kind: THREEPORT_WORKLOAD_KIND, listKind: 'ThreeportWorkloadList', plural: 'threeportworkloads', singular: 'threeportworkload' },
    scope: 'Cluster',
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'ThreeportWorkload is the Schema for the threeportworkloads API',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                properties: {
                  workloadType: { type: 'string', enum: ['WorkloadInstance', 'HelmWorkloadInstance'] },
                  workloadInstanceId: { type: 'integer' },
                  workloadResourceInstances: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['name', 'group', 'version', 'kind'],
                      properties: {
                        name: { type: 'string' },
                        namespace: { type: 'string' },
                        group: { type: 'string' },
                        version: { type: 'string' },
                        kind: { type: 'string' },
                        threeportID: { type: 'integer' },
                      },
                    },
                  },
                },
              },
              status: { type: 'object' },
            },
          },
        },
      },
    ],
  },
};
