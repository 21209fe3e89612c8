/**
 * Where a runtime's agent runs. `Automatic` picks the control plane when an agent in the cluster
 * could not work: no agent image is configured, the nodes are simulated (kwok: pods report
 * Running, but nothing runs), or the API is on a loopback address the cluster cannot reach (an
 * embedded control plane on a laptop).
 */
import { TerminalError } from '../../controller/errors.ts';
import type { Manifest } from '../../model/manifest.ts';
import { isSimulatedNode as isSimulated, type RuntimeInstance } from '../shared/runtime-cluster.ts';

export type AgentLocation = 'Cluster' | 'ControlPlane' | 'External';

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export interface AgentPlacement {
  runs: AgentLocation;
  why: string;
  /** The image, when it runs in the cluster. */
  image?: string;
}

/** An API with auth on: agents in clusters get a token of their own (issued per runtime) and trust this CA. */
export interface AgentAccess {
  caCertificate?: string;
}

/** What the agent Deployment reads from its Secret. */
export interface AgentCredentials {
  token: string;
  caCertificate?: string;
}

/** `image`: the runtime's ThreeportAgentImage, else the controllers' --agent-image, if any. `apiUrl`: the API as the cluster would reach it. */
export function agentLocationOf(runtime: Pick<RuntimeInstance, 'AgentLocation'>, nodes: readonly Manifest[], agent: { image: string | undefined; apiUrl: string }): AgentPlacement {
  const { image, apiUrl } = agent;
  const chosen = runtime.AgentLocation;
  if (chosen === 'Cluster') {
    if (!image) throw new TerminalError('AgentLocation is Cluster, but no agent image is configured: set ThreeportAgentImage on the runtime, or start the controllers with --agent-image');
    return { runs: chosen, why: `AgentLocation is ${chosen}`, image };
  }
  if (chosen === 'ControlPlane' || chosen === 'External') return { runs: chosen, why: `AgentLocation is ${chosen}` };
  if (!image) return { runs: 'ControlPlane', why: 'no agent image is configured for the cluster (ThreeportAgentImage, or the controllers\' --agent-image)' };
  if (nodes.length > 0 && nodes.every(isSimulated)) return { runs: 'ControlPlane', why: 'the nodes are simulated (kwok): an agent in the cluster would not run' };
  if (isLoopback(apiUrl)) return { runs: 'ControlPlane', why: `the API (${apiUrl}) is on a loopback address the cluster cannot reach` };
  return { runs: 'Cluster', why: `a Deployment in the cluster reports to the API at ${apiUrl}`, image };
}
