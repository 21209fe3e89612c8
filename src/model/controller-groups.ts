/**
 * Controller groups: each reconciles a set of kinds and owns one JetStream stream and one lock
 * bucket. Names are the original's, so its controllers and tools keep working against us.
 */
export interface ControllerGroup {
  readonly name: ControllerGroupName;
  /** JetStream stream, e.g. `workloadStream` (the hyphens in some names are real). */
  readonly stream: string;
  /** NATS KV bucket holding the per-object reconcile locks. */
  readonly lockBucket: string;
  /** `ReportingController` on the events the group records. */
  readonly reportingController: string;
  /**
   * Kinds of other groups its reconcilers write (beyond its own and what controllers report): what
   * its identity is allowed to write once auth is on.
   */
  readonly alsoWrites: readonly string[];
}

export type ControllerGroupName =
  | 'workload'
  | 'helm-workload'
  | 'kubernetes-runtime'
  | 'aws'
  | 'gateway'
  | 'terraform'
  | 'observability'
  | 'secret'
  | 'control-plane'
  | 'delivery'
  | 'application';

function group(name: ControllerGroupName, lockBucket: string, reportingController: string, alsoWrites: readonly string[] = []): ControllerGroup {
  return { name, stream: `${name}Stream`, lockBucket, reportingController, alsoWrites };
}

export const controllerGroups: Readonly<Record<ControllerGroupName, ControllerGroup>> = {
  // The resources of definitions and instances; removes the managed services a workload instance's dependencies made when it goes.
  // The repositories definitions run (ImageUse) are recorded by the controllers that read them.
  workload: group('workload', 'workloadLock', 'WorkloadController', ['WorkloadResourceDefinition', 'WorkloadResourceInstance', 'AwsRelationalDatabaseInstance', 'AwsObjectStorageBucketInstance', 'ImageUse']),
  'helm-workload': group('helm-workload', 'helmWorkloadLock', 'HelmWorkloadController', ['ImageUse']),
  // Provider objects of EKS runtimes; forced deletes of what runs on a runtime; the agents it runs report health.
  'kubernetes-runtime': group('kubernetes-runtime', 'kubernetesRuntimeLock', 'KubernetesRuntimeController', [
    'AwsEksKubernetesRuntimeDefinition',
    'AwsEksKubernetesRuntimeInstance',
    'WorkloadInstance',
    'HelmWorkloadInstance',
    'WorkloadResourceInstance',
  ]),
  // An EKS cluster's connection into its runtime; contributions (a bucket's role) and resources added to workload instances.
  aws: group('aws', 'awsLock', 'AwsController', ['KubernetesRuntimeInstance', 'WorkloadInstance', 'WorkloadResourceInstance']),
  // Support services are Helm workloads; routes are resources added to workload instances.
  gateway: group('gateway', 'gatewayLock', 'GatewayController', ['HelmWorkloadDefinition', 'HelmWorkloadInstance', 'WorkloadResourceInstance']),
  terraform: group('terraform', 'terraformLock', 'TerraformController'),
  // Stacks are Helm workloads.
  observability: group('observability', 'observabilityLock', 'ObservabilityController', ['HelmWorkloadDefinition', 'HelmWorkloadInstance']),
  // The External Secrets Operator is a support service (a Helm workload).
  secret: group('secret', 'secretLock', 'SecretController', ['HelmWorkloadDefinition', 'HelmWorkloadInstance']),
  'control-plane': group('control-plane', 'controlPlaneLock', 'ControlPlaneController'),
  // Deliveries pin instances' images (and restore them on rollback).
  delivery: group('delivery', 'deliveryLock', 'DeliveryController', ['WorkloadInstance', 'HelmWorkloadInstance']),
  // Applications make (and remove) their parts, and pass connection details to their workloads as contributions.
  application: group('application', 'applicationLock', 'ApplicationController', [
    'KubernetesRuntimeDefinition',
    'KubernetesRuntimeInstance',
    'WorkloadDefinition',
    'WorkloadInstance',
    'HelmWorkloadDefinition',
    'HelmWorkloadInstance',
    'DomainNameDefinition',
    'DomainNameInstance',
    'GatewayDefinition',
    'GatewayInstance',
    'GatewayHttpPort',
    'GatewayTcpPort',
    'AwsRelationalDatabaseDefinition',
    'AwsRelationalDatabaseInstance',
    'AwsObjectStorageBucketDefinition',
    'AwsObjectStorageBucketInstance',
    'SecretDefinition',
    'SecretInstance',
  ]),
};
