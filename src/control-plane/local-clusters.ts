/**
 * The local runtime (src/local-runtime) as the clusters a control plane starts for its local
 * runtimes: each in `dir` beside the one `tptctl up --local-runtime` made, so `tptctl down` stops
 * them all. Loaded on first use: most control planes never start one.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalClusters } from '../controllers/kubernetes-runtime/local-provider.ts';
import { readKubeconfig } from '../platform/kubernetes/kubeconfig.ts';
import type { DirectCredentials } from '../platform/kubernetes/transport.ts';

/** Simulated nodes per cluster, as tptctl up's. */
const NODES = 2;

export function localClustersIn(dir: string): LocalClusters {
  // A start still under way when its reconcile is retried (it timed out) is waited for, not begun again.
  const starting = new Map<string, Promise<DirectCredentials>>();
  const localRuntime = () => import('../local-runtime/index.ts');
  const start = async (name: string): Promise<DirectCredentials> => {
    const { installTools, startLocalCluster, stopLocalCluster } = await localRuntime();
    // Cached by tptctl up --local-runtime; built here only when they are not.
    const tools = await installTools(['kubernetes']);
    // Whatever an earlier start left half-way would hold its name and ports.
    await stopLocalCluster({ name, dir });
    const cluster = await startLocalCluster({ name, dir, nodes: NODES, tools });
    return readKubeconfig(cluster.kubeconfigPath, cluster.context).credentials;
  };
  // Which clusters this control plane started: kept across `tptctl down --keep-data`, which stops them all.
  const marker = (name: string): string => join(dir, 'provisioned', name);
  const startOnce = (name: string): Promise<DirectCredentials> => {
    let started = starting.get(name);
    if (!started) {
      mkdirSync(join(dir, 'provisioned'), { recursive: true });
      writeFileSync(marker(name), '');
      started = start(name).finally(() => starting.delete(name));
      starting.set(name, started);
    }
    return started;
  };
  return {
    start: startOnce,
    async restartIfStopped(name) {
      if (starting.has(name) || !existsSync(marker(name))) return undefined;
      if ((await localRuntime()).localClusterRunning({ name, dir })) return undefined;
      return startOnce(name);
    },
    async stop(name) {
      await starting.get(name)?.catch(() => undefined);
      // The marker first: a look in between must not start it again.
      rmSync(marker(name), { force: true });
      await (await localRuntime()).stopLocalCluster({ name, dir });
    },
  };
}
