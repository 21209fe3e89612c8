/**
 * Telling the agent of a runtime what to watch for an instance: the instance's ThreeportWorkload
 * in its cluster (see model/threeport-workload.ts), kept current by the workload and Helm
 * workload controllers alike, and removed first when the instance goes (so its removals are not
 * taken for drift).
 */
import { RetryableError } from '../../controller/errors.ts';
import { threeportWorkload, threeportWorkloadName, THREEPORT_WORKLOAD_API_VERSION, THREEPORT_WORKLOAD_KIND, type ThreeportWorkloadSpec, type WorkloadType } from '../../model/threeport-workload.ts';
import { KubernetesApiError, type KubernetesClient } from '../../platform/kubernetes/index.ts';

/** Lists `spec`'s resources for the agent, stamped with the instance generation they were applied for. */
export async function tellAgent(cluster: KubernetesClient, spec: ThreeportWorkloadSpec, controlPlaneId: string, generation: number, signal: AbortSignal): Promise<void> {
  try {
    await cluster.apply(threeportWorkload(spec, controlPlaneId, generation), { force: true, signal });
  } catch (error) {
    if (error instanceof KubernetesApiError && error.reason === 'NoKindMatch') {
      throw new RetryableError(`the cluster does not have threeport's components yet (its Kubernetes runtime installs them): ${error.message}`);
    }
    throw error;
  }
}

/** Stops the agent watching the instance's resources. */
export async function stopTellingAgent(cluster: KubernetesClient, type: WorkloadType, instanceId: number, signal: AbortSignal): Promise<void> {
  await cluster.delete({ apiVersion: THREEPORT_WORKLOAD_API_VERSION, kind: THREEPORT_WORKLOAD_KIND, name: threeportWorkloadName(type, instanceId) }, signal);
}
