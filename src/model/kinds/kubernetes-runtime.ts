import { association, boolean, integer, ref, string, time } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { nodeInstanceTypes } from '../machine-sizes.ts';

/** Threeport locations and the AWS region each maps to ("Local" has none). */
export const locations: Readonly<Record<string, string | undefined>> = {
  Local: undefined,
  'NorthAmerica:NewYork': 'us-east-1',
  'NorthAmerica:Chicago': 'us-east-2',
  'NorthAmerica:LosAngeles': 'us-west-1',
  'NorthAmerica:Seattle': 'us-west-2',
  'NorthAmerica:Toronto': 'ca-central-1',
  'SouthAmerica:SaoPaulo': 'sa-east-1',
  'Asia:HongKong': 'ap-east-1',
  'Asia:Hyderabad': 'ap-south-2',
  'Asia:Jakarta': 'ap-southeast-3',
  'Asia:Mumbai': 'ap-south-1',
  'Asia:Osaka': 'ap-northeast-3',
  'Asia:Seoul': 'ap-northeast-2',
  'Asia:Singapore': 'ap-southeast-1',
  'Asia:Tokyo': 'ap-northeast-1',
  'Asia:Manama': 'me-south-1',
  'Asia:Dubai': 'me-central-1',
  'Oceana:Sydney': 'ap-southeast-2',
  'Oceana:Melbourne': 'ap-southeast-4',
  'Europe:Frankfurt': 'eu-central-1',
  'Europe:Dublin': 'eu-west-1',
  'Europe:London': 'eu-west-2',
  'Europe:Milan': 'eu-south-1',
  'Europe:Paris': 'eu-west-3',
  'Europe:Madrid': 'eu-south-2',
  'Europe:Stockholm': 'eu-north-1',
  'Europe:Zurich': 'eu-central-2',
  'Africa:CapeTown': 'af-south-1',
  // The original listed "SouthAmerica" with the region misspelt; accepted for old configs.
  SouthAmerica: 'sa-east-1',
};

export const infraProviders = ['kind', 'eks'] as const;
export const agentLocations = ['Automatic', 'Cluster', 'ControlPlane', 'External'] as const;

export const KubernetesRuntimeDefinition = defineKind({
  name: 'KubernetesRuntimeDefinition',
  domain: 'kubernetes-runtime',
  owners: 'platform',
  description: 'The kind of Kubernetes cluster to run workloads on: provider, node sizing, availability.',
  shape: 'definition',
  profileSection: 'Runtime',
  controller: 'kubernetes-runtime',
  fields: {
    InfraProvider: string({ required: true, oneOf: infraProviders, immutable: true }),
    InfraProviderAccountName: string({ description: 'Name of the AwsAccount to use; the default account when empty.' }),
    HighAvailability: boolean({ default: false }),
    NodeSize: string({ default: 'Medium' }),
    NodeProfile: string({ default: 'Balanced' }),
    NodeMaximum: integer({ default: 250 }),
    DnsProvider: string({ description: 'external-dns’s provider for the domain names on its runtimes: aws (Route53 through the runtime’s AWS account) or the provider the control plane is configured with (--dns-provider); empty: the control plane’s.' }),
    KubernetesRuntimeInstances: association('KubernetesRuntimeInstance'),
  },
  rules: {
    validate(definition) {
      if (definition.InfraProvider !== 'eks') return undefined;
      const sizes = nodeInstanceTypes[String(definition.NodeProfile)];
      if (!sizes) return `NodeProfile ${String(definition.NodeProfile)} is not one of ${Object.keys(nodeInstanceTypes).join(', ')}`;
      if (!sizes[String(definition.NodeSize)]) return `NodeSize ${String(definition.NodeSize)} is not available with NodeProfile ${String(definition.NodeProfile)}: use one of ${Object.keys(sizes).join(', ')}`;
      return undefined;
    },
  },
});

export const KubernetesRuntimeInstance = defineKind({
  name: 'KubernetesRuntimeInstance',
  domain: 'kubernetes-runtime',
  owners: 'platform',
  description: 'A Kubernetes cluster, with the connection details controllers use to reach it.',
  shape: 'instance',
  controller: 'kubernetes-runtime',
  exclusiveFlags: ['DefaultRuntime'],
  fields: {
    Location: string({ required: true, oneOf: Object.keys(locations), immutable: true }),
    ThreeportControlPlaneHost: boolean(),
    APIEndpoint: string({ query: false }),
    CACertificate: string({ query: false }),
    Certificate: string({ query: false }),
    CertificateKey: string({ encrypted: true }),
    ConnectionToken: string({ encrypted: true }),
    ConnectionTokenExpiration: time({ query: false }),
    DefaultRuntime: boolean({ default: false }),
    KubernetesRuntimeDefinitionID: ref('KubernetesRuntimeDefinition', { required: true, blocksDelete: true }),
    WorkloadInstances: association('WorkloadInstance', { json: 'WorkloadInstance' }),
    ControlPlaneInstances: association('ControlPlaneInstance', { json: 'ControlPlaneInstance' }),
    ForceDelete: boolean({ default: false }),
    GatewayControllerInstanceID: ref('WorkloadInstance', { json: 'GatewayWorkloadInstanceID', query: false, owner: 'controller' }),
    DnsControllerInstanceID: ref('WorkloadInstance', { json: 'DnsControllerInstanceId', query: false, owner: 'controller' }),
    SecretsControllerInstanceID: ref('WorkloadInstance', { json: 'SecretsControllerInstanceId', query: false, owner: 'controller' }),
    ThreeportAgentImage: string({ query: false }),
    AgentLocation: string({
      default: 'Automatic',
      oneOf: agentLocations,
      description:
        'Where the agent reporting live status runs: Cluster (a Deployment threeport installs), ControlPlane (the controllers run it), External (you run `threeport agent`), or Automatic (ControlPlane when the cluster cannot run it or reach the API, e.g. a simulated local cluster or a control plane on loopback; Cluster otherwise).',
    }),
  },
});
