/**
 * KubernetesRuntimeInstance: a cluster threeport deploys to. When its connection details arrive
 * or change, the cluster is checked (Status says what is wrong while it cannot be reached, and
 * recovers when it can — the check repeats every half minute) and threeport's components are
 * installed into it, idempotently. Workloads on it are asked to reconcile whenever it becomes
 * ready or stops being so. A runtime whose provider makes clusters (EKS) and that has no connection
 * details yet has its cluster made. Deleting it removes those components, then the cluster its
 * provider made; with ForceDelete its workloads are deleted first.
 */
import { RetryableError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { conditionsOf, findCondition } from '../../model/conditions.ts';
import { healthOf } from '../../model/resource-health.ts';
import { errorMessage } from '../../controller/redact.ts';
import { applyAll, type KubernetesClient, type ResourceRef } from '../../platform/kubernetes/index.ts';
import { clusterOf, controlPlaneIdOf, forgetCluster, type RuntimeInstance } from '../shared/runtime-cluster.ts';
import { createHash } from 'node:crypto';
import { agentLocationOf, type AgentAccess, type AgentCredentials, type AgentLocation } from './agent-location.ts';
import { localProvider, type LocalClusters } from './local-provider.ts';
import { providerOf, type RuntimeProvider } from './providers.ts';
import { agentCredentialsName, agentDeploymentName, computeSpace } from './compute-space.ts';
import { COMPUTE_SPACE_NAMESPACE } from '../../model/threeport-workload.ts';

export const READY = 'Ready';
export const AGENT = 'Agent';

export interface RuntimeSettings {
  /** The API URL an agent in the cluster would use. */
  apiUrl: string;
  /** Image of the in-cluster agent (a KubernetesRuntimeInstance's ThreeportAgentImage wins); without either, the control plane runs the agent. */
  agentImage?: string;
  /** How often a runtime is checked again. @default 30000 */
  checkIntervalMs?: number;
  /** With auth on: what agents in clusters report with. */
  agentAccess?: AgentAccess;
  /** Simulated clusters this control plane may start for local runtimes (the all-in-one of `tptctl up --local-runtime`). */
  localClusters?: LocalClusters;
}

/** Kinds whose instances run on a runtime and must hear when it becomes ready or unreachable. */
const workloadKinds = ['WorkloadInstance', 'HelmWorkloadInstance'] as const;

export function runtimeInstanceReconciler(settings: RuntimeSettings): Reconciler<RuntimeInstance> {
  const own: Record<string, RuntimeProvider> = settings.localClusters ? { kind: localProvider(settings.localClusters) } : {};
  return {
    kind: 'KubernetesRuntimeInstance',
    statusCondition: READY,
    resyncIntervalMs: settings.checkIntervalMs ?? 30_000,
    maxRetryDelayMs: 30_000,
    timeoutMs: 120_000,
    async reconcile(context) {
      if (context.operation === 'Deleted') return removeRuntime(context, own);
      return checkAndInstall(context, settings, own);
    },
  };
}

async function checkAndInstall(context: ReconcileContext<RuntimeInstance>, settings: RuntimeSettings, own: Record<string, RuntimeProvider>): Promise<ReconcileOutcome> {
  const runtime = context.object;
  const wasReady = findCondition(conditionsOf(runtime), READY)?.Status === 'True';
  const provider = await providerOf(context.client, runtime, own);
  const cluster = await clusterOf(runtime, (value) => context.decrypt(value));
  if (!cluster) {
    const provisioning = await provider.provision?.(context);
    if (provisioning) return provisioning;
    const localHint = runtime.Location === 'Local' ? '; this control plane starts no local clusters (the all-in-one of tptctl up --local-runtime does)' : '';
    return { waiting: `no connection details yet: set APIEndpoint, CACertificate and Certificate/CertificateKey or ConnectionToken (its provider fills them in for provisioned clusters)${localHint}`, requeueAfterMs: 60_000 };
  }
  const refreshed = await provider.refresh?.(context);
  if (refreshed) return refreshed;
  let version: string;
  let nodes: Awaited<ReturnType<KubernetesClient['list']>>['items'];
  try {
    version = await cluster.version(context.signal);
    nodes = (await cluster.list('v1', 'Node', { signal: context.signal })).items;
  } catch (error) {
    const message = errorMessage(error);
    await context.setCondition({ Type: READY, Status: 'False', Reason: 'Unreachable', Message: message });
    if (wasReady) await notifyWorkloads(context, 'its Kubernetes runtime became unreachable');
    throw new RetryableError(`cannot reach the cluster: ${message}`, { cause: error });
  }

  const controlPlaneId = await controlPlaneIdOf(context.client);
  const location = agentLocationOf(runtime, nodes, { image: runtime.ThreeportAgentImage || settings.agentImage, apiUrl: settings.apiUrl });
  const credentials = location.image && settings.agentAccess ? await agentCredentials(context, cluster, controlPlaneId, settings.agentAccess) : undefined;
  const manifests = computeSpace({ controlPlaneId, ...(location.image && { agent: { image: location.image, apiUrl: settings.apiUrl, ...(credentials && { credentials }) } }) });
  const results = await applyAll(cluster, manifests.map((manifest) => ({ key: `${manifest.kind}/${manifest.metadata.name}`, manifest, owned: true })), { signal: context.signal });
  const failed = results.filter((result) => result.outcome !== 'applied');
  if (failed.length > 0) {
    const reasons = failed.map((result) => (result.outcome === 'failed' ? errorMessage(result.error) : `${result.key}: ${result.reason}`));
    throw new RetryableError(`cannot install threeport's components: ${reasons.join('; ')}`);
  }
  if (location.runs !== 'Cluster') await cluster.delete(agentDeploymentRef(controlPlaneId), context.signal);

  const agentProblem = location.runs === 'Cluster' ? await agentDeploymentProblem(cluster, controlPlaneId, context.signal) : undefined;
  await context.setCondition(
    agentProblem
      ? { Type: AGENT, Status: 'False', Reason: 'NotAvailable', Message: `${agentProblem}; until it is, nothing reports the state of this runtime's workloads` }
      : { Type: AGENT, Status: 'True', Reason: location.runs, Message: location.why },
  );
  await context.setCondition({ Type: READY, Status: 'True', Reason: READY, Message: `Kubernetes ${version}, ${nodes.length} node(s); agent: ${describeAgent(location.runs)}${agentProblem ? ' (not available yet)' : ''}` });
  if (!wasReady) await notifyWorkloads(context, 'its Kubernetes runtime is ready');
  // Looked at again soon while the agent is starting, rather than at the next periodic check.
  return agentProblem ? { requeueAfterMs: 10_000 } : undefined;
}

/**
 * The agent's identity with auth on: the token it holds (in its Secret in the cluster) while the
 * API says it is still good, else a new one the API issues for this runtime only.
 */
async function agentCredentials(context: ReconcileContext<RuntimeInstance>, cluster: KubernetesClient, controlPlaneId: string, access: AgentAccess): Promise<AgentCredentials> {
  const secret = await cluster.get(agentCredentialsRef(controlPlaneId), context.signal);
  const encoded = (secret?.data as Record<string, string> | undefined)?.token;
  const held = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
  const body = await context.client.request('POST', `${context.kind.path}/${context.object.ID}/agent-token`, held ? { CurrentTokenHash: createHash('sha256').update(held).digest('hex') } : {});
  const token = (body.Data?.[0]?.Token as string | undefined) ?? held;
  if (!token) throw new RetryableError('the API issued no token for the agent');
  return { token, ...(access.caCertificate && { caCertificate: access.caCertificate }) };
}

/** Why the agent's Deployment is not available, or undefined when it is. */
async function agentDeploymentProblem(cluster: KubernetesClient, controlPlaneId: string, signal: AbortSignal): Promise<string | undefined> {
  const ref = agentDeploymentRef(controlPlaneId);
  const live = await cluster.get(ref, signal);
  if (!live) return `the agent Deployment ${ref.namespace}/${ref.name} is missing`;
  const health = healthOf(live);
  return health.readiness === 'Ready' ? undefined : `the agent Deployment ${ref.namespace}/${ref.name} is not available (${health.message || health.readiness}): check its pods, e.g. that the image can be pulled`;
}

const describeAgent = (runs: AgentLocation): string =>
  ({ Cluster: 'in the cluster', ControlPlane: 'run by the control plane', External: 'run outside threeport (threeport agent)' })[runs];

async function notifyWorkloads(context: ReconcileContext<RuntimeInstance>, reason: string): Promise<void> {
  for (const kind of workloadKinds) {
    for (const instance of await context.client.referrers('KubernetesRuntimeInstance', context.object.ID, kind)) {
      await context.requestReconcile(kind, Number(instance.ID), reason);
    }
  }
}

const agentDeploymentRef = (controlPlaneId: string): ResourceRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: agentDeploymentName(controlPlaneId), namespace: COMPUTE_SPACE_NAMESPACE });
const agentCredentialsRef = (controlPlaneId: string): ResourceRef => ({ apiVersion: 'v1', kind: 'Secret', name: agentCredentialsName(controlPlaneId), namespace: COMPUTE_SPACE_NAMESPACE });

async function removeRuntime(context: ReconcileContext<RuntimeInstance>, own: Record<string, RuntimeProvider>): Promise<ReconcileOutcome> {
  const runtime = context.object;
  let remaining = 0;
  for (const kind of workloadKinds) {
    for (const instance of await context.client.referrers('KubernetesRuntimeInstance', runtime.ID, kind)) {
      remaining++;
      if (!runtime.ForceDelete || instance.DeletionScheduled) continue;
      await context.client.kind(kind).delete(Number(instance.ID)).catch((error: unknown) => context.logger.debug({ err: error }, 'deleting a workload of a runtime'));
    }
  }
  if (remaining > 0) {
    // Without ForceDelete nothing here deletes them: say what would.
    const waiting = runtime.ForceDelete ? `deleting the ${remaining} workload instance(s) on it first` : `${remaining} workload instance(s) still run on it: delete them, or set ForceDelete to delete them with the runtime`;
    return { waiting, requeueAfterMs: 2000 };
  }

  // Only this control plane's agent goes: the namespace, CRD and RBAC may serve other control planes.
  // Nothing to clean up in a cluster threeport never installed into, or one its provider is removing already.
  const provider = await providerOf(context.client, runtime, own);
  const installed = findCondition(conditionsOf(runtime), AGENT) !== undefined;
  const cluster = !installed || (await provider.clusterGoing?.(context)) ? undefined : await clusterOf(runtime, (value) => context.decrypt(value)).catch(() => undefined);
  if (cluster) {
    try {
      await cluster.delete(agentDeploymentRef(await controlPlaneIdOf(context.client)), context.signal);
    } catch (error) {
      if (!runtime.ForceDelete) throw new RetryableError(`cannot remove threeport's agent from the cluster: ${errorMessage(error)}`, { cause: error });
      await context.recordEvent({ reason: 'CleanupSkipped', type: 'Warning', note: `threeport's agent was left in the cluster: ${errorMessage(error)}` });
    }
  }
  forgetCluster(runtime.ID);
  return provider.deprovision?.(context);
}
