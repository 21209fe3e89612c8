/**
 * The local runtime as a library: a simulated Kubernetes cluster on this machine (a real
 * control plane, kwok playing the nodes) and the pinned binaries it needs, built into a cache.
 * Used by the test bed (src/testbed) and by `tptctl up --local-runtime`, which loads this file
 * lazily (startLocalCluster / stopLocalCluster).
 */
export { localClusterRunning, startLocalCluster, stopLocalCluster, stopLocalClusters, type LocalCluster, type LocalClusterOptions } from './cluster.ts';
export { installOne as installTool, installTools, allToolGroups, type ToolName, type ToolPaths, type ToolGroup } from './tools/install.ts';
export type { ToolRecipe } from './tools/recipe.ts';
export { go } from './tools/go.ts';
export { onPath } from './tools/on-path.ts';
export { LocalRuntimeError, MissingPrerequisite } from './errors.ts';
export { setProgressLabel } from './progress.ts';
export { cacheRoot } from './cache.ts';
export { versions } from './versions.ts';
