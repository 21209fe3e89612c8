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
  | 'control-plane';

function group(name: ControllerGroupName, lockBucket: string, reportingController: string): ControllerGroup {
  return { name, stream: `${name}Stream`, lockBucket, reportingController };
}

export const controllerGroups: Readonly<Record<ControllerGroupName, ControllerGroup>> = {
  workload: group('workload', 'workloadLock', 'WorkloadController'),
  'helm-workload': group('helm-workload', 'helmWorkloadLock', 'HelmWorkloadController'),
  'kubernetes-runtime': group('kubernetes-runtime', 'kubernetesRuntimeLock', 'KubernetesRuntimeController'),
  aws: group('aws', 'awsLock', 'AwsController'),
  gateway: group('gateway', 'gatewayLock', 'GatewayController'),
  terraform: group('terraform', 'terraformLock', 'TerraformController'),
  observability: group('observability', 'observabilityLock', 'ObservabilityController'),
  secret: group('secret', 'secretLock', 'SecretController'),
  'control-plane': group('control-plane', 'controlPlaneLock', 'ControlPlaneController'),
};
