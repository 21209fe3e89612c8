import { createHash } from 'node:crypto';
import { kwokStages } from './kwok/stages.ts';
import { nodeAllocatable, nodeCapacity } from './node-resources.ts';
import { versions } from './versions.ts';

/**
 * The API server's default range for Service IPs is a /24 (254 Services); a real cluster has
 * room for tens of thousands, and a benchmark of a thousand workloads needs it.
 */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';

/**
 * A fingerprint of how this code makes a cluster (versions, node resources, kwok stages). A
 * cluster that was started by other code — a test bed left running across a change — has
 * another, so it is not taken for one that behaves as this code expects.
 */
export function clusterRecipe(): string {
  // Only the versions of what a cluster is made of: a new helm or terraform leaves running clusters as good as they were.
  const { kubernetes, etcd, kwok } = versions;
  const recipe = JSON.stringify({ versions: { kubernetes, etcd, kwok }, nodeCapacity, nodeAllocatable, stages: kwokStages(), serviceRange: SERVICE_CLUSTER_IP_RANGE });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}
