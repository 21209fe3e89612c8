/**
 * Where a runtime's agent runs. `Automatic` picks the control plane when an agent in the cluster
 * could not work: the nodes are simulated (kwok: pods report Running, but nothing runs), or the
 * API is on a loopback address the cluster cannot reach (an embedded control plane on a laptop).
 */
import type { Manifest } from '../../model/manifest.ts';
import type { RuntimeInstance } from '../shared/runtime-cluster.ts';

export type AgentLocation = 'Cluster' | 'ControlPlane' | 'External';

const isSimulated = (node: Manifest): boolean =>
  node.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake' || node.metadata.labels?.type === 'kwok';

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export function agentLocationOf(runtime: Pick<RuntimeInstance, 'AgentLocation'>, nodes: readonly Manifest[], apiUrl: string): { runs: AgentLocation; why: string } {
  const chosen = runtime.AgentLocation;
  if (chosen === 'Cluster' || chosen === 'ControlPlane' || chosen === 'External') return { runs: chosen, why: `AgentLocation is ${chosen}` };
  if (nodes.length > 0 && nodes.every(isSimulated)) return { runs: 'ControlPlane', why: 'the nodes are simulated (kwok): an agent in the cluster would not run' };
  if (isLoopback(apiUrl)) return { runs: 'ControlPlane', why: `the API (${apiUrl}) is on a loopback address the cluster cannot reach` };
  return { runs: 'Cluster', why: 'a Deployment in the cluster reports to the API' };
}
