/**
 * `tptctl up --local-runtime`: the local runtime's simulated Kubernetes cluster (a real API
 * server, controller-manager and scheduler on etcd, kwok playing the nodes) as a control plane's
 * runtime. Its state lives under the control plane's directory; `tptctl down` stops it.
 *
 * The local runtime is loaded from the sources when needed rather than bundled: only this flag
 * uses it, it is large (the Kubernetes client), and it starts helper scripts that live next to
 * its files.
 */
import { join } from 'node:path';
import type { ControlPlaneEntry } from '../config/threeport-config.ts';
import { CliError } from '../errors.ts';
import type { Terminal } from '../output/terminal.ts';
import { installRoot } from '../../install-root.ts';
import { readClusterConnection, type ClusterConnection } from './local-runtime.ts';

type LocalRuntime = typeof import('../../local-runtime/index.ts');
export type RuntimeTools = Awaited<ReturnType<LocalRuntime['installTools']>>;

export const NODES = 2;

/** Where the simulated cluster of a control plane keeps its state, logs and process records. */
export const simulatedRuntimeDir = (controlPlaneDirectory: string): string => join(controlPlaneDirectory, 'local-runtime');

async function loadLocalRuntime(): Promise<LocalRuntime> {
  const { pathToFileURL } = await import('node:url');
  const localRuntime = (await import(pathToFileURL(join(installRoot(), 'src', 'local-runtime', 'index.ts')).href)) as LocalRuntime;
  localRuntime.setProgressLabel('local runtime');
  return localRuntime;
}

const useKubeconfigInstead = 'with a cluster of your own (kind, k3d or a real one), use tptctl up --kubeconfig instead';

/** Local-runtime errors are written for people already; they become CLI errors (no stack trace). */
function asCliError(localRuntime: LocalRuntime, error: unknown, doing: string): unknown {
  if (error instanceof localRuntime.MissingPrerequisite && error.prerequisite === 'go') {
    return new CliError(
      `--local-runtime builds its simulated Kubernetes cluster (kube-apiserver, etcd, kwok) from source the first time, which needs Go 1.24 or newer, but \`go\` is not on PATH; install Go (https://go.dev/dl/) and run again`,
      { hint: useKubeconfigInstead },
    );
  }
  if (error instanceof localRuntime.LocalRuntimeError) return new CliError(`${doing}: ${error.message}`, { hint: useKubeconfigInstead, cause: error });
  return error;
}

/**
 * Finds the cluster's binaries in the cache, or builds them (first use: several minutes, with a
 * progress line per step and an estimate). Runs before anything is started, so a missing Go
 * fails at once and leaves nothing behind.
 */
export async function prepareSimulatedRuntime(): Promise<RuntimeTools> {
  const localRuntime = await loadLocalRuntime();
  try {
    return await localRuntime.installTools(['kubernetes']);
  } catch (error) {
    throw asCliError(localRuntime, error, 'cannot build the local runtime');
  }
}

/** Starts the simulated cluster of a control plane and returns how to connect to it. */
export async function startSimulatedRuntime(entry: ControlPlaneEntry, tools: RuntimeTools, terminal: Terminal): Promise<{ connection: ClusterConnection; kubeconfigPath: string }> {
  const dir = entry.Embedded?.LocalRuntime;
  if (!dir) throw new CliError(`control plane ${entry.Name} has no local runtime directory in the threeport config`);
  const localRuntime = await loadLocalRuntime();
  terminal.info(`Starting the local runtime: a simulated Kubernetes cluster with ${NODES} kwok nodes (state in ${dir})`);
  try {
    // Leftovers of an earlier `up` that was killed half-way would hold the ports and the name.
    await localRuntime.stopLocalCluster({ name: entry.Name, dir });
    const cluster = await localRuntime.startLocalCluster({ name: entry.Name, dir, nodes: NODES, tools });
    return { connection: readClusterConnection(cluster.kubeconfigPath, cluster.context), kubeconfigPath: cluster.kubeconfigPath };
  } catch (error) {
    throw asCliError(localRuntime, error, 'the local runtime did not start');
  }
}

/** Stops the simulated cluster of a control plane, if it has one, and those it started for local runtimes; every recorded process goes. */
export async function stopSimulatedRuntime(entry: ControlPlaneEntry): Promise<void> {
  const dir = entry.Embedded?.LocalRuntime;
  if (!dir) return;
  const localRuntime = await loadLocalRuntime();
  try {
    await localRuntime.stopLocalCluster({ name: entry.Name, dir });
    await localRuntime.stopLocalClusters(dir);
  } catch (error) {
    throw asCliError(localRuntime, error, `cannot stop the local runtime of control plane ${entry.Name}`);
  }
}
