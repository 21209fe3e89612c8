/**
 * An EKS cluster and its managed node group as stack steps, and the cluster's connection details.
 * Both are named by the caller and made with a client request token, so a retried create returns
 * what the first made; a cluster of the name that is not the owner's is refused.
 */
import {
  CreateClusterCommand,
  CreateNodegroupCommand,
  DeleteClusterCommand,
  DeleteNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  UpdateNodegroupConfigCommand,
  type Cluster,
  type EKSClient,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { absentAsUndefined, awsCall, AwsProblem, clientToken, deletedUnlessBusy } from './errors.ts';
import { FOREIGN, type StackRun, type StackStep } from './stack.ts';
import { isOwnedBy, tagMap, tagsFor, type Owner } from './tags.ts';

export interface ClusterPlan {
  key: string;
  name: string;
  /** A Kubernetes version; EKS's default when absent. */
  version?: string;
  roleArn(run: StackRun): string;
  subnetIds(run: StackRun): string[];
}

export interface NodeGroupPlan {
  key: string;
  clusterName: string;
  name: string;
  instanceType: string;
  initialSize: number;
  minimumSize: number;
  maximumSize: number;
  roleArn(run: StackRun): string;
  subnetIds(run: StackRun): string[];
}

export interface ClusterConnection {
  endpoint: string;
  /** PEM. */
  caCertificate: string;
  oidcIssuer: string | undefined;
}

/** A cluster being updated (a version upgrade takes half an hour) still serves its API. */
const USABLE = new Set(['ACTIVE', 'UPDATING']);

export async function describeCluster(eks: EKSClient, account: string, name: string, signal?: AbortSignal): Promise<Cluster | undefined> {
  const answer = await awsCall('eks:DescribeCluster', account, () => eks.send(new DescribeClusterCommand({ name }), { abortSignal: signal })).catch(absentAsUndefined);
  return answer?.cluster;
}

/** The cluster's endpoint, CA (PEM) and OIDC issuer, once it is ACTIVE. */
export async function clusterConnection(eks: EKSClient, account: string, name: string, signal?: AbortSignal): Promise<ClusterConnection | { waiting: string }> {
  const cluster = await describeCluster(eks, account, name, signal);
  if (!cluster) return { waiting: `EKS cluster ${name} does not exist` };
  if (!USABLE.has(String(cluster.status)) || !cluster.endpoint) return { waiting: `EKS cluster ${name} is ${cluster.status ?? 'not ready'}` };
  const data = cluster.certificateAuthority?.data ?? '';
  const decoded = Buffer.from(data, 'base64').toString('utf8');
  return { endpoint: cluster.endpoint, caCertificate: decoded.includes('BEGIN CERTIFICATE') ? decoded : data, oidcIssuer: cluster.identity?.oidc?.issuer };
}

export function clusterStep(eks: EKSClient, account: string, owner: Owner, plan: ClusterPlan): StackStep {
  return {
    key: plan.key,
    what: `EKS cluster ${plan.name}`,
    async find(run) {
      const cluster = await describeCluster(eks, account, plan.name, run.signal);
      if (!cluster) return undefined;
      if (!isOwnedBy(cluster.tags, owner)) throw new AwsProblem(`an EKS cluster named ${plan.name} exists in this region of AWS account ${account} and threeport did not make it for ${owner.object}: name the runtime differently`, true, FOREIGN);
      return { id: plan.name, arn: String(cluster.arn) };
    },
    async create(run) {
      const answer = await awsCall('eks:CreateCluster', account, () =>
        eks.send(
          new CreateClusterCommand({
            name: plan.name,
            ...(plan.version && { version: plan.version }),
            roleArn: plan.roleArn(run),
            resourcesVpcConfig: { subnetIds: plan.subnetIds(run), endpointPublicAccess: true, endpointPrivateAccess: true },
            accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: true },
            tags: tagMap(tagsFor(owner, plan.key)),
            clientRequestToken: clientToken(owner.controlPlaneId, owner.object, plan.key),
          }),
          { abortSignal: run.signal },
        ),
      );
      return { id: plan.name, arn: String(answer.cluster?.arn) };
    },
    async pending(run) {
      const cluster = await describeCluster(eks, account, plan.name, run.signal);
      return clusterWaiting(plan.name, cluster);
    },
    async remove(run) {
      await awsCall('eks:DeleteCluster', account, () => eks.send(new DeleteClusterCommand({ name: plan.name }), { abortSignal: run.signal })).catch(
        deletedUnlessBusy(`EKS cluster ${plan.name}`, 'ResourceInUseException', 'DELETING', async () => (await describeCluster(eks, account, plan.name, run.signal))?.status),
      );
    },
    async removing(run) {
      const cluster = await describeCluster(eks, account, plan.name, run.signal);
      return cluster ? `EKS cluster ${plan.name} is ${cluster.status ?? 'being deleted'}` : undefined;
    },
  };
}

function clusterWaiting(name: string, cluster: Cluster | undefined): string | undefined {
  if (!cluster) return `EKS cluster ${name} is not visible yet`;
  if (USABLE.has(String(cluster.status))) return undefined;
  if (cluster.status === 'FAILED') throw new AwsProblem(`EKS cluster ${name} FAILED to create: ${cluster.health?.issues?.map((issue) => issue.message).join('; ') || 'EKS gives no reason'}`, true, 'ClusterFailed');
  return `EKS cluster ${name} is ${cluster.status ?? 'being made'} (this takes about 10 minutes)`;
}

export function nodeGroupStep(eks: EKSClient, account: string, owner: Owner, plan: NodeGroupPlan): StackStep {
  const describe = async (run: StackRun): Promise<Nodegroup | undefined> => {
    const answer = await awsCall('eks:DescribeNodegroup', account, () => eks.send(new DescribeNodegroupCommand({ clusterName: plan.clusterName, nodegroupName: plan.name }), { abortSignal: run.signal })).catch(
      absentAsUndefined,
    );
    return answer?.nodegroup;
  };
  return {
    key: plan.key,
    what: `node group ${plan.name}`,
    async find(run) {
      const group = await describe(run);
      return group ? { id: plan.name, arn: String(group.nodegroupArn) } : undefined;
    },
    async create(run) {
      const answer = await awsCall('eks:CreateNodegroup', account, () =>
        eks.send(
          new CreateNodegroupCommand({
            clusterName: plan.clusterName,
            nodegroupName: plan.name,
            subnets: plan.subnetIds(run),
            instanceTypes: [plan.instanceType],
            scalingConfig: { minSize: plan.minimumSize, maxSize: plan.maximumSize, desiredSize: plan.initialSize },
            nodeRole: plan.roleArn(run),
            tags: tagMap(tagsFor(owner, plan.key)),
            clientRequestToken: clientToken(owner.controlPlaneId, owner.object, plan.key),
          }),
          { abortSignal: run.signal },
        ),
      );
      return { id: plan.name, arn: String(answer.nodegroup?.nodegroupArn) };
    },
    async pending(run) {
      const group = await describe(run);
      if (!group) return `node group ${plan.name} is not visible yet`;
      if (group.status === 'ACTIVE' || group.status === 'UPDATING') return undefined;
      const issues = group.health?.issues?.map((issue) => `${issue.code}: ${issue.message}`).join('; ') || 'EKS gives no reason';
      // DEGRADED is often passing (an instance replaced): it is said, not given up on.
      if (group.status === 'DEGRADED') return `node group ${plan.name} is DEGRADED: ${issues}`;
      if (group.status === 'CREATE_FAILED') throw new AwsProblem(`node group ${plan.name} is CREATE_FAILED: ${issues}`, true, 'NodegroupFailed');
      return `node group ${plan.name} is ${group.status ?? 'being made'}`;
    },
    async remove(run) {
      await awsCall('eks:DeleteNodegroup', account, () => eks.send(new DeleteNodegroupCommand({ clusterName: plan.clusterName, nodegroupName: plan.name }), { abortSignal: run.signal })).catch(
        deletedUnlessBusy(`node group ${plan.name}`, 'ResourceInUseException', 'DELETING', async () => (await describe(run))?.status),
      );
    },
    async removing(run) {
      const group = await describe(run);
      return group ? `node group ${plan.name} is ${group.status ?? 'being deleted'}` : undefined;
    },
  };
}

/**
 * Keeps an active node group's bounds those asked for: minimum and maximum as given, the desired
 * size moved inside them only when it is outside (within them it is the autoscaler's). Returns
 * what it changed (none: already so).
 */
export async function resizeNodeGroup(eks: EKSClient, account: string, plan: { clusterName: string; name: string; minimumSize: number; maximumSize: number }, signal?: AbortSignal): Promise<string[]> {
  const answer = await awsCall('eks:DescribeNodegroup', account, () => eks.send(new DescribeNodegroupCommand({ clusterName: plan.clusterName, nodegroupName: plan.name }), { abortSignal: signal }));
  const group = answer.nodegroup;
  if (!group || group.status !== 'ACTIVE') return [];
  const current = group.scalingConfig ?? {};
  const desired = Math.min(plan.maximumSize, Math.max(plan.minimumSize, current.desiredSize ?? plan.minimumSize));
  const changed = [
    ...(current.minSize !== plan.minimumSize ? [`minimum ${plan.minimumSize}`] : []),
    ...(current.maxSize !== plan.maximumSize ? [`maximum ${plan.maximumSize}`] : []),
    ...(current.desiredSize !== desired ? [`desired ${desired}`] : []),
  ];
  if (changed.length === 0) return [];
  await awsCall('eks:UpdateNodegroupConfig', account, () =>
    eks.send(new UpdateNodegroupConfigCommand({ clusterName: plan.clusterName, nodegroupName: plan.name, scalingConfig: { minSize: plan.minimumSize, maxSize: plan.maximumSize, desiredSize: desired } }), { abortSignal: signal }),
  );
  return changed;
}
