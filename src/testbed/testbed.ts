import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { descriptionPath, envPath, readDescription, writeDescription, type ClusterDescription, type TestbedDescription } from './description.ts';
import { TestbedError } from './errors.ts';
import { withFileLock } from '../local-runtime/file-lock.ts';
import { defaultInstanceDir } from './paths.ts';
import { startLocalCluster } from '../local-runtime/cluster.ts';
import { startMoto } from './peers/moto.ts';
import { startNatsServer } from './peers/nats.ts';
import { removePostgresData, startPostgres } from './peers/postgres.ts';
import { isRunning } from '../local-runtime/process-identity.ts';
import { haltNewProcesses, ProcessRegistry } from '../local-runtime/processes.ts';
import { report, seconds, step } from '../local-runtime/progress.ts';
import { checkHealth } from './health.ts';
import { installTools, type ToolGroup, type ToolName, type ToolPaths } from '../local-runtime/tools/install.ts';
import { installTerraformFixture } from './terraform-fixture.ts';

export interface UpOptions {
  /** Instance directory; default `.testbed/default` of the repository. */
  dir?: string;
  /** Number of kwok clusters, named a, b, c…; default 2. */
  clusters?: number;
  /** Fake nodes per cluster; default 2. */
  nodes?: number;
  /** Start moto (the AWS twin); default true. */
  aws?: boolean;
}

export function clusterName(index: number): string {
  if (index >= 26) throw new TestbedError('at most 26 clusters (a…z)');
  return String.fromCharCode('a'.charCodeAt(0) + index);
}

function toolGroups(options: Required<UpOptions>): ToolGroup[] {
  const groups: ToolGroup[] = ['nats', 'helm', 'terraform'];
  if (options.clusters > 0) groups.push('kubernetes');
  if (options.aws) groups.push('aws');
  return groups;
}

/**
 * Starts a test bed: PostgreSQL, nats-server, moto and N kwok clusters, each on free loopback
 * ports, after building whatever tools the cache lacks. Everything started is recorded at once,
 * and a failed start stops what it had started. A healthy running instance is returned as is.
 */
export async function up(requested: UpOptions = {}): Promise<TestbedDescription> {
  const options: Required<UpOptions> = {
    dir: resolve(requested.dir ?? defaultInstanceDir),
    clusters: requested.clusters ?? 2,
    nodes: requested.nodes ?? 2,
    aws: requested.aws ?? true,
  };
  const started = Date.now();
  const tools = await installTools(toolGroups(options));
  await installTerraformFixture();
  return withFileLock(join(options.dir, '.lock'), `starting the test bed in ${options.dir}`, async () => {
    const registry = new ProcessRegistry(options.dir);
    const existing = readDescription(options.dir);
    if (existing) {
      const health = await checkHealth(existing);
      if (health.every((peer) => peer.healthy)) {
        report(`already up in ${options.dir}`);
        return existing;
      }
      if (health.some((peer) => peer.stale)) {
        throw new TestbedError(`the test bed in ${options.dir} was started by other test-bed code (its clusters are made differently); restart it: npm run testbed -- down${dirFlag(options.dir)}, then up`);
      }
    }
    if (registry.list().some(isRunning)) {
      throw new TestbedError(`a test bed is partly running in ${options.dir}; stop it first: npm run testbed -- down${dirFlag(options.dir)}`);
    }
    await registry.stopAll(); // strays of an earlier crash
    removePostgresData(options.dir);
    clearInstanceDir(options.dir);
    try {
      const description = await startPeers(options, registry, tools);
      writeDescription(description);
      report(`up in ${seconds(started)}: ${description.descriptionPath}`);
      return description;
    } catch (error) {
      report('start failed; stopping what was started');
      await registry.stopAll();
      removePostgresData(options.dir);
      throw error;
    }
  });
}

async function startPeers(options: Required<UpOptions>, registry: ProcessRegistry, tools: ToolPaths): Promise<TestbedDescription> {
  const need = (name: ToolName) => tools[name] ?? missingTool(name);
  const postgres = step('postgres', () => startPostgres(registry));
  const nats = step('nats-server (JetStream)', () =>
    startNatsServer({ binary: need('nats-server'), registry, name: 'nats', storeDir: join(options.dir, 'nats') }),
  );
  const aws = options.aws ? step('moto (AWS API)', () => startMoto(registry, need('moto_server'))) : Promise.resolve(null);
  const clusters = startClusters(options, registry, tools);
  const [postgresPeer, natsPeer, awsPeer, clusterList] = await settleAll([postgres, nats, aws, clusters] as const);
  const binDir = linkTools(options.dir, tools);
  return {
    version: 1,
    dir: options.dir,
    descriptionPath: descriptionPath(options.dir),
    envPath: envPath(options.dir),
    startedAt: new Date().toISOString(),
    clusters: clusterList,
    nats: { url: natsPeer.url },
    postgres: { url: postgresPeer.url },
    aws: awsPeer,
    helm: need('helm'),
    tools,
    binDir,
  };
}

/** Clusters one after another: each start is CPU-bound on a small machine. */
async function startClusters(options: Required<UpOptions>, registry: ProcessRegistry, tools: ToolPaths): Promise<ClusterDescription[]> {
  const clusters: ClusterDescription[] = [];
  for (let index = 0; index < options.clusters; index++) {
    const name = clusterName(index);
    const cluster = await step(`cluster ${name} (${options.nodes} kwok nodes)`, () =>
      startLocalCluster({ name, dir: options.dir, nodes: options.nodes, tools, registry }),
    );
    clusters.push({ name, kubeconfigPath: cluster.kubeconfigPath, context: cluster.context, server: cluster.server, nodes: options.nodes, recipe: cluster.recipe });
  }
  return clusters;
}

/** Like Promise.all, but waits for every start to end before throwing the first error, so cleanup sees every process. */
async function settleAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Removes an earlier start's state, keeping the lock we hold and the owner note of a test run. */
function clearInstanceDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) {
    if (entry !== '.lock' && entry !== ownerFile) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/** Who started a test run's private instance (see test/support/global-setup.ts). */
export const ownerFile = 'owner.json';

function linkTools(instanceDir: string, tools: ToolPaths): string {
  const binDir = join(instanceDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  for (const [name, path] of Object.entries(tools)) {
    if (path) symlinkSync(path, join(binDir, name));
  }
  return binDir;
}

function dirFlag(dir: string): string {
  return dir === defaultInstanceDir ? '' : ` --dir ${dir}`;
}

function missingTool(name: string): never {
  throw new TestbedError(`${name} was not installed`);
}

/**
 * Stops an instance's processes without taking its lock — for a process interrupted while it
 * holds that lock itself (Ctrl-C during `up`).
 */
export async function abandonStart(dir: string = defaultInstanceDir): Promise<void> {
  const instanceDir = resolve(dir);
  haltNewProcesses();
  await new ProcessRegistry(instanceDir).stopAll();
  removePostgresData(instanceDir);
}

/** Stops everything the instance started — recorded or merely marked — and removes its state. */
export async function down(dir: string = defaultInstanceDir): Promise<void> {
  const instanceDir = resolve(dir);
  if (!existsSync(instanceDir)) return;
  await withFileLock(join(instanceDir, '.lock'), `stopping the test bed in ${instanceDir}`, async () => {
    await new ProcessRegistry(instanceDir).stopAll();
    removePostgresData(instanceDir);
  });
  rmSync(instanceDir, { recursive: true, force: true });
}
