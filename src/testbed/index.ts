/**
 * The test bed as a library: real peers on loopback, with their tools built into a cache.
 * Used by scripts/testbed/main.ts, by test/support, and by `tptctl up --local-runtime`
 * (startLocalCluster / stopLocalCluster).
 */
export { up, down, clusterName, type UpOptions } from './testbed.ts';
export { checkHealth, type PeerHealth } from './health.ts';
export { readDescription, readDescriptionFile, type TestbedDescription, type ClusterDescription, type AwsDescription } from './description.ts';
export { startLocalCluster, stopLocalCluster, type LocalCluster, type LocalClusterOptions } from './peers/cluster.ts';
export { installTools, allToolGroups, type ToolName, type ToolPaths, type ToolGroup } from './tools/install.ts';
export { TestbedError, MissingPrerequisite } from './errors.ts';
export { setProgressLabel } from './progress.ts';
export { cacheRoot, defaultInstanceDir } from './paths.ts';
export { versions } from './versions.ts';
