/**
 * A VPC for a cluster: public and private subnets in each zone, an internet gateway for the public
 * ones, a NAT gateway per zone for the private ones (nodes and databases live there), and their
 * route tables. Each resource is a stack step, tagged with its owner and found by those tags.
 */
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  ReleaseAddressCommand,
  type EC2Client,
  type Filter,
  type ResourceType,
} from '@aws-sdk/client-ec2';
import { absentAsUndefined, awsCall, AwsProblem, clientToken, serviceCaller } from './errors.ts';
import { networkKeys } from './network-keys.ts';
import type { StackRun, StackStep } from './stack.ts';
import { isOwnedBy, ownerFilters, tagsFor, type Owner, type Tag } from './tags.ts';

export interface NetworkPlan {
  /** Names the resources in the console: `<name>-public-us-east-1a`. */
  name: string;
  /** Availability zones, one public and one private subnet each. */
  zones: readonly string[];
  /** Subnets carry `kubernetes.io/cluster/<name>`, so the cluster's load balancers find them. */
  clusterName: string;
}

export const VPC_CIDR = '10.0.0.0/16';
/** /19s: public ones from 10.0.0.0, private ones from 10.0.128.0 (up to four zones each). */
const subnetCidr = (tier: 'public' | 'private', index: number): string => `10.0.${(tier === 'public' ? 0 : 128) + 32 * index}.0/19`;

/** The first `count` zones of the region that are available, in name order. */
export async function availableZones(ec2: EC2Client, account: string, count: number, signal?: AbortSignal): Promise<string[]> {
  const answer = await awsCall('ec2:DescribeAvailabilityZones', account, () =>
    ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }), { abortSignal: signal }),
  );
  const zones = (answer.AvailabilityZones ?? []).filter((zone) => (zone.ZoneType ?? 'availability-zone') === 'availability-zone').map((zone) => String(zone.ZoneName)).sort();
  if (zones.length < count) throw new AwsProblem(`the region has ${zones.length} availability zone(s) available to account ${account}, fewer than the ${count} asked for: lower the zone count or choose another region`, true);
  return zones.slice(0, count);
}

/** The network's steps, in the order they are made. */
export function networkSteps(ec2: EC2Client, account: string, owner: Owner, plan: NetworkPlan): StackStep[] {
  const tagged = (type: ResourceType, key: string, extra: Tag[] = []) => [{ ResourceType: type, Tags: [...tagsFor(owner, key, `${plan.name}-${key.replaceAll('/', '-')}`), ...extra] }];
  const call = serviceCaller('ec2', account);
  const ignoring = (codes: RegExp) => (error: unknown) => {
    if (error instanceof AwsProblem && codes.test(error.code ?? '')) return undefined;
    throw error;
  };
  // The filters narrow the search; the tags decide (not every EC2 API, or every AWS look-alike, filters by tag).
  const ours = (key: string) => (resource: { Tags?: { Key?: string; Value?: string }[] }) => isOwnedBy(resource.Tags, owner, key);
  const clusterTag = { Key: `kubernetes.io/cluster/${plan.clusterName}`, Value: 'shared' };

  const vpc: StackStep = {
    key: networkKeys.vpc,
    what: `VPC ${plan.name}`,
    async find(run) {
      const answer = await call('DescribeVpcs', run, (signal) => ec2.send(new DescribeVpcsCommand({ Filters: ownerFilters(owner, this.key) }), { abortSignal: signal }));
      const found = answer.Vpcs?.find(ours(this.key));
      return found?.VpcId ? { id: found.VpcId } : undefined;
    },
    async create(run) {
      const answer = await call('CreateVpc', run, (signal) => ec2.send(new CreateVpcCommand({ CidrBlock: VPC_CIDR, TagSpecifications: tagged('vpc', this.key) }), { abortSignal: signal }));
      return { id: String(answer.Vpc?.VpcId) };
    },
    async configure(run, made) {
      // Cluster endpoints and node names need DNS in the VPC.
      await call('ModifyVpcAttribute', run, (signal) => ec2.send(new ModifyVpcAttributeCommand({ VpcId: made.id, EnableDnsSupport: { Value: true } }), { abortSignal: signal }));
      await call('ModifyVpcAttribute', run, (signal) => ec2.send(new ModifyVpcAttributeCommand({ VpcId: made.id, EnableDnsHostnames: { Value: true } }), { abortSignal: signal }));
    },
    async remove(run, made) {
      await call('DeleteVpc', run, (signal) => ec2.send(new DeleteVpcCommand({ VpcId: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
    },
  };

  const internetGateway: StackStep = {
    key: networkKeys.internetGateway,
    what: 'internet gateway',
    async find(run) {
      const answer = await call('DescribeInternetGateways', run, (signal) => ec2.send(new DescribeInternetGatewaysCommand({ Filters: ownerFilters(owner, this.key) }), { abortSignal: signal }));
      const found = answer.InternetGateways?.find(ours(this.key));
      return found?.InternetGatewayId ? { id: found.InternetGatewayId } : undefined;
    },
    async create(run) {
      const answer = await call('CreateInternetGateway', run, (signal) => ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagged('internet-gateway', this.key) }), { abortSignal: signal }));
      return { id: String(answer.InternetGateway?.InternetGatewayId) };
    },
    async configure(run, made) {
      await call('AttachInternetGateway', run, (signal) => ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: made.id, VpcId: run.made(networkKeys.vpc).id }), { abortSignal: signal })).catch(
        ignoring(/Resource\.AlreadyAssociated/),
      );
    },
    async remove(run, made) {
      await call('DetachInternetGateway', run, (signal) => ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: made.id, VpcId: run.made(networkKeys.vpc).id }), { abortSignal: signal })).catch(
        ignoring(/NotFound|Gateway\.NotAttached/),
      );
      await call('DeleteInternetGateway', run, (signal) => ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
    },
  };

  const subnet = (tier: 'public' | 'private', zone: string, index: number): StackStep => ({
    key: networkKeys.subnet(tier, zone),
    what: `${tier} subnet in ${zone}`,
    async find(run) {
      const answer = await call('DescribeSubnets', run, (signal) => ec2.send(new DescribeSubnetsCommand({ Filters: ownerFilters(owner, this.key) }), { abortSignal: signal }));
      const found = answer.Subnets?.find(ours(this.key));
      return found?.SubnetId ? { id: found.SubnetId, zone, cidr: String(found.CidrBlock) } : undefined;
    },
    async create(run) {
      const role = { Key: tier === 'public' ? 'kubernetes.io/role/elb' : 'kubernetes.io/role/internal-elb', Value: '1' };
      const cidr = subnetCidr(tier, index);
      const answer = await call('CreateSubnet', run, (signal) =>
        ec2.send(new CreateSubnetCommand({ VpcId: run.made(networkKeys.vpc).id, CidrBlock: cidr, AvailabilityZone: zone, TagSpecifications: tagged('subnet', this.key, [role, clusterTag]) }), { abortSignal: signal }),
      );
      return { id: String(answer.Subnet?.SubnetId), zone, cidr };
    },
    async configure(run, made) {
      if (tier !== 'public') return;
      await call('ModifySubnetAttribute', run, (signal) => ec2.send(new ModifySubnetAttributeCommand({ SubnetId: made.id, MapPublicIpOnLaunch: { Value: true } }), { abortSignal: signal }));
    },
    async remove(run, made) {
      await call('DeleteSubnet', run, (signal) => ec2.send(new DeleteSubnetCommand({ SubnetId: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
    },
  });

  const routeTable = (key: string, what: string, subnets: (run: StackRun) => string[], target: (run: StackRun) => Promise<{ GatewayId?: string; NatGatewayId?: string } | { waiting: string }>): StackStep => ({
    key,
    what,
    async find(run) {
      const answer = await call('DescribeRouteTables', run, (signal) => ec2.send(new DescribeRouteTablesCommand({ Filters: ownerFilters(owner, key) }), { abortSignal: signal }));
      const found = answer.RouteTables?.find(ours(key));
      return found?.RouteTableId ? { id: found.RouteTableId } : undefined;
    },
    async create(run) {
      const via = await target(run);
      if ('waiting' in via) return via;
      const answer = await call('CreateRouteTable', run, (signal) => ec2.send(new CreateRouteTableCommand({ VpcId: run.made(networkKeys.vpc).id, TagSpecifications: tagged('route-table', key) }), { abortSignal: signal }));
      return { id: String(answer.RouteTable?.RouteTableId) };
    },
    async configure(run, made) {
      const via = await target(run);
      if ('waiting' in via) throw new AwsProblem(`${what}: ${via.waiting}`, false);
      await call('CreateRoute', run, (signal) => ec2.send(new CreateRouteCommand({ RouteTableId: made.id, DestinationCidrBlock: '0.0.0.0/0', ...via }), { abortSignal: signal })).catch(ignoring(/RouteAlreadyExists/));
      for (const subnetId of subnets(run)) {
        await call('AssociateRouteTable', run, (signal) => ec2.send(new AssociateRouteTableCommand({ RouteTableId: made.id, SubnetId: subnetId }), { abortSignal: signal })).catch(ignoring(/Resource\.AlreadyAssociated/));
      }
    },
    async remove(run, made) {
      const answer = await call('DescribeRouteTables', run, (signal) => ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [made.id] }), { abortSignal: signal })).catch(absentAsUndefined);
      for (const association of answer?.RouteTables?.[0]?.Associations ?? []) {
        if (association.Main || !association.RouteTableAssociationId) continue;
        await call('DisassociateRouteTable', run, (signal) => ec2.send(new DisassociateRouteTableCommand({ AssociationId: association.RouteTableAssociationId }), { abortSignal: signal })).catch(absentAsUndefined);
      }
      await call('DeleteRouteTable', run, (signal) => ec2.send(new DeleteRouteTableCommand({ RouteTableId: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
    },
  });

  const address = (zone: string): StackStep => ({
    key: networkKeys.address(zone),
    what: `elastic IP for the NAT gateway in ${zone}`,
    async find(run) {
      const answer = await call('DescribeAddresses', run, (signal) => ec2.send(new DescribeAddressesCommand({ Filters: ownerFilters(owner, this.key) }), { abortSignal: signal }));
      const found = answer.Addresses?.find(ours(this.key));
      return found?.AllocationId ? { id: found.AllocationId } : undefined;
    },
    async create(run) {
      const answer = await call('AllocateAddress', run, (signal) => ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagged('elastic-ip', this.key) }), { abortSignal: signal }));
      return { id: String(answer.AllocationId) };
    },
    async remove(run, made) {
      await call('ReleaseAddress', run, (signal) => ec2.send(new ReleaseAddressCommand({ AllocationId: made.id }), { abortSignal: signal })).catch(ignoring(/NotFound|InvalidAllocationID/));
    },
  });

  const natGateway = (zone: string): StackStep => {
    const describe = (run: StackRun, filters: Filter[]) =>
      call('DescribeNatGateways', run, (signal) => ec2.send(new DescribeNatGatewaysCommand({ Filter: filters }), { abortSignal: signal })).then((answer) => answer.NatGateways ?? []);
    const live = (state: string | undefined) => state !== 'deleted' && state !== 'failed';
    return {
      key: networkKeys.natGateway(zone),
      what: `NAT gateway in ${zone}`,
      async find(run) {
        const found = (await describe(run, ownerFilters(owner, this.key))).find((gateway) => live(gateway.State) && ours(this.key)(gateway));
        return found?.NatGatewayId ? { id: found.NatGatewayId } : undefined;
      },
      async create(run) {
        const answer = await call('CreateNatGateway', run, (signal) =>
          ec2.send(
            new CreateNatGatewayCommand({
              SubnetId: run.made(networkKeys.subnet('public', zone)).id,
              AllocationId: run.made(networkKeys.address(zone)).id,
              // The same token on a retry returns the gateway the first try made.
              ClientToken: clientToken(owner.controlPlaneId, owner.object, this.key),
              TagSpecifications: tagged('natgateway', this.key),
            }),
            { abortSignal: signal },
          ),
        );
        return { id: String(answer.NatGateway?.NatGatewayId) };
      },
      async remove(run, made) {
        await call('DeleteNatGateway', run, (signal) => ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
      },
      async removing(run, made) {
        const [gateway] = await describe(run, [{ Name: 'nat-gateway-id', Values: [made.id] }]);
        return gateway && live(gateway.State) ? `NAT gateway ${made.id} in ${zone} is ${gateway.State}` : undefined;
      },
    };
  };

  /** The zone's NAT gateway once it is available (private routes go through it). */
  const natRoute = (zone: string) => async (run: StackRun) => {
    const nat = run.made(networkKeys.natGateway(zone)).id;
    const [gateway] = await call('DescribeNatGateways', run, (signal) => ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [nat] }), { abortSignal: signal })).then((answer) => answer.NatGateways ?? []);
    if (gateway?.State === 'available') return { NatGatewayId: nat };
    if (gateway?.State === 'failed') throw new AwsProblem(`NAT gateway ${nat} in ${zone} failed: ${gateway.FailureMessage ?? gateway.FailureCode ?? 'no reason given'}`, false);
    return { waiting: `NAT gateway ${nat} in ${zone} is ${gateway?.State ?? 'not visible yet'}` };
  };

  return [
    vpc,
    internetGateway,
    ...plan.zones.map((zone, index) => subnet('public', zone, index)),
    ...plan.zones.map((zone, index) => subnet('private', zone, index)),
    routeTable(networkKeys.publicRoutes, 'public route table', (run) => plan.zones.map((zone) => run.made(networkKeys.subnet('public', zone)).id), async (run) => ({ GatewayId: run.made(networkKeys.internetGateway).id })),
    ...plan.zones.map(address),
    ...plan.zones.map(natGateway),
    ...plan.zones.map((zone) => routeTable(networkKeys.privateRoutes(zone), `private route table in ${zone}`, (run) => [run.made(networkKeys.subnet('private', zone)).id], natRoute(zone))),
  ];
}
