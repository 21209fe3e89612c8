import { createHash } from 'node:crypto';
import { kwokStages } from './kwok/stages.ts';
import { nodeAllocatable, nodeCapacity } from './node-resources.ts';
import { versions } from './versions.ts';

/**
 * A fingerprint of how this code makes a cluster (versions, node resources, kwok stages). A
 * cluster that was started by other code — a test bed left running across a change — has
 * another, so it is not taken for one that behaves as this code expects.
 */
export function clusterRecipe(): string {
  const recipe = JSON.stringify({ versions, nodeCapacity, nodeAllocatable, stages: kwokStages() });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}
