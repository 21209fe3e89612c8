/**
 * The test bed as a library: real peers on loopback (PostgreSQL, NATS, moto and the local
 * runtime's simulated clusters). Used by scripts/testbed/main.ts and by test/support.
 */
export { up, down, clusterName, type UpOptions } from './testbed.ts';
export { checkHealth, type PeerHealth } from './health.ts';
export { readDescription, readDescriptionFile, type TestbedDescription, type ClusterDescription, type AwsDescription } from './description.ts';
export { TestbedError } from './errors.ts';
export { defaultInstanceDir } from './paths.ts';
