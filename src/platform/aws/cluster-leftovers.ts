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

const batches = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, index) => items.slice(index * size, (index + 1) * size));

/** The cluster's marks on what it makes: the cloud provider's, and the AWS Load Balancer Controller's. */
function madeByCluster(tags: Record<string, string | undefined>, clusterName: string): boolean {
  return tags[`kubernetes.io/cluster/${clusterName}`] !== undefined || tags['elbv2.k8s.aws/cluster'] === clusterName;
}

async function find(leftovers: ClusterLeftovers, signal: AbortSignal | undefined): Promise<Found> {
  const { clusterName, vpcId, account } = leftovers;
  const run = { signal };
  const elbv2 = serviceCaller('elasticloadbalancing', account);
  const inVpc = ((await elbv2('DescribeLoadBalancers', run, (abortSignal) => leftovers.elbv2.send(new DescribeLoadBalancersCommand({}), { abortSignal }))).LoadBalancers ?? []).filter(
    (balancer) => balancer.VpcId === vpcId,
  );
  const loadBalancers: string[] = [];
  for (const batch of batches(inVpc.map((balancer) => String(balancer.LoadBalancerArn)), 20)) {
    const described = await elbv2('DescribeTags', run, (abortSignal) => leftovers.elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }), { abortSignal }));
    for (const entry of described.TagDescriptions ?? []) {
      if (madeByCluster(Object.fromEntries((entry.Tags ?? []).map((tag) => [String(tag.Key), tag.Value])), clusterName)) loadBalancers.push(String(entry.ResourceArn));
    }
  }
  const classic = ((await elbv2('DescribeLoadBalancers', run, (abortSignal) => leftovers.elb.send(new DescribeClassicCommand({}), { abortSignal }))).LoadBalancerDescriptions ?? []).filter(
    (balancer) => balancer.VPCId === vpcId,
  );
  const classicLoadBalancers: string[] = [];
  for (const batch of batches(classic.map((balancer) => String(balancer.LoadBalancerName)), 20)) {
    const described = await elbv2('DescribeTags', run, (abortSignal) => leftovers.elb.send(new DescribeClassicTagsCommand({ LoadBalancerNames: batch }), { abortSignal }));
    for (const entry of described.TagDescriptions ?? []) {
      if (madeByCluster(Object.fromEntries((entry.Tags ?? []).map((tag) => [String(tag.Key), tag.Value])), clusterName)) classicLoadBalancers.push(String(entry.LoadBalancerName));
    }
  }
  const ec2 = serviceCaller('ec2', account);
  const groups = (await ec2('DescribeSecurityGroups', run, (abortSignal) => leftovers.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), { abortSignal }))).SecurityGroups ?? [];
  const securityGroups = groups
    .filter((group) => group.GroupName !== 'default' && !isOwnedBy(group.Tags, leftovers.owner) && madeByCluster(Object.fromEntries((group.Tags ?? []).map((tag) => [String(tag.Key), tag.Value])), clusterName))
    .map((group) => String(group.GroupId));
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
