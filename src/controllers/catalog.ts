import type { Reconciler } from '../controller/reconciler.ts';
import type { Runnable } from '../controller/runnable.ts';
import { controllerGroups, type ControllerGroupName } from '../model/controller-groups.ts';
import type { Helm } from '../platform/helm/index.ts';
import type { Terraform } from '../platform/terraform/index.ts';
import { applicationReconcilers, type ApplicationSettings } from './application/index.ts';
import { awsReconcilers, type AwsSettings } from './aws/index.ts';
import { deliveryReconcilers, type DeliverySettings } from './delivery/index.ts';
import { domainNameInstanceReconciler, type DnsProvider } from './gateway/domain-name-instance.ts';
import { gatewayDefinitionReconciler } from './gateway/gateway-definition.ts';
import { gatewayInstanceReconciler, type GatewaySettings } from './gateway/gateway-instance.ts';
import { helmWorkloadDefinitionReconciler } from './helm-workload/helm-workload-definition.ts';
import { helmWorkloadInstanceReconciler } from './helm-workload/helm-workload-instance.ts';
import type { AgentAccess } from './kubernetes-runtime/agent-location.ts';
import { agentSupervisor } from './kubernetes-runtime/agent-supervisor.ts';
import type { LocalClusters } from './kubernetes-runtime/local-provider.ts';
import { runtimeDefinitionReconciler } from './kubernetes-runtime/runtime-definition.ts';
import { runtimeInstanceReconciler } from './kubernetes-runtime/runtime-instance.ts';
import { observabilityReconcilers, type ObservabilitySettings } from './observability/index.ts';
import { secretDefinitionReconciler } from './secret/secret-definition.ts';
import { secretInstanceReconciler, type SecretInstanceSettings } from './secret/secret-instance.ts';
import { terraformDefinitionReconciler } from './terraform/terraform-definition.ts';
import { terraformInstanceReconciler } from './terraform/terraform-instance.ts';
import { workloadDefinitionReconciler } from './workload/workload-definition.ts';
import { workloadInstanceReconciler } from './workload/workload-instance.ts';
import { workloadPlanReconciler } from './workload/workload-plan.ts';

/** What a control plane's controllers are told about where they run. */
export interface ControllerSettings {
  /** The API URL, as agents in clusters would reach it. */
  apiUrl: string;
  /** Image of the in-cluster agent; without one (and without a runtime's ThreeportAgentImage) the control plane runs every agent. */
  agentImage?: string;
  /** How often workload instances are re-verified against their clusters (drift). @default 60000 */
  driftIntervalMs?: number;
  /** How often runtimes are checked. @default 30000 */
  runtimeCheckIntervalMs?: number;
  /** The control-plane agents' batching interval. */
  agentFlushIntervalMs?: number;
  /** The helm the Helm workload controllers run (found or installed on first use). */
  helm?: () => Promise<Helm>;
  /** Where gateways' certificates come from, how often their live state is looked at. */
  gateway?: GatewaySettings;
  /** external-dns's provider for domain names (Route53 with the runtime's AWS account unless set). */
  dnsProvider?: DnsProvider;
  /** How often AWS work in progress and finished work is looked at. */
  aws?: AwsSettings;
  /** The terraform the Terraform controller runs (found or installed on first use). */
  terraform?: () => Promise<Terraform>;
  /** With auth on: what agents in clusters report with. */
  agentAccess?: AgentAccess;
  /** Simulated clusters the control plane may start for local runtimes (InfraProvider kind, Location Local). */
  localClusters?: LocalClusters;
  /** How often secret deliveries waiting on something look again. */
  secret?: SecretInstanceSettings;
  /** Observability stacks: how often they look again, and where threeport's own processes are scraped. */
  observability?: ObservabilitySettings;
  /** How often deliveries in progress look at their instances. */
  delivery?: DeliverySettings;
  /** How often applications look at their parts. */
  application?: ApplicationSettings;
  /** threeport processes serving /metrics beside the API (controllers run apart), host:port as the clusters reach them. */
  metricsTargets?: string[];
}

export interface ControllerGroupParts {
  reconcilers: Reconciler[];
  runnables: Runnable[];
}

/**
 * The reconcilers (and what else runs beside them) of each controller group. Each domain's folder
 * (src/controllers/<group>/) adds its parts here as they are written; a group without any runs no
 * consumers.
 */
function partsOf(group: ControllerGroupName, settings: ControllerSettings): ControllerGroupParts {
  switch (group) {
    case 'workload':
      return {
        reconcilers: [workloadDefinitionReconciler(), workloadInstanceReconciler({ ...(settings.driftIntervalMs !== undefined && { driftIntervalMs: settings.driftIntervalMs }) }), workloadPlanReconciler()] as Reconciler[],
        runnables: [],
      };
    case 'kubernetes-runtime':
      return {
        reconcilers: [
          runtimeDefinitionReconciler(),
          runtimeInstanceReconciler({
            apiUrl: settings.apiUrl,
            ...(settings.agentImage && { agentImage: settings.agentImage }),
            ...(settings.runtimeCheckIntervalMs !== undefined && { checkIntervalMs: settings.runtimeCheckIntervalMs }),
            ...(settings.agentAccess && { agentAccess: settings.agentAccess }),
            ...(settings.localClusters && { localClusters: settings.localClusters }),
          }),
        ] as Reconciler[],
        runnables: [agentSupervisor({ ...(settings.agentFlushIntervalMs !== undefined && { flushIntervalMs: settings.agentFlushIntervalMs }) })],
      };
    case 'helm-workload': {
      const helm = settings.helm ?? (() => Promise.reject(new Error('this controller process was started without helm')));
      return { reconcilers: [helmWorkloadDefinitionReconciler(), helmWorkloadInstanceReconciler({ helm })] as Reconciler[], runnables: [] };
    }
    case 'aws':
      return { reconcilers: awsReconcilers(settings.aws), runnables: [] };
    case 'terraform': {
      const terraform = settings.terraform ?? (() => Promise.reject(new Error('this controller process was started without terraform')));
      return { reconcilers: [terraformDefinitionReconciler(), terraformInstanceReconciler({ terraform })] as Reconciler[], runnables: [] };
    }
    case 'gateway':
      return { reconcilers: [gatewayDefinitionReconciler(), gatewayInstanceReconciler(settings.gateway), domainNameInstanceReconciler(settings.dnsProvider)] as Reconciler[], runnables: [] };
    case 'observability':
      return { reconcilers: observabilityReconcilers({ ...selfObservation(settings), ...settings.observability }), runnables: [] };
    case 'secret':
      return { reconcilers: [secretDefinitionReconciler(), secretInstanceReconciler(settings.secret)] as Reconciler[], runnables: [] };
    case 'delivery':
      return { reconcilers: deliveryReconcilers(settings.delivery), runnables: [] };
    case 'application':
      return { reconcilers: applicationReconcilers(settings.application), runnables: [] };
    default:
      return { reconcilers: [], runnables: [] };
  }
}

/**
 * threeport's processes as the clusters reach them: the API at the agents' API URL (in the
 * all-in-one, the controllers too), and those named in THREEPORT_METRICS_TARGETS.
 */
function selfObservation(settings: ControllerSettings): ObservabilitySettings {
  const api = new URL(settings.apiUrl);
  const port = api.port || (api.protocol === 'https:' ? '443' : '80');
  const scheme = api.protocol === 'https:' ? 'https' : 'http';
  return {
    controlPlane: { api: `${api.hostname}:${port}`, scheme, others: settings.metricsTargets ?? [], ...(settings.agentAccess?.caCertificate && { caCertificate: settings.agentAccess.caCertificate }) },
  };
}

export const groupNames = Object.keys(controllerGroups) as ControllerGroupName[];

export const isGroupName = (name: string): name is ControllerGroupName => name in controllerGroups;

export function partsOfGroups(groups: readonly ControllerGroupName[], settings: ControllerSettings): ControllerGroupParts {
  const parts = groups.map((group) => partsOf(group, settings));
  return { reconcilers: parts.flatMap((part) => part.reconcilers), runnables: parts.flatMap((part) => part.runnables) };
}
