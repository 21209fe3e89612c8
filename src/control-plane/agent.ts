/**
 * `threeport agent`: the agent as a process of its own — in a cluster (a Deployment threeport
 * installs, using its service account) or anywhere with a kubeconfig (AgentLocation External).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../agent/agent.ts';
import { ApiClient } from '../client/api-client.ts';
import { resolveApiCredentials, type ApiCredentialFlags, type ApiCredentials } from './api-credentials.ts';
import { logLevels, type LogLevel, type Logger } from '../log.ts';
import { connect, KubernetesClient } from '../platform/kubernetes/index.ts';
import { KubernetesTransport } from '../platform/kubernetes/transport.ts';
import { ConfigError } from './config.ts';

export interface AgentFlags extends ApiCredentialFlags {
  apiUrl?: string;
  kubeconfig?: string;
  context?: string;
  controlPlaneId?: string;
  logLevel?: string;
}

export interface AgentConfig {
  apiUrl: string;
  apiCredentials: ApiCredentials;
  /** Absent: the pod's service account (in a cluster). */
  kubeconfig?: { path: string; context?: string };
  controlPlaneId?: string;
  logLevel: LogLevel;
}

export function resolveAgentConfig(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const apiUrl = flags.apiUrl ?? env.THREEPORT_API_URL;
  if (!apiUrl) throw new ConfigError('the agent needs the API: set --api-url or THREEPORT_API_URL');
  try {
    if (!/^https?:$/.test(new URL(apiUrl).protocol)) throw new Error();
  } catch {
    throw new ConfigError(`invalid API URL "${apiUrl}": expected http(s)://host:port`);
  }
  const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST) && !flags.kubeconfig && !env.KUBECONFIG;
  const path = flags.kubeconfig ?? env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  const logLevel = (flags.logLevel ?? env.THREEPORT_LOG_LEVEL ?? 'info') as LogLevel;
  if (!logLevels.includes(logLevel)) throw new ConfigError(`invalid log level "${logLevel}": use one of ${logLevels.join(', ')}`);
  const controlPlaneId = flags.controlPlaneId ?? env.THREEPORT_CONTROL_PLANE_ID;
  return {
    apiUrl,
    apiCredentials: resolveApiCredentials(flags, env),
    ...(!inCluster && { kubeconfig: { path, ...(flags.context && { context: flags.context }) } }),
    ...(controlPlaneId && { controlPlaneId }),
    logLevel,
  };
}

/** The cluster: from the kubeconfig file, or in a pod from its service account (whose token the official client re-reads as it rotates). */
async function clusterOf(config: AgentConfig): Promise<KubernetesClient> {
  try {
    if (config.kubeconfig) return await connect({ server: '', kubeconfig: config.kubeconfig });
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster();
    return new KubernetesClient(await KubernetesTransport.fromKubeConfig(kubeConfig));
  } catch (error) {
    throw new ConfigError(`cannot read the kubeconfig ${config.kubeconfig?.path ?? '(in-cluster)'}: ${(error as Error).message}`);
  }
}

export async function startAgent(config: AgentConfig, logger: Logger): Promise<{ close(): Promise<void> }> {
  const api = new ApiClient({ baseUrl: config.apiUrl, userAgent: 'threeport-agent', ...config.apiCredentials });
  const controlPlaneId = config.controlPlaneId ?? (await api.info().catch((error: unknown) => {
    throw new ConfigError(`cannot ask the API at ${config.apiUrl} which control plane it is: ${(error as Error).message}`);
  })).controlPlaneId;
  if (!controlPlaneId) throw new ConfigError(`the API at ${config.apiUrl} reports no control plane identity; pass --control-plane-id`);
  const cluster = await clusterOf(config);
  const agent = new Agent({ api, cluster, controlPlaneId, logger });
  const stop = new AbortController();
  const running = agent.run(stop.signal).catch((error: unknown) => logger.error({ err: error }, 'the agent stopped with an error'));
  return {
    close: async () => {
      stop.abort();
      await running;
      cluster.transport.close();
    },
  };
}
