/**
 * Everything an EKS runtime is made of, in the order it is made: the VPC across the definition's
 * zones (public and private subnets, internet and NAT gateways, routes), the IAM roles of the
 * cluster and its nodes, the cluster, its managed node group, the OIDC provider that lets service
 * accounts assume roles, and the roles threeport's support services assume through it.
 */
import { supportServices } from '../../model/support-services.ts';
import {
  awsManagedPolicy,
  awsName,
  clusterConnection,
  clusterStep,
  networkKeys,
  networkSteps,
  nodeGroupStep,
  oidcProviderStep,
  policy,
  roleStep,
  serviceAccountTrust,
  serviceTrust,
  TAG_KEYS,
  type AwsClients,
  type Owner,
  type PolicyDocument,
  type StackRun,
  type StackStep,
} from '../../platform/aws/index.ts';

export interface EksPlan {
  clusterName: string;
  region: string;
  zones: readonly string[];
  nodeGroup: { instanceType: string; initialSize: number; minimumSize: number; maximumSize: number };
}

export const eksKeys = {
  clusterRole: 'role/cluster',
  nodeRole: 'role/nodes',
  cluster: 'eks-cluster',
  nodeGroup: 'node-group',
  oidcProvider: 'oidc-provider',
  /** What supportServiceRoleOf (controllers/shared/aws-account.ts) reads back for the support services. */
  serviceRole: (service: string) => `role/${service}`,
};

/**
 * The roles support services assume through the cluster's OIDC provider: any service account of
 * the namespace threeport gives the service alone, or the one service account it runs as in
 * kube-system (where others run too).
 */
const serviceRoles: readonly { service: string; namespace: string; serviceAccount?: string; permissions: PolicyDocument | { managed: string } | ((owner: Owner) => PolicyDocument) }[] = [
  {
    service: 'external-dns',
    namespace: supportServices['external-dns'].namespace,
    permissions: policy(
      { Effect: 'Allow', Action: ['route53:ChangeResourceRecordSets'], Resource: ['arn:aws:route53:::hostedzone/*'] },
      { Effect: 'Allow', Action: ['route53:ListHostedZones', 'route53:ListResourceRecordSets', 'route53:ListTagsForResource'], Resource: ['*'] },
    ),
  },
  {
    service: 'cert-manager',
    namespace: supportServices['cert-manager'].namespace,
    permissions: policy(
      { Effect: 'Allow', Action: ['route53:GetChange'], Resource: ['arn:aws:route53:::change/*'] },
      { Effect: 'Allow', Action: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets'], Resource: ['arn:aws:route53:::hostedzone/*'] },
      { Effect: 'Allow', Action: ['route53:ListHostedZonesByName'], Resource: ['*'] },
    ),
  },
  {
    service: 'external-secrets',
    namespace: 'threeport-external-secrets',
    // Only the secrets this control plane keeps (its tag): not every secret of the account.
    permissions: (owner) =>
      policy(
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds', 'secretsmanager:GetResourcePolicy'],
          Resource: ['*'],
          Condition: { StringEquals: { [`secretsmanager:ResourceTag/${TAG_KEYS.controlPlane}`]: owner.controlPlaneId } },
        },
        // Secrets of other accounts are read through their RoleArn.
        { Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['*'] },
      ),
  },
  {
    service: 'cluster-autoscaler',
    namespace: 'kube-system',
    serviceAccount: 'cluster-autoscaler',
    permissions: policy({
      Effect: 'Allow',
      Action: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLaunchConfigurations',
        'autoscaling:DescribeScalingActivities',
        'autoscaling:DescribeTags',
        'autoscaling:SetDesiredCapacity',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
        'ec2:DescribeImages',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplateVersions',
        'ec2:GetInstanceTypesFromInstanceRequirements',
        'eks:DescribeNodegroup',
      ],
      Resource: ['*'],
    }),
  },
  { service: 'ebs-csi', namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa', permissions: { managed: 'service-role/AmazonEBSCSIDriverPolicy' } },
];

/**
 * The stack in two parts, made in this order and removed in the other: the foundation (the network
 * and the cluster's and nodes' roles) and the cluster on it. Between removing the one and the other,
 * what the cluster made in the VPC on its own (its Services' load balancers) goes too.
 */
export interface EksStack {
  foundation: StackStep[];
  cluster: StackStep[];
}

export function eksSteps(clients: AwsClients, account: string, owner: Owner, plan: EksPlan): EksStack {
  const { clusterName, region, zones } = plan;
  const iam = clients.iam();
  const eks = clients.eks(region);
  const privateSubnets = (run: StackRun) => zones.map((zone) => run.made(networkKeys.subnet('private', zone)).id);
  const publicSubnets = (run: StackRun) => zones.map((zone) => run.made(networkKeys.subnet('public', zone)).id);
  const roleName = (suffix: string) => awsName([clusterName, suffix], { max: 64 });
  const issuer = async (run: StackRun): Promise<string | undefined> => {
    const connection = await clusterConnection(eks, account, clusterName, run.signal);
    return 'waiting' in connection ? undefined : connection.oidcIssuer;
  };
  const foundation = [
    ...networkSteps(clients.ec2(region), account, owner, { name: clusterName, zones, clusterName }),
    roleStep(iam, account, owner, {
      key: eksKeys.clusterRole,
      name: roleName('cluster'),
      what: 'IAM role of the EKS cluster',
      trust: () => serviceTrust('eks.amazonaws.com'),
      managedPolicies: () => [awsManagedPolicy('AmazonEKSClusterPolicy')],
    }),
    roleStep(iam, account, owner, {
      key: eksKeys.nodeRole,
      name: roleName('nodes'),
      what: 'IAM role of the cluster’s nodes',
      trust: () => serviceTrust('ec2.amazonaws.com'),
      managedPolicies: () => ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'].map(awsManagedPolicy),
    }),
  ];
  const cluster = [
    clusterStep(eks, account, owner, {
      key: eksKeys.cluster,
      name: clusterName,
      roleArn: (run) => run.made(eksKeys.clusterRole).arn!,
      subnetIds: (run) => [...privateSubnets(run), ...publicSubnets(run)],
    }),
    nodeGroupStep(eks, account, owner, {
      key: eksKeys.nodeGroup,
      clusterName,
      name: awsName([clusterName, 'default'], { max: 63 }),
      ...plan.nodeGroup,
      roleArn: (run) => run.made(eksKeys.nodeRole).arn!,
      subnetIds: privateSubnets,
    }),
    oidcProviderStep(iam, account, owner, { key: eksKeys.oidcProvider, issuer }),
    ...serviceRoles.map(({ service, namespace, serviceAccount, permissions }) =>
      roleStep(iam, account, owner, {
        key: eksKeys.serviceRole(service),
        name: awsName([clusterName, service], { max: 64 }),
        what: `IAM role of ${service} (${serviceAccount ? `service account ${namespace}/${serviceAccount}` : `any service account in ${namespace}`})`,
        trust: (run) => {
          const provider = run.made(eksKeys.oidcProvider);
          return serviceAccountTrust({ arn: provider.id, url: String(provider.url) }, namespace, serviceAccount ?? '*');
        },
        ...(typeof permissions === 'function' ? { inlinePolicy: permissions(owner) } : 'managed' in permissions ? { managedPolicies: () => [awsManagedPolicy(permissions.managed)] } : { inlinePolicy: permissions }),
      }),
    ),
  ];
  return { foundation, cluster };
}
