/**
 * A workload instance's resources as it should have them: its definition's manifests customized
 * for it (overrides, pinned images), placed in its namespace, with what other controllers add to
 * it and contribute to its resources. What the instance reconciler applies and a plan dry-runs.
 */
import { RetryableError } from '../../controller/errors.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { parseResourceKey } from '../../model/resource-key.ts';
import { KubernetesApiError, type KubernetesClient } from '../../platform/kubernetes/index.ts';
import { applyContributions, contributionsOf } from '../shared/contributions.ts';
import { desiredResources, type DesiredResource } from './desired-resources.ts';
import { customizedManifests } from './instance-customizations.ts';

type ResourceInstance = ObjectOf<'WorkloadResourceInstance'>;

export interface RenderRequest {
  instance: Pick<ObjectOf<'WorkloadInstance'>, 'ID' | 'Name' | 'Overrides' | 'Images' | 'Contributions'>;
  definitionName: string;
  /** The definition's manifests, with the resource definition each comes from (none for a proposed definition). */
  manifests: readonly { manifest: Manifest; resourceDefinitionId?: number }[];
  /** The instance's resource records (its inventory). */
  records: readonly ResourceInstance[];
  controlPlaneId: string;
}

export async function renderInstance(cluster: KubernetesClient, request: RenderRequest, signal: AbortSignal): Promise<DesiredResource[]> {
  const { instance, records } = request;
  const customized = customizedManifests(request.manifests.map((source) => source.manifest), instance);
  const rendered = await desiredResources(
    cluster,
    { id: instance.ID, name: instance.Name, definitionName: request.definitionName, controlPlaneId: request.controlPlaneId, ...recordedNamespace(records) },
    [
      ...request.manifests.map((source, index) => ({ ...source, manifest: customized[index]! })),
      ...records.filter(isAddedByOthers).map((record) => ({ recordKey: String(record.ResourceKey), manifest: record.JSONDefinition as Manifest })),
    ],
    signal,
  ).catch(retryUnlessTerminal);
  // What other controllers add (a bucket's env var, a role annotation) goes into the definition's resources as they are applied.
  const contributions = contributionsOf(instance);
  return rendered.map((resource) => (resource.addedByOthers ? resource : { ...resource, manifest: applyContributions(resource.manifest, contributions) }));
}

export const isThreeportNamespace = (record: ResourceInstance): boolean => parseResourceKey(String(record.ResourceKey)).kind === 'Namespace';

/** The namespace threeport made for the instance, if it made one. */
function recordedNamespace(records: readonly ResourceInstance[]): { managedNamespace?: string } {
  const record = records.find((candidate) => isThreeportNamespace(candidate) && !candidate.ScheduledForDeletion);
  return record ? { managedNamespace: parseResourceKey(String(record.ResourceKey)).name } : {};
}

/** A record another controller added (a gateway's route…): applied with the instance until it is scheduled for deletion. */
const isAddedByOthers = (record: ResourceInstance): boolean => record.WorkloadResourceDefinitionID === undefined && !isThreeportNamespace(record) && !record.ScheduledForDeletion;

/** A kind the cluster does not serve yet (a CRD applied with it is not established): retried, not failed. */
function retryUnlessTerminal(error: unknown): never {
  if (error instanceof KubernetesApiError && error.reason === 'NoKindMatch') throw new RetryableError(error.message, { cause: error });
  throw error;
}
