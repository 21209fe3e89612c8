/**
 * EKS runtimes end to end against moto: a runtime definition and instance with InfraProvider eks
 * become an EKS definition and instance, the AWS controller makes the whole stack (VPC, subnets,
 * gateways, routes, IAM roles, the cluster, its node group, the OIDC provider, the support services'
 * roles), every resource tagged and in the inventory, and connects the runtime with an EKS token.
 * moto's clusters have no reachable endpoint, so the test then points the runtime at test-bed
 * cluster b (the AWS controller leaves an endpoint it did not report alone) and checks the runtime
 * controller takes over; the token is made again when due; deleting the runtime removes everything.
 */
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand as CreateClassicCommand, DescribeLoadBalancersCommand as DescribeClassicCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { CreateLoadBalancerCommand as CreateLoadBalancerV2Command, DescribeLoadBalancersCommand as DescribeLoadBalancersV2Command, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { presignedUrlOf } from '../../src/platform/aws/index.ts';
import type { ObjectOf } from '../../src/model/object-types.ts';
import { readClusterConnection } from '../../src/cli/providers/local-runtime.ts';
import { eventually } from '../support/eventually.ts';
import { cleanAws, kubeconfig } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { startWorkloadPlane } from '../workloads/support/workload-plane.ts';
import { taggedResources } from './support/aws-inventory.ts';

const LONG = { timeout: 180_000 };
// The AWS controller looks at a ready runtime only every ten minutes here: a token made again within
// the test was asked for by the runtime controller, seeing it due.
const fastAws = { eks: { pollIntervalMs: 200, checkIntervalMs: 600_000, tokenRefreshMarginMs: 300_000 }, services: { pollIntervalMs: 200, checkIntervalMs: 2000 }, account: { checkIntervalMs: 60_000 } };

describe('EKS runtimes', async () => {
  const aws = await cleanAws();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  afterAll(() => {
    delete process.env.AWS_ENDPOINT_URL;
  });
  const plane = await startWorkloadPlane({ database: 'pglite', groups: ['workload', 'kubernetes-runtime', 'aws'], settings: { aws: fastAws } });
  const { client } = plane;
  const controlPlaneId = String((await client.unbound().info()).controlPlaneId);
  const account = await client.kind('AwsAccount').create({ Name: uniqueName('account'), AccountID: '123456789012', DefaultAccount: true, DefaultRegion: aws.region, AccessKeyID: aws.credentials.accessKeyId, SecretAccessKey: aws.credentials.secretAccessKey });

  const statusOf = async (kind: string, id: number) => String((await client.kind(kind).get(id)).Status ?? '');
  let runtime: ObjectOf<'KubernetesRuntimeInstance'>;
  let eks: ObjectOf<'AwsEksKubernetesRuntimeInstance'>;

  it('checks the account’s credentials and says whom they act as', async () => {
    await eventually('account verified', async () => (await statusOf('AwsAccount', account.ID)).startsWith('Verified') || statusOf('AwsAccount', account.ID));
    expect(await statusOf('AwsAccount', account.ID)).toMatch(/^Verified: its access key acts as arn:aws:(iam|sts)::123456789012:/);
  });

  it('makes the whole stack for a runtime with InfraProvider eks, tagged and in the inventory, and connects the runtime', LONG, async () => {
    const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('eks'), InfraProvider: 'eks', NodeSize: 'Large', NodeProfile: 'MemoryOptimized', NodeMaximum: 6 });
    await eventually('EKS definition made', async () => (await client.kind('AwsEksKubernetesRuntimeDefinition').listAll({ kubernetesruntimedefinitionid: definition.ID })).length === 1);
    const [eksDefinition] = await client.kind('AwsEksKubernetesRuntimeDefinition').listAll({ kubernetesruntimedefinitionid: definition.ID });
    expect(eksDefinition).toMatchObject({ AWSAccountID: account.ID, ZoneCount: 2, DefaultNodeGroupInstanceType: 'r6i.xlarge', DefaultNodeGroupMaximumSize: 6 });

    runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: uniqueName('eks'), Location: 'NorthAmerica:Chicago', KubernetesRuntimeDefinitionID: definition.ID });
    await eventually('EKS instance made', async () => (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).length === 1);
    eks = (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID }))[0]!;
    expect(eks).toMatchObject({ Name: runtime.Name, Region: 'us-east-2', AwsEksKubernetesRuntimeDefinitionID: eksDefinition!.ID });
    await eventually('EKS instance Ready', async () => (await statusOf('AwsEksKubernetesRuntimeInstance', eks.ID)).startsWith('Ready') || statusOf('AwsEksKubernetesRuntimeInstance', eks.ID), 120_000, 200);

    eks = await client.kind('AwsEksKubernetesRuntimeInstance').get(eks.ID);
    expect(eks.CreationConfirmed).toBeTruthy();
    const inventory = eks.ResourceInventory as { Zones: string[]; Region: string; Resources: Record<string, { id: string }> };
    expect(inventory.Region).toBe('us-east-2');
    expect(inventory.Zones).toEqual(['us-east-2a', 'us-east-2b']);
    const keys = Object.keys(inventory.Resources).sort();
    expect(keys).toEqual(
      [
        'vpc', 'internet-gateway', 'route-table/public',
        ...inventory.Zones.flatMap((zone) => [`subnet/public/${zone}`, `subnet/private/${zone}`, `address/${zone}`, `nat-gateway/${zone}`, `route-table/private/${zone}`]),
        'role/cluster', 'role/nodes', 'eks-cluster', 'node-group', 'oidc-provider',
        'role/external-dns', 'role/cert-manager', 'role/external-secrets', 'role/cluster-autoscaler', 'role/ebs-csi',
      ].sort(),
    );
    // Everything made is tagged as this control plane's, once each, and nothing else is.
    const tagged = await taggedResources(aws, controlPlaneId, 'us-east-2');
    const taggedKeys = tagged.map((line) => line.split(' ')[2]).sort();
    expect(taggedKeys).toEqual(keys);
    // The External Secrets Operator's role reads only the secrets this control plane keeps.
    const iam = new IAMClient({ region: 'us-east-1', endpoint: aws.endpoint, credentials: aws.credentials });
    const roleName = inventory.Resources['role/external-secrets']!.id;
    const { PolicyNames: [policyName] = [] } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
    const document = JSON.parse(decodeURIComponent(String((await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))).PolicyDocument))) as { Statement: { Action: string[]; Condition?: unknown }[] };
    expect(document.Statement.find((statement) => statement.Action.includes('secretsmanager:GetSecretValue'))?.Condition).toEqual({ StringEquals: { 'secretsmanager:ResourceTag/threeport.io/control-plane': controlPlaneId } });
    iam.destroy();

    runtime = await client.kind('KubernetesRuntimeInstance').get(runtime.ID);
    expect(runtime.APIEndpoint).toMatch(/eks\.amazonaws\.com/);
    expect(runtime.ConnectionToken).toBeTruthy();
    expect(Date.parse(String(runtime.ConnectionTokenExpiration)) - Date.now()).toBeGreaterThan(10 * 60_000);
  });

  it('follows its definition’s edited node group bounds, keeping the desired size inside them', LONG, async () => {
    const eksDefinitionId = eks.AwsEksKubernetesRuntimeDefinitionID;
    await client.kind('AwsEksKubernetesRuntimeDefinition').update(eksDefinitionId, { DefaultNodeGroupInitialSize: 3, DefaultNodeGroupMinimumSize: 3, DefaultNodeGroupMaximumSize: 8 });
    // Definitions are looked at with their instances' checks (every minute); asked for at once here.
    await client.kind('AwsEksKubernetesRuntimeInstance').requestReconcile(eks.ID, 'the test edited its definition');
    const inventory = eks.ResourceInventory as { ClusterName: string; Resources: Record<string, { id: string }> };
    const sdk = new EKSClient({ region: 'us-east-2', endpoint: aws.endpoint, credentials: aws.credentials });
    await eventually('node group resized', async () => {
      const group = (await sdk.send(new DescribeNodegroupCommand({ clusterName: inventory.ClusterName, nodegroupName: inventory.Resources['node-group']!.id }))).nodegroup;
      return JSON.stringify(group?.scalingConfig) === JSON.stringify({ minSize: 3, maxSize: 8, desiredSize: 3 }) || JSON.stringify(group?.scalingConfig);
    }, 30_000, 200);
    sdk.destroy();
  });

  it('gives the runtime a bearer token in EKS’s format: a presigned STS GetCallerIdentity naming the cluster', () => {
    const token = FieldCipher.fromBase64(plane.api.encryptionKey).decrypt(String(runtime.ConnectionToken));
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = presignedUrlOf(token);
    expect(url.origin).toBe(aws.endpoint);
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${aws.credentials.accessKeyId}/\\d{8}/us-east-2/sts/aws4_request$`));
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hands over to the runtime controller, which has the token made again when it sees it due; an endpoint the AWS controller did not report is left alone', LONG, async () => {
    const { path, context } = kubeconfig('b');
    const { context: _context, ...testbedCluster } = readClusterConnection(path, context);
    runtime = await client.kind('KubernetesRuntimeInstance').update(runtime.ID, testbedCluster);
    await eventually('runtime Ready on the test-bed cluster', async () => (await statusOf('KubernetesRuntimeInstance', runtime.ID)).startsWith('Ready') || statusOf('KubernetesRuntimeInstance', runtime.ID));

    const before = await client.kind('KubernetesRuntimeInstance').get(runtime.ID);
    await client.kind('KubernetesRuntimeInstance').update(runtime.ID, { ConnectionTokenExpiration: new Date(Date.now() + 60_000).toISOString() });
    await eventually('a new token', async () => {
      const now = await client.kind('KubernetesRuntimeInstance').get(runtime.ID);
      return Date.parse(String(now.ConnectionTokenExpiration)) - Date.now() > 10 * 60_000 || `expires ${String(now.ConnectionTokenExpiration)}`;
    });
    const after = await client.kind('KubernetesRuntimeInstance').get(runtime.ID);
    expect(after.ConnectionToken).not.toBe(before.ConnectionToken);
    expect(after.APIEndpoint).toBe(testbedCluster.APIEndpoint);
    await eventually('runtime Ready with the new token', async () => (await statusOf('KubernetesRuntimeInstance', runtime.ID)).startsWith('Ready') || statusOf('KubernetesRuntimeInstance', runtime.ID));
  });

  it('deleting the runtime removes the cluster and everything made for it, last made first, and the load balancers its Services made', LONG, async () => {
    // What the cluster's cloud provider and load balancer controller would have made for Services of type LoadBalancer.
    const inventory = (await client.kind('AwsEksKubernetesRuntimeInstance').get(eks.ID)).ResourceInventory as { ClusterName: string; Zones: string[]; Resources: Record<string, { id: string }> };
    const config = { region: 'us-east-2', endpoint: aws.endpoint, credentials: aws.credentials };
    const [elb, elbv2, ec2] = [new ElasticLoadBalancingClient(config), new ElasticLoadBalancingV2Client(config), new EC2Client(config)];
    const subnets = inventory.Zones.map((zone) => inventory.Resources[`subnet/public/${zone}`]!.id);
    const clusterTag = { Key: `kubernetes.io/cluster/${inventory.ClusterName}`, Value: 'owned' };
    await elbv2.send(new CreateLoadBalancerV2Command({ Name: 'k8s-gateway-nlb', Type: 'network', Subnets: subnets, Tags: [clusterTag] }));
    await elb.send(new CreateClassicCommand({ LoadBalancerName: 'a1b2c3-classic', Subnets: subnets, Listeners: [{ Protocol: 'TCP', LoadBalancerPort: 80, InstancePort: 30080 }], Tags: [clusterTag] }));
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'k8s-elb-a1b2c3', Description: 'made by the cluster', VpcId: inventory.Resources.vpc!.id, TagSpecifications: [{ ResourceType: 'security-group', Tags: [clusterTag] }] }));
    // Someone else's, in another VPC: left alone.
    const otherVpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    const otherSubnet = (await ec2.send(new CreateSubnetCommand({ VpcId: otherVpc, CidrBlock: '10.9.0.0/24', AvailabilityZone: 'us-east-2a' }))).Subnet!.SubnetId!;
    await elbv2.send(new CreateLoadBalancerV2Command({ Name: 'someone-else', Type: 'network', Subnets: [otherSubnet], Tags: [clusterTag] }));

    await client.kind('KubernetesRuntimeInstance').delete(runtime.ID);
    await eventually('runtime gone', async () => {
      const left = await client.kind('KubernetesRuntimeInstance').get(runtime.ID).then((object) => String(object.Status), () => undefined);
      return left === undefined || `runtime: ${left}`;
    }, 120_000, 200);
    await eventually('EKS instance gone', async () => (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).length === 0);
    expect(await taggedResources(aws, controlPlaneId, 'us-east-2')).toEqual([]);
    expect(((await elbv2.send(new DescribeLoadBalancersV2Command({}))).LoadBalancers ?? []).map((balancer) => balancer.LoadBalancerName)).toEqual(['someone-else']);
    expect((await elb.send(new DescribeClassicCommand({}))).LoadBalancerDescriptions ?? []).toEqual([]);
    expect(((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).filter((group) => group.GroupName === 'k8s-elb-a1b2c3')).toEqual([]);
    for (const sdk of [elb, elbv2, ec2]) sdk.destroy();
  });
});
