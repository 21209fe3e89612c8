/**
 * Where a workload's managed services go: the EKS cluster threeport made for the workload's
 * runtime (its VPC, private subnets, OIDC provider, region), and the namespace the workload runs in
 * (where its connection Secret goes). A database or bucket is also attached to its workload
 * instance, so deleting the workload deletes them, as in the original.
 */
import type { ApiClient } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext } from '../../controller/reconciler.ts';
import { conditionsOf, findCondition } from '../../model/conditions.ts';
import { API_VERSION } from '../../model/kind.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { networkKeys } from '../../platform/aws/network-keys.ts';
import { eksKeys } from './eks-stack.ts';
import { inventoryOf } from './inventory.ts';

type WorkloadInstance = ObjectOf<'WorkloadInstance'>;

export interface EksPlacement {
  workload: WorkloadInstance;
  runtime: ObjectOf<'KubernetesRuntimeInstance'>;
  eks: ObjectOf<'AwsEksKubernetesRuntimeInstance'>;
  region: string;
  vpcId: string;
  privateSubnets: { id: string; cidr: string }[];
  oidcProvider: { arn: string; url: string };
}

/** The workload's EKS cluster as threeport made it; `waiting` while it is still being made. */
export async function eksPlacementOf(api: ApiClient, workloadInstanceId: number, what: string): Promise<EksPlacement | { waiting: string }> {
  const workload = await api.kind('WorkloadInstance').get(workloadInstanceId);
  const runtime = await api.kind('KubernetesRuntimeInstance').get(workload.KubernetesRuntimeInstanceID);
  const [eks] = await api.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID });
  if (!eks) {
    throw new TerminalError(`its workload instance ${workload.Name} runs on Kubernetes runtime ${runtime.Name}, which is not an EKS cluster threeport made: a ${what} is made in its cluster's VPC and account, so the workload must run on an EKS runtime`);
  }
  if (eks.DeletionScheduled) throw new TerminalError(`the EKS cluster of runtime ${runtime.Name} is being deleted`);
  if (findCondition(conditionsOf(eks), 'Ready')?.Status !== 'True') return { waiting: `the EKS cluster of runtime ${runtime.Name} is not ready yet (${eks.Status ?? 'being made'})` };
  const inventory = inventoryOf(eks);
  const zones = (inventory.Zones as string[] | undefined) ?? [];
  const vpc = inventory.Resources[networkKeys.vpc];
  const provider = inventory.Resources[eksKeys.oidcProvider];
  const subnets = zones.map((zone) => inventory.Resources[networkKeys.subnet('private', zone)]);
  if (!vpc || !provider || subnets.some((subnet) => !subnet)) return { waiting: `the EKS cluster of runtime ${runtime.Name} has no complete inventory yet` };
  return {
    workload,
    runtime,
    eks,
    region: String(inventory.Region),
    vpcId: vpc.id,
    privateSubnets: subnets.map((subnet) => ({ id: subnet!.id, cidr: String(subnet!.cidr) })),
    oidcProvider: { arn: provider.id, url: String(provider.url) },
  };
}

/** Attaches the object to its workload instance (once): deleting the workload deletes it. */
export async function attachToWorkload(context: ReconcileContext, workloadInstanceId: number): Promise<void> {
  const key = { objecttype: `${API_VERSION}.WorkloadInstance`, objectid: workloadInstanceId, attachedobjecttype: `${API_VERSION}.${context.kind.name}`, attachedobjectid: Number(context.object.ID) };
  const references = context.client.kind('AttachedObjectReference');
  if ((await references.list(key, { size: 1 })).objects.length > 0) return;
  await references.apply(key, { ObjectType: key.objecttype, ObjectID: key.objectid, AttachedObjectType: key.attachedobjecttype, AttachedObjectID: key.attachedobjectid });
}
