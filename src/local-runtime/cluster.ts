import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { sourcePath } from '../install-root.ts';
import { LocalRuntimeError } from './errors.ts';
import { typeScriptNode } from './node-runtime.ts';
import { clusterRecipe, SERVICE_CLUSTER_IP_RANGE } from './cluster-recipe.ts';
import { kwokStages } from './kwok/stages.ts';
import { nodeResourceParameters } from './node-resources.ts';
import { freePorts } from './ports.ts';
import { isRunning } from './process-identity.ts';
import { ProcessRegistry } from './processes.ts';
import { tail } from './run-command.ts';
import { ensureDefaultStorageClass } from './storage/storage-class.ts';
import { installTools, type ToolName, type ToolPaths } from './tools/install.ts';
import { versions } from './versions.ts';
import { waitFor } from './wait.ts';

export interface LocalClusterOptions {
  /** Cluster name; its kubeconfig context is `kwok-<name>`. */
  name: string;
  /** Folder for the cluster's state and logs (a test-bed instance, or tptctl's data dir). */
  dir: string;
  /** Fake nodes; default 2. */
  nodes?: number;
  /** Tool paths, when the caller already installed them; otherwise they are installed (built) now. */
  tools?: ToolPaths;
  registry?: ProcessRegistry;
}

export interface LocalCluster {
  name: string;
  /** How it was made (cluster-recipe.ts). */
  recipe: string;
  kubeconfigPath: string;
  context: string;
  server: string;
  stop(): Promise<void>;
}

function kwokWorkdir(dir: string): string {
  return join(dir, 'kwok');
}

function kubeconfigPathOf(dir: string, name: string): string {
  return join(dir, 'clusters', `${name}.kubeconfig`);
}

/**
 * A simulated Kubernetes cluster: a real kube-apiserver, controller-manager and scheduler on
 * etcd, with kwok pretending to be the nodes (Pods get scheduled and reported Running, but no
 * container runs), a default StorageClass and a provisioner that binds claims. Each component is
 * recorded in the process registry of `dir`, so `stopLocalCluster` (or the test bed's `down`)
 * finds it from any process.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const dir = resolve(options.dir);
  const name = options.name;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new LocalRuntimeError(`cluster name "${name}" must be lowercase letters, digits and dashes`);
  const registry = options.registry ?? new ProcessRegistry(dir);
  const tools = options.tools ?? (await installTools(['kubernetes']));
  const tool = (tool: ToolName) => tools[tool] ?? missing(tool);
  const kubeconfigPath = kubeconfigPathOf(dir, name);
  mkdirSync(join(dir, 'clusters'), { recursive: true });
  const kwokEnv = {
    KWOK_WORKDIR: kwokWorkdir(dir),
    // kwokctl shapes component flags by the Kubernetes version; ours differs from its default.
    KWOK_KUBE_VERSION: versions.kubernetes,
  };
  try {
    const kubeConfig = await startWithRetry(registry, dir, name, tool, kwokEnv, options.nodes ?? 2);
    await ensureDefaultStorageClass(kubeConfig);
    const provisioner = registry.start(`cluster-${name}-provisioner`, typeScriptNode(), [sourcePath('local-runtime/storage/provisioner-main.ts'), kubeconfigPath]);
    await waitFor(`volume provisioner of cluster ${name}`, async () => (readFileSync(provisioner.log, 'utf8').includes('provisioner running') ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      failFast: () => (isRunning(provisioner) ? undefined : `exited\n${tail(readFileSync(provisioner.log, 'utf8'))}`),
    });
    const context = kubeConfig.getCurrentContext();
    return {
      name,
      recipe: clusterRecipe(),
      kubeconfigPath,
      context,
      server: kubeConfig.getCurrentCluster()?.server ?? '',
      stop: () => stopLocalCluster({ name, dir }),
    };
  } catch (error) {
    await stopLocalCluster({ name, dir });
    throw error;
  }
}

const serviceRangeArgs = [
  '--extra-args', `kube-apiserver=service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
  '--extra-args', `kube-controller-manager=service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
];

/**
 * kwokctl picks ports by counting down from 32767 in each process, so two clusters created at
 * the same moment (two test runs) pick the same ones. We choose random free ports ourselves and
 * bind everything to loopback; should a port be taken between choosing and binding — which a
 * component may find out after kwokctl reported the cluster created (the kwok controller then
 * exits and no node ever becomes Ready) — the start is retried with new ones.
 */
async function startWithRetry(registry: ProcessRegistry, dir: string, name: string, tool: (name: ToolName) => string, env: NodeJS.ProcessEnv, nodes: number): Promise<KubeConfig> {
  for (let attempt = 1; ; attempt++) {
    const configPath = join(dir, 'clusters', `${name}.kwokctl.yaml`);
    writeFileSync(configPath, await kwokctlConfiguration());
    try {
      await registry.runToEnd(
        `cluster-${name}-create`,
        tool('kwokctl'),
        [
          'create', 'cluster',
          '--name', name,
          '--config', configPath,
          '--runtime', 'binary',
          '--kubeconfig', kubeconfigPathOf(dir, name),
          '--etcd-binary', tool('etcd'),
          '--kube-apiserver-binary', tool('kube-apiserver'),
          '--kube-controller-manager-binary', tool('kube-controller-manager'),
          '--kube-scheduler-binary', tool('kube-scheduler'),
          '--kwok-controller-binary', tool('kwok'),
          '--disable-qps-limits',
          ...serviceRangeArgs,
          '--wait', '90s',
        ],
        { env, timeoutMs: 180_000 },
      );
      adoptComponents(registry, dir, name);
      await registry.runToEnd(`cluster-${name}-scale`, tool('kwokctl'), ['scale', 'node', '--name', name, '--replicas', String(nodes), ...nodeResourceParameters()], { env, timeoutMs: 60_000 });
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(kubeconfigPathOf(dir, name));
      await waitUntilUsable(kubeConfig, nodes, () => deadComponent(registry, name));
      return kubeConfig;
    } catch (error) {
      const portTaken = /address already in use/i.test(String(error)) || componentLogsMention(dir, name, /address already in use/i);
      adoptComponents(registry, dir, name);
      await stopLocalCluster({ name, dir });
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

/** A component of the cluster that is no longer running, said as a reason to stop waiting. */
function deadComponent(registry: ProcessRegistry, name: string): string | undefined {
  const dead = registry.list().find((process) => process.name.startsWith(`cluster-${name}-`) && !process.name.endsWith('-provisioner') && !isRunning(process));
  return dead && `${dead.name.slice(`cluster-${name}-`.length)} exited`;
}

async function kwokctlConfiguration(): Promise<string> {
  const [etcdPeerPort, etcdPort, kubeApiserverPort, kubeControllerManagerPort, kubeSchedulerPort, kwokControllerPort] = await freePorts(6);
  return [
    'apiVersion: config.kwok.x-k8s.io/v1alpha1',
    'kind: KwokctlConfiguration',
    'options:',
    '  bindAddress: 127.0.0.1',
    `  etcdPeerPort: ${etcdPeerPort}`,
    `  etcdPort: ${etcdPort}`,
    `  kubeApiserverPort: ${kubeApiserverPort}`,
    `  kubeControllerManagerPort: ${kubeControllerManagerPort}`,
    `  kubeSchedulerPort: ${kubeSchedulerPort}`,
    `  kwokControllerPort: ${kwokControllerPort}`,
    '---',
    kwokStages(),
  ].join('\n');
}

function componentLogsMention(dir: string, name: string, pattern: RegExp): boolean {
  const logsDir = join(kwokWorkdir(dir), 'clusters', name, 'logs');
  if (!existsSync(logsDir)) return false;
  return readdirSync(logsDir).some((file) => pattern.test(readFileSync(join(logsDir, file), 'utf8')));
}

/** kwokctl starts each component in its own session and notes its pid; record them as ours. */
function adoptComponents(registry: ProcessRegistry, dir: string, name: string): void {
  const clusterDir = join(kwokWorkdir(dir), 'clusters', name);
  const pidsDir = join(clusterDir, 'pids');
  if (!existsSync(pidsDir)) return;
  for (const file of readdirSync(pidsDir)) {
    const component = file.replace(/\.pid$/, '');
    const pid = Number(readFileSync(join(pidsDir, file), 'utf8').trim());
    if (pid > 0) registry.adopt(`cluster-${name}-${component}`, pid, join(clusterDir, 'logs', `${component}.log`));
  }
}

/** Nodes Ready and the default ServiceAccount present: from then on Pods can be created and scheduled. */
async function waitUntilUsable(kubeConfig: KubeConfig, nodes: number, failFast: () => string | undefined): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await waitFor(`${nodes} Ready nodes`, async () => {
    const list = await core.listNode();
    const ready = list.items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length >= nodes ? true : undefined;
  }, { timeoutMs: 60_000, failFast });
  await waitFor('the default ServiceAccount', async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
    return true;
  }, { timeoutMs: 60_000 });
}

/** Stops a cluster started by `startLocalCluster` with the same name and dir, from any process. */
export async function stopLocalCluster(options: { name: string; dir: string }): Promise<void> {
  const dir = resolve(options.dir);
  const registry = new ProcessRegistry(dir);
  const prefix = `cluster-${options.name}-`;
  for (const process of registry.list().filter((p) => p.name.startsWith(prefix))) await registry.stop(process.name);
  const clusterDir = join(kwokWorkdir(dir), 'clusters', options.name);
  // Keep the components' logs for whoever looks into a failed start.
  if (existsSync(join(clusterDir, 'logs'))) {
    const kept = join(registry.logsDir, `cluster-${options.name}-components`);
    rmSync(kept, { recursive: true, force: true });
    mkdirSync(registry.logsDir, { recursive: true });
    renameSync(join(clusterDir, 'logs'), kept);
  }
  rmSync(clusterDir, { recursive: true, force: true });
  rmSync(kubeconfigPathOf(dir, options.name), { force: true });
}

/** Whether cluster `name` of `dir` is running (its API server is). */
export function localClusterRunning(options: { name: string; dir: string }): boolean {
  const apiServer = `cluster-${options.name}-kube-apiserver`;
  return new ProcessRegistry(resolve(options.dir)).list().some((process) => process.name === apiServer && isRunning(process));
}

/** Stops every cluster started in `dir` (a control plane's own and those it started for local runtimes). */
export async function stopLocalClusters(dir: string): Promise<void> {
  const clustersDir = join(kwokWorkdir(resolve(dir)), 'clusters');
  for (const name of existsSync(clustersDir) ? readdirSync(clustersDir) : []) await stopLocalCluster({ name, dir });
}

function missing(tool: string): never {
  throw new LocalRuntimeError(`${tool} was not installed`);
}
