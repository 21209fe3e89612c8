/**
 * What a Kubernetes cluster makes in its VPC on its own, outside threeport's stack: the load
 * balancers of its Services (classic ELBs and NLBs/ALBs, from the cloud provider or the AWS Load
 * Balancer Controller), their security groups, and network interfaces its CNI leaves behind. They
 * are found by the cluster's tags and removed once the cluster is gone (it would make them again)
 * and before its subnets and VPC, which they would keep from being deleted — and would cost money.
 */
import { DeleteLoadBalancerCommand as DeleteClassicCommand, DescribeLoadBalancersCommand as DescribeClassicCommand, DescribeTagsCommand as DescribeClassicTagsCommand, type ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { DeleteLoadBalancerCommand, DescribeLoadBalancersCommand, DescribeTagsCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteNetworkInterfaceCommand, DeleteSecurityGroupCommand, DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { absentAsUndefined, serviceCaller } from './errors.ts';
import { isOwnedBy, type Owner } from './tags.ts';

export interface ClusterLeftovers {
  elb: ElasticLoadBalancingClient;
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  account: string;
  clusterName: string;
  vpcId: string;
  /** The stack's owner: its own resources (tagged for the cluster too) are the stack's to remove. */
  owner: Owner;
}

interface Found {
  loadBalancers: string[];
  classicLoadBalancers: string[];
  securityGroups: string[];
  networkInterfaces: string[];
}

type Tags = { Key?: string | undefined; Value?: string | undefined }[] | undefined;

/** The cluster's marks on what it makes: the cloud provider's, and the AWS Load Balancer Controller's. */
function madeByCluster(tags: Tags, clusterName: string): boolean {
  const map = Object.fromEntries((tags ?? []).map((tag) => [String(tag.Key), tag.Value]));
  return map[`kubernetes.io/cluster/${clusterName}`] !== undefined || map['elbv2.k8s.aws/cluster'] === clusterName;
}

/** Of `ids`, those the cluster made, their tags asked for 20 at a time (as the load balancer APIs take them). */
async function madeByClusterOf(ids: readonly string[], clusterName: string, tagsOf: (batch: string[]) => Promise<{ id: string; tags: Tags }[]>): Promise<string[]> {
  const made: string[] = [];
  for (let start = 0; start < ids.length; start += 20) {
    for (const { id, tags } of await tagsOf(ids.slice(start, start + 20))) if (madeByCluster(tags, clusterName)) made.push(id);
  }
  return made;
}

async function find(leftovers: ClusterLeftovers, signal: AbortSignal | undefined): Promise<Found> {
  const { clusterName, vpcId, account } = leftovers;
  const run = { signal };
  const elb = serviceCaller('elasticloadbalancing', account);
  const balancers = (await elb('DescribeLoadBalancers', run, (abortSignal) => leftovers.elbv2.send(new DescribeLoadBalancersCommand({}), { abortSignal }))).LoadBalancers ?? [];
  const loadBalancers = await madeByClusterOf(
    balancers.filter((balancer) => balancer.VpcId === vpcId).map((balancer) => String(balancer.LoadBalancerArn)),
    clusterName,
    async (batch) =>
      ((await elb('DescribeTags', run, (abortSignal) => leftovers.elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }), { abortSignal }))).TagDescriptions ?? []).map((entry) => ({ id: String(entry.ResourceArn), tags: entry.Tags })),
  );
  const classic = (await elb('DescribeLoadBalancers', run, (abortSignal) => leftovers.elb.send(new DescribeClassicCommand({}), { abortSignal }))).LoadBalancerDescriptions ?? [];
  const classicLoadBalancers = await madeByClusterOf(
    classic.filter((balancer) => balancer.VPCId === vpcId).map((balancer) => String(balancer.LoadBalancerName)),
    clusterName,
    async (batch) =>
      ((await elb('DescribeTags', run, (abortSignal) => leftovers.elb.send(new DescribeClassicTagsCommand({ LoadBalancerNames: batch }), { abortSignal }))).TagDescriptions ?? []).map((entry) => ({ id: String(entry.LoadBalancerName), tags: entry.Tags })),
  );
  const ec2 = serviceCaller('ec2', account);
  const groups = (await ec2('DescribeSecurityGroups', run, (abortSignal) => leftovers.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), { abortSignal }))).SecurityGroups ?? [];
  const securityGroups = groups.filter((group) => group.GroupName !== 'default' && !isOwnedBy(group.Tags, leftovers.owner) && madeByCluster(group.Tags, clusterName)).map((group) => String(group.GroupId));
  const interfaces = (await ec2('DescribeNetworkInterfaces', run, (abortSignal) =>
    leftovers.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'status', Values: ['available'] }] }), { abortSignal }),
  )).NetworkInterfaces ?? [];
  const networkInterfaces = interfaces.filter((networkInterface) => networkInterface.TagSet?.some((tag) => tag.Key === 'cluster.k8s.amazonaws.com/name' && tag.Value === clusterName)).map((networkInterface) => String(networkInterface.NetworkInterfaceId));
  return { loadBalancers, classicLoadBalancers, securityGroups, networkInterfaces };
}

const describeFound = (found: Found): string =>
  [
    [found.loadBalancers.length + found.classicLoadBalancers.length, 'load balancer(s)'],
    [found.securityGroups.length, 'security group(s)'],
    [found.networkInterfaces.length, 'network interface(s)'],
  ]
    .filter(([count]) => Number(count) > 0)
    .map(([count, what]) => `${String(count)} ${String(what)}`)
    .join(', ');

/**
 * Asks for everything the cluster left to be removed; what is still there (and being removed), or
 * undefined once nothing is. Load balancers go first: their security groups are in use until then.
 */
export async function removeClusterLeftovers(leftovers: ClusterLeftovers, signal?: AbortSignal): Promise<string | undefined> {
  const found = await find(leftovers, signal);
  const left = describeFound(found);
  if (!left) return undefined;
  const run = { signal };
  const elb = serviceCaller('elasticloadbalancing', leftovers.account);
  const ec2 = serviceCaller('ec2', leftovers.account);
  for (const arn of found.loadBalancers) await elb('DeleteLoadBalancer', run, (abortSignal) => leftovers.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }), { abortSignal })).catch(absentAsUndefined);
  for (const name of found.classicLoadBalancers) await elb('DeleteLoadBalancer', run, (abortSignal) => leftovers.elb.send(new DeleteClassicCommand({ LoadBalancerName: name }), { abortSignal })).catch(absentAsUndefined);
  if (found.loadBalancers.length + found.classicLoadBalancers.length === 0) {
    // Groups and interfaces can still be in use a while after their load balancers went: tried again on the next look.
    for (const id of found.securityGroups) await ec2('DeleteSecurityGroup', run, (abortSignal) => leftovers.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }), { abortSignal })).catch(() => undefined);
    for (const id of found.networkInterfaces) await ec2('DeleteNetworkInterface', run, (abortSignal) => leftovers.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }), { abortSignal })).catch(() => undefined);
  }
  return `removing what cluster ${leftovers.clusterName} made in its VPC: ${left}`;
}
