/**
 * Real peers for tests, from the test bed that global-setup.ts brought up. A test that needs a
 * peer calls one of these; when the test bed is missing they throw with the reason, so such a
 * test fails — it never silently skips.
 *
 * Shared by every test file of every concurrent run: the clusters, the PostgreSQL server (each
 * test takes a fresh database) and the tool binaries. Private to the calling test file, and
 * stopped after it (afterAll): NATS servers from startNats(), the moto server behind cleanAws(),
 * chart repositories from serveChartRepository().
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, inject } from 'vitest';
import { serveDirectory, sharedChartsDir } from '../../src/testbed/chart-server.ts';
import { readDescriptionFile, type AwsDescription, type TestbedDescription } from '../../src/testbed/description.ts';
import { resetMoto, startMoto } from '../../src/testbed/peers/moto.ts';
import { startNatsServer, type NatsServer } from '../../src/testbed/peers/nats.ts';
import { createDatabase } from '../../src/testbed/peers/postgres.ts';
import { installTerraformFixture, type TerraformFixture } from '../../src/testbed/terraform-fixture.ts';
import { ProcessRegistry } from '../../src/local-runtime/processes.ts';
import { run } from '../../src/local-runtime/run-command.ts';

export type { TestbedDescription } from '../../src/testbed/description.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running test bed, or null when it could not start (then testbedError says why). */
    testbed: TestbedDescription | null;
    testbedError: string | null;
  }
}

let description: TestbedDescription | undefined;

/** The running test bed's description. Throws, with the reason, when there is none. */
export function testbed(): TestbedDescription {
  if (description) return description;
  const provided = inject('testbed');
  if (provided) return (description = provided);
  if (process.env.THREEPORT_TESTBED) return (description = readDescriptionFile(process.env.THREEPORT_TESTBED));
  const reason = inject('testbedError') ?? 'the global setup (test/support/global-setup.ts) did not run';
  throw new Error(`this test needs the test bed, which is not available: ${reason}`);
}

/** A new, empty database in the test bed's PostgreSQL; its postgres:// URL. */
export async function freshDatabase(): Promise<string> {
  return createDatabase(testbed().postgres.url);
}

export interface NatsHandle {
  url: string;
  /** Graceful stop. */
  stop(): Promise<void>;
  /** Start again, on the same port and with the same store directory. */
  start(): Promise<void>;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
}

/** A private nats-server with JetStream (own port, own store), stopped after the test file. */
export async function startNats(): Promise<NatsHandle> {
  const registry = privateRegistry();
  const name = `nats-${++natsServers}`;
  const server: NatsServer = await startNatsServer({
    binary: toolPath('nats-server'),
    registry,
    name,
    storeDir: join(registry.instanceDir, name),
  });
  return { url: server.url, stop: server.stop, start: server.start, kill: server.kill };
}
let natsServers = 0;

/** A cluster's kubeconfig file and context; cluster 'a' by default. */
export function kubeconfig(cluster: 'a' | 'b' = 'a'): { path: string; context: string } {
  const found = testbed().clusters.find((candidate) => candidate.name === cluster);
  if (!found) throw new Error(`the test bed has no cluster ${cluster} (it has ${testbed().clusters.length}); start it with --clusters 2`);
  return { path: found.kubeconfigPath, context: found.context };
}

/**
 * A namespace of its own in a cluster (the clusters are shared by concurrent test files and
 * runs), deleted after the test file.
 */
export async function freshNamespace(cluster: 'a' | 'b' = 'a', prefix = 'test'): Promise<string> {
  const { path, context } = kubeconfig(cluster);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  kubeConfig.setCurrentContext(context);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'testbed.threeport.io/test': 'true' } } } });
  cleanups.push(() => core.deleteNamespace({ name }).then(() => {}));
  return name;
}

/**
 * An AWS API (moto) with nothing in it, private to this test file: the first call starts it,
 * later calls reset it.
 */
export async function cleanAws(): Promise<AwsDescription> {
  if (!testbed().aws) throw new Error('this test needs AWS (moto), but the test bed was started with --no-aws');
  if (moto) {
    await resetMoto(moto.endpoint);
    return structuredClone(moto);
  }
  moto = await startMoto(privateRegistry(), toolPath('moto_server'), 'moto');
  return structuredClone(moto);
}
let moto: AwsDescription | undefined;

/**
 * A helm chart repository on loopback serving the given chart folders (`helm package` of each,
 * then `helm repo index`). Closed after the test file, or by close().
 */
export async function serveChartRepository(chartDirs: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const root = join(privateRegistry().instanceDir, `charts-${randomBytes(4).toString('hex')}`);
  mkdirSync(root, { recursive: true });
  const { url, close } = await serveClosedAfterFile(root);
  const helm = toolPath('helm');
  const env = helmEnv(root);
  for (const chartDir of chartDirs) await run(helm, ['package', resolve(chartDir), '--destination', root], { env });
  await run(helm, ['repo', 'index', root, '--url', url], { env });
  return { url, close };
}

/** The real upstream charts the project keeps beside it (../shared/charts), served on loopback as a chart mirror; closed after the test file. */
export async function serveSharedCharts(): Promise<{ url: string; close(): Promise<void> }> {
  return serveClosedAfterFile(sharedChartsDir());
}

async function serveClosedAfterFile(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = await serveDirectory(root);
  cleanups.push(server.close);
  return server;
}

/**
 * Two charts of `helm create` served as a repository: `web` (a Deployment, its Service and
 * ServiceAccount) and `broken`, the same plus a ConfigMap the API server refuses (an invalid
 * name), so it can never install.
 */
export async function serveTestCharts(workDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const helm = toolPath('helm');
  await run(helm, ['create', 'web'], { cwd: workDir });
  await run(helm, ['create', 'broken'], { cwd: workDir });
  writeFileSync(join(workDir, 'broken', 'templates', 'bad.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\ndata: {}\n');
  return serveChartRepository([join(workDir, 'web'), join(workDir, 'broken')]);
}

/** Keeps `helm package` away from the user's helm configuration and cache. */
function helmEnv(root: string): NodeJS.ProcessEnv {
  const home = join(root, '.helm');
  return { ...process.env, HELM_CONFIG_HOME: join(home, 'config'), HELM_CACHE_HOME: join(home, 'cache'), HELM_DATA_HOME: join(home, 'data') };
}

/** The test bed's terraform and a filesystem mirror with its fixture provider (`threeport/fixture`: fixture_file writes a file). */
export function terraformFixture(): Promise<TerraformFixture> {
  return installTerraformFixture();
}

type ToolPathName = 'nats-server' | 'helm' | 'kubectl' | 'kwokctl' | 'etcd' | 'kube-apiserver' | 'moto_server';

/** A pinned tool binary of the test bed. */
export function toolPath(name: ToolPathName): string {
  const path = testbed().tools[name];
  if (!path) throw new Error(`the test bed has no ${name} (it was started without it)`);
  return path;
}

// Private processes of this test file live in their own registry inside the test bed's folder,
// so the test bed's `down` also sweeps whatever a crashed test file left running.
let registry: ProcessRegistry | undefined;
function privateRegistry(): ProcessRegistry {
  registry ??= new ProcessRegistry(join(testbed().dir, 'private', `${process.pid}-${randomBytes(3).toString('hex')}`));
  mkdirSync(registry.instanceDir, { recursive: true });
  return registry;
}

const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  if (registry) {
    await registry.stopAll();
    rmSync(registry.instanceDir, { recursive: true, force: true });
    registry = undefined;
    moto = undefined;
  }
});

process.once('exit', () => {
  // A worker ending without afterAll (a crash, a timeout): do not leave servers behind.
  for (const tracked of registry?.list() ?? []) {
    try {
      process.kill(-tracked.processGroup, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
