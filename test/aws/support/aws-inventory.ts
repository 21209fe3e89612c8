/**
 * What exists in an AWS API (moto here) carrying a control plane's tag, listed per resource type the
 * way a user would check that nothing was left behind (or made twice).
 */
import { DescribeAddressesCommand, DescribeInternetGatewaysCommand, DescribeNatGatewaysCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListClustersCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { GetOpenIDConnectProviderCommand, GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand, ListPoliciesCommand, ListRolesCommand, GetPolicyCommand } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, DescribeDBSubnetGroupsCommand, RDSClient, ListTagsForResourceCommand } from '@aws-sdk/client-rds';
import { GetBucketTaggingCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import type { AwsDescription } from '../../../src/testbed/description.ts';

export const CONTROL_PLANE_TAG = 'threeport.io/control-plane';

type Tags = { Key?: string; Value?: string }[] | Record<string, string> | undefined;
const tagOf = (tags: Tags, key: string): string | undefined => (Array.isArray(tags) ? tags.find((tag) => tag.Key === key)?.Value : tags?.[key]);

/** Every resource of the control plane's, as "<type> <id> <threeport.io/resource tag>". */
export async function taggedResources(aws: AwsDescription, controlPlaneId: string, region = aws.region): Promise<string[]> {
  const config = { region, endpoint: aws.endpoint, credentials: aws.credentials };
  const ec2 = new EC2Client(config);
  const eks = new EKSClient(config);
  const iam = new IAMClient(config);
  const rds = new RDSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ours = (tags: Tags) => tagOf(tags, CONTROL_PLANE_TAG) === controlPlaneId;
  const line = (type: string, id: unknown, tags: Tags) => `${type} ${String(id)} ${tagOf(tags, 'threeport.io/resource') ?? ''}`.trim();
  const found: string[] = [];
  try {
    for (const vpc of (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []) if (ours(vpc.Tags)) found.push(line('vpc', vpc.VpcId, vpc.Tags));
    for (const subnet of (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []) if (ours(subnet.Tags)) found.push(line('subnet', subnet.SubnetId, subnet.Tags));
    for (const gateway of (await ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways ?? []) if (ours(gateway.Tags)) found.push(line('internet-gateway', gateway.InternetGatewayId, gateway.Tags));
    for (const table of (await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? []) if (ours(table.Tags)) found.push(line('route-table', table.RouteTableId, table.Tags));
    for (const nat of (await ec2.send(new DescribeNatGatewaysCommand({}))).NatGateways ?? []) if (ours(nat.Tags) && nat.State !== 'deleted') found.push(line('nat-gateway', nat.NatGatewayId, nat.Tags));
    for (const address of (await ec2.send(new DescribeAddressesCommand({}))).Addresses ?? []) if (ours(address.Tags)) found.push(line('address', address.AllocationId, address.Tags));
    for (const group of (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []) if (ours(group.Tags)) found.push(line('security-group', group.GroupId, group.Tags));
    for (const name of (await eks.send(new ListClustersCommand({}))).clusters ?? []) {
      const cluster = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
      if (!ours(cluster?.tags)) continue;
      found.push(line('eks-cluster', name, cluster?.tags));
      for (const group of (await eks.send(new ListNodegroupsCommand({ clusterName: name }))).nodegroups ?? []) {
        const tags = (await eks.send(new DescribeNodegroupCommand({ clusterName: name, nodegroupName: group }))).nodegroup?.tags;
        found.push(line('node-group', `${name}/${group}`, tags));
      }
    }
    for (const role of (await iam.send(new ListRolesCommand({ MaxItems: 1000 }))).Roles ?? []) {
      const tags = (await iam.send(new GetRoleCommand({ RoleName: role.RoleName }))).Role?.Tags;
      if (ours(tags)) found.push(line('role', role.RoleName, tags));
    }
    for (const policy of (await iam.send(new ListPoliciesCommand({ Scope: 'Local', MaxItems: 1000 }))).Policies ?? []) {
      const tags = (await iam.send(new GetPolicyCommand({ PolicyArn: policy.Arn }))).Policy?.Tags;
      if (ours(tags)) found.push(line('policy', policy.PolicyName, tags));
    }
    for (const provider of (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []) {
      const tags = (await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: provider.Arn }))).Tags;
      if (ours(tags)) found.push(line('oidc-provider', provider.Arn, tags));
    }
    for (const database of (await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []) if (ours(database.TagList)) found.push(line('db-instance', database.DBInstanceIdentifier, database.TagList));
    for (const group of (await rds.send(new DescribeDBSubnetGroupsCommand({}))).DBSubnetGroups ?? []) {
      const tags = (await rds.send(new ListTagsForResourceCommand({ ResourceName: group.DBSubnetGroupArn }))).TagList;
      if (ours(tags)) found.push(line('db-subnet-group', group.DBSubnetGroupName, tags));
    }
    for (const bucket of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
      const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket.Name })).then((answer) => answer.TagSet, () => undefined);
      if (ours(tags)) found.push(line('bucket', bucket.Name, tags));
    }
  } finally {
    for (const client of [ec2, eks, iam, rds, s3]) client.destroy();
  }
  return found.sort();
}
