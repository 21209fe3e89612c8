/**
 * `tptctl up --local-runtime`: the test bed's simulated Kubernetes cluster (a real API server,
 * controller-manager and scheduler on etcd, kwok playing the nodes) as a control plane's runtime.
 * Its state lives under the control plane's directory; `tptctl down` stops it.
 *
 * The test bed is loaded from the sources when needed rather than bundled: only this flag uses it,
 * it is large (the Kubernetes client), and it starts helper scripts that live next to its files.
 */
import { join } from 'node:path';
import type { ControlPlaneEntry } from '../config/threeport-config.ts';
import { CliError } from '../errors.ts';
import type { Terminal } from '../output/terminal.ts';
import { installRoot } from '../version.ts';
import { readClusterConnection, type ClusterConnection } from './local-runtime.ts';

type Testbed = typeof import('../../testbed/index.ts');
export type RuntimeTools = Awaited<ReturnType<Testbed['installTools']>>;

export const NODES = 2;

/** Where the simulated cluster of a control plane keeps its state, logs and process records. */
export const simulatedRuntimeDir = (controlPlaneDirectory: string): string => join(controlPlaneDirectory, 'local-runtime');

async function loadTestbed(): Promise<Testbed> {
  const { pathToFileURL } = await import('node:url');
  const testbed = (await import(pathToFileURL(join(installRoot(), 'src', 'testbed', 'index.ts')).href)) as Testbed;
  testbed.setProgressLabel('local runtime');
  return testbed;
}

const useKubeconfigInstead = 'with a cluster of your own (kind, k3d or a real one), use tptctl up --kubeconfig instead';

/** Test-bed errors are written for people already; they become CLI errors (no stack trace). */
function asCliError(testbed: Testbed, error: unknown, doing: string): unknown {
  if (error instanceof testbed.MissingPrerequisite && error.prerequisite === 'go') {
    return new CliError(
      `--local-runtime builds its simulated Kubernetes cluster (kube-apiserver, etcd, kwok) from source the first time, which needs Go 1.24 or newer, but \`go\` is not on PATH; install Go (https://go.dev/dl/) and run again`,
      { hint: useKubeconfigInstead },
    );
  }
  if (error instanceof testbed.TestbedError) return new CliError(`${doing}: ${error.message}`, { hint: useKubeconfigInstead, cause: error });
  return error;
}

/**
 * Finds the cluster's binaries in the cache, or builds them (first use: several minutes, with a
 * progress line per step and an estimate). Runs before anything is started, so a missing Go
 * fails at once and leaves nothing behind.
 */
export async function prepareSimulatedRuntime(): Promise<RuntimeTools> {
  const testbed = await loadTestbed();
  try {
    return await testbed.installTools(['kubernetes']);
  } catch (error) {
    throw asCliError(testbed, error, 'cannot build the local runtime');
  }
}

/** Starts the simulated cluster of a control plane and returns how to connect to it. */
export async function startSimulatedRuntime(entry: ControlPlaneEntry, tools: RuntimeTools, terminal: Terminal): Promise<{ connection: ClusterConnection; kubeconfigPath: string }> {
  const dir = entry.Embedded?.LocalRuntime;
  if (!dir) throw new CliError(`control plane ${entry.Name} has no local runtime directory in the threeport config`);
  const testbed = await loadTestbed();
  terminal.info(`Starting the local runtime: a simulated Kubernetes cluster with ${NODES} kwok nodes (state in ${dir})`);
  try {
    // Leftovers of an earlier `up` that was killed half-way would hold the ports and the name.
    await testbed.stopLocalCluster({ name: entry.Name, dir });
    const cluster = await testbed.startLocalCluster({ name: entry.Name, dir, nodes: NODES, tools });
    return { connection: readClusterConnection(cluster.kubeconfigPath, cluster.context), kubeconfigPath: cluster.kubeconfigPath };
  } catch (error) {
    throw asCliError(testbed, error, 'the local runtime did not start');
  }
}

/** Stops the simulated cluster of a control plane, if it has one; every recorded process goes. */
export async function stopSimulatedRuntime(entry: ControlPlaneEntry): Promise<void> {
  const dir = entry.Embedded?.LocalRuntime;
  if (!dir) return;
  const testbed = await loadTestbed();
  try {
    await testbed.stopLocalCluster({ name: entry.Name, dir });
  } catch (error) {
    throw asCliError(testbed, error, `cannot stop the local runtime of control plane ${entry.Name}`);
  }
}
