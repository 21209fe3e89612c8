/**
 * `npm run bench:controller`: how fast the controller runtime picks up API writes.
 *
 *   - API write → reconcile start, p50/p99, with writes paced at 200 objects/s (open loop);
 *   - create → Reconciled, one client, sequential (the baseline's row: POST, poll GET);
 *   - sustained reconciles/s: unreconciled objects queued first, then the controllers started;
 * each with 1 and 3 controller replicas on NATS (API on PostgreSQL, its own process) and on the
 * embedded bus (one process: PGlite API + in-process bus + controllers). The reconciler does
 * nothing but record when it started, so this measures the runtime, not a domain.
 *
 * Peers: PostgreSQL of the running test bed (`npm run testbed -- up`) or of a private one started
 * for this run; a private nats-server. Everything started here is stopped at the end.
 *
 * Also this file's child processes: `node bench/controller.ts replica|embedded` (internal).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NatsBus } from '../src/bus/nats.ts';
import { streamConfigs } from '../src/bus/streams.ts';
import { ApiClient } from '../src/client/api-client.ts';
import { startApiServer } from '../src/control-plane/api-server.ts';
import { ControllerManager } from '../src/controller/manager.ts';
import { defineReconciler } from '../src/controller/reconciler.ts';
import { silentLogger } from '../src/log.ts';
import { registry } from '../src/model/registry.ts';
import { FieldCipher } from '../src/crypto/field-cipher.ts';
import { readDescription } from '../src/testbed/description.ts';
import { defaultInstanceDir } from '../src/testbed/paths.ts';
import { createDatabase } from '../src/testbed/peers/postgres.ts';
import { startNatsServer } from '../src/testbed/peers/nats.ts';
import { freePort } from '../src/local-runtime/ports.ts';
import { ProcessRegistry } from '../src/local-runtime/processes.ts';
import { checkHealth } from '../src/testbed/health.ts';
import { down, up } from '../src/testbed/testbed.ts';

const KIND = 'WorkloadDefinition';
const wallClock = (): number => performance.timeOrigin + performance.now();
const send = (message: unknown): void => void process.send?.(message);

/** The bench reconciler: reports when each reconcile starts, then is done. */
const benchReconciler = defineReconciler({
  kind: KIND,
  reconcile: async (context) => {
    send({ type: 'start', id: Number(context.object.ID), at: wallClock() });
  },
});

const runtime = { concurrency: 16, resyncIntervalMs: 0 };

// ---------------------------------------------------------------- child processes

async function runReplica(): Promise<void> {
  const bus = new NatsBus({ url: process.env.NATS_URL!, logger: silentLogger(), streams: streamConfigs(registry) });
  const manager = new ControllerManager({ bus, client: new ApiClient({ baseUrl: process.env.API_URL! }), reconcilers: [benchReconciler], logger: silentLogger(), runtime });
  await manager.start();
  send({ type: 'ready' });
  process.on('SIGTERM', () => void manager.stop().then(() => bus.close()).then(() => process.exit(0)));
}

async function runEmbedded(): Promise<void> {
  const server = await startApiServer(
    { host: '127.0.0.1', port: Number(process.env.PORT), dataDir: process.env.DATA_DIR!, encryptionKey: FieldCipher.generateKey(), logLevel: 'silent', bodyLimit: 4 << 20, workers: 1 },
    silentLogger(),
  );
  const client = new ApiClient({ baseUrl: server.url });
  let manager: ControllerManager | undefined;
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'start-controllers' || manager) return;
    manager = new ControllerManager({ bus: server.bus, client, reconcilers: [benchReconciler], logger: silentLogger(), runtime });
    void manager.start().then(() => send({ type: 'controllers-ready' }));
  });
  send({ type: 'ready', url: server.url });
  process.on('SIGTERM', () => void (manager?.stop() ?? Promise.resolve()).then(() => server.close()).then(() => process.exit(0)));
}

// ---------------------------------------------------------------- orchestration

interface Child {
  process: ChildProcess;
  stop(): Promise<void>;
}

const starts = new Map<number, number>();

function spawnChild(mode: string, env: Record<string, string>, readyType = 'ready'): Promise<Child & { ready: Record<string, unknown> }> {
  const child = fork(new URL(import.meta.url).pathname, [mode], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (message: { type: string; id?: number; at?: number }) => {
    if (message.type === 'start' && !starts.has(message.id!)) starts.set(message.id!, message.at!);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${mode} exited with ${code} before it was ready`)));
    child.on('message', (message: { type: string }) => {
      if (message.type === readyType) {
        resolve({
          process: child,
          ready: message,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
          },
        });
      }
    });
  });
}

async function spawnApi(databaseUrl: string, natsUrl: string): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = fork(join(new URL('..', import.meta.url).pathname, 'bin/threeport.js'), ['server', '--listen', `127.0.0.1:${port}`, '--database-url', databaseUrl, '--nats-url', natsUrl, '--log-level', 'warn'], {
    env: { ...process.env, THREEPORT_ENCRYPTION_KEY: FieldCipher.generateKey() },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; !(await fetch(`${url}/readyz`).then((r) => r.ok, () => false)); tries++) {
    if (tries > 600 || child.exitCode !== null) throw new Error('threeport server did not become ready');
    await sleep(100);
  }
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { process: child, url, stop: async () => (child.kill('SIGTERM'), await exited) };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
let names = 0;
const create = (client: ApiClient) => client.kind(KIND).create({ Name: `bench-${process.pid}-${++names}`, YAMLDocument: 'kind: ConfigMap' });

/** Writes `count` objects paced at `perSecond` (open loop); latency = reconcile start − write sent. */
async function pacedLatency(client: ApiClient, count: number, perSecond: number): Promise<{ p50: number; p99: number; achieved: number }> {
  const sent = new Map<number, number>();
  starts.clear(); // ids start again in every fresh database
  const t0 = wallClock();
  const writes: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const due = t0 + (index * 1000) / perSecond;
    const wait = due - wallClock();
    if (wait > 1) await sleep(wait);
    const at = wallClock();
    writes.push(create(client).then((object) => void sent.set(Number(object.ID), at)));
  }
  await Promise.all(writes);
  const achieved = count / ((wallClock() - t0) / 1000);
  const deadline = Date.now() + 60_000;
  while ([...sent.keys()].some((id) => !starts.has(id)) && Date.now() < deadline) await sleep(50);
  const latencies = [...sent].filter(([id]) => starts.has(id)).map(([id, at]) => starts.get(id)! - at);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), achieved };
}

/** The baseline's way: one client, POST then poll GET until Reconciled. */
async function createToReconciled(client: ApiClient, count: number): Promise<{ p50: number; p90: number; p99: number; post: number }> {
  const latencies: number[] = [];
  const posts: number[] = [];
  for (let index = 0; index < count; index++) {
    const t0 = wallClock();
    const object = await create(client);
    posts.push(wallClock() - t0);
    while ((await client.kind(KIND).get(Number(object.ID))).Reconciled !== true) await sleep(1);
    latencies.push(wallClock() - t0);
  }
  return { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), post: percentile(posts, 50) };
}

async function queueObjects(client: ApiClient, count: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next++ < count) await create(client);
  }));
}

async function waitAllReconciled(client: ApiClient): Promise<void> {
  while ((await client.kind(KIND).list({ reconciled: false }, { size: 1 })).total > 0) await sleep(100);
}

interface Row {
  setup: string;
  latency: string;
  sequential: string;
  sustained: string;
}

async function benchNats(databaseAdminUrl: string, natsBinary: string, registryDir: string, replicas: number, backlog: number): Promise<Row> {
  const processes = new ProcessRegistry(join(registryDir, `r${replicas}`));
  const nats = await startNatsServer({ binary: natsBinary, registry: processes, name: 'nats', storeDir: join(processes.instanceDir, 'nats') });
  const api = await spawnApi(await createDatabase(databaseAdminUrl, 'bench'), nats.url);
  const client = new ApiClient({ baseUrl: api.url });
  try {
    const start = () => Promise.all(Array.from({ length: replicas }, () => spawnChild('replica', { NATS_URL: nats.url, API_URL: api.url })));
    let controllers = await start();
    await createToReconciled(client, 20); // warm-up
    const sequential = await createToReconciled(client, 200);
    const latency = await pacedLatency(client, 1000, 200);
    await Promise.all(controllers.map((c) => c.stop()));
    await queueObjects(client, backlog);
    const t0 = wallClock();
    controllers = await start();
    await waitAllReconciled(client);
    const rate = backlog / ((wallClock() - t0) / 1000);
    await Promise.all(controllers.map((c) => c.stop()));
    return {
      setup: `NATS, PostgreSQL API, ${replicas} replica${replicas > 1 ? 's' : ''}`,
      latency: `p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)} at ${Math.round(latency.achieved)}/s`,
      sequential: `p50 ${ms(sequential.p50)}, p90 ${ms(sequential.p90)}, p99 ${ms(sequential.p99)} (the POST alone: p50 ${ms(sequential.post)})`,
      sustained: `${Math.round(rate)}/s (${backlog} queued)`,
    };
  } finally {
    await api.stop();
    await processes.stopAll();
  }
}

async function benchEmbedded(backlog: number): Promise<Row> {
  const dataDir = mkdtempSync(join(tmpdir(), 'threeport-bench-'));
  const spawnEmbedded = async () => {
    const child = await spawnChild('embedded', { PORT: String(await freePort()), DATA_DIR: dataDir });
    return { child, client: new ApiClient({ baseUrl: String(child.ready.url) }) };
  };
  const startControllers = (child: Child) =>
    new Promise<void>((resolve) => {
      child.process.on('message', (message: { type: string }) => message.type === 'controllers-ready' && resolve());
      child.process.send({ type: 'start-controllers' });
    });
  try {
    let { child, client } = await spawnEmbedded();
    await startControllers(child);
    await createToReconciled(client, 20);
    const sequential = await createToReconciled(client, 200);
    const latency = await pacedLatency(client, 1000, 200);
    await child.stop();
    ({ child, client } = await spawnEmbedded()); // API only: the queue builds up
    await queueObjects(client, backlog);
    const t0 = wallClock();
    await startControllers(child);
    await waitAllReconciled(client);
    const rate = backlog / ((wallClock() - t0) / 1000);
    await child.stop();
    return {
      setup: 'embedded: PGlite API, in-process bus, 1 process',
      latency: `p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)} at ${Math.round(latency.achieved)}/s`,
      sequential: `p50 ${ms(sequential.p50)}, p90 ${ms(sequential.p90)}, p99 ${ms(sequential.p99)} (the POST alone: p50 ${ms(sequential.post)})`,
      sustained: `${Math.round(rate)}/s (${backlog} queued)`,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function peers(): Promise<{ postgres: string; nats: string; close(): Promise<void> }> {
  const shared = readDescription(defaultInstanceDir);
  if (shared && (await checkHealth(shared)).every((peer) => peer.healthy)) {
    return { postgres: shared.postgres.url, nats: shared.tools['nats-server']!, close: async () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'threeport-bench-testbed-'));
  process.stderr.write(`starting PostgreSQL and nats-server for the benchmark in ${dir}\n`);
  const description = await up({ dir, clusters: 0, aws: false });
  return { postgres: description.postgres.url, nats: description.tools['nats-server']!, close: () => down(dir) };
}

async function main(): Promise<void> {
  const backlog = Number(process.env.BENCH_BACKLOG ?? 3000);
  const found = await peers();
  const registryDir = mkdtempSync(join(tmpdir(), 'threeport-bench-peers-'));
  const rows: Row[] = [];
  try {
    for (const replicas of [1, 3]) {
      process.stderr.write(`NATS, ${replicas} replica(s)…\n`);
      rows.push(await benchNats(found.postgres, found.nats, registryDir, replicas, backlog));
    }
    process.stderr.write('embedded…\n');
    rows.push(await benchEmbedded(backlog));
  } finally {
    await found.close();
    rmSync(registryDir, { recursive: true, force: true });
  }
  const lines = [
    '',
    `machine: ${cpus().length} cores, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    `# Controller runtime (${new Date().toISOString().slice(0, 10)}; reconciler = record start and return; concurrency ${runtime.concurrency} per replica)`,
    '',
    '| measure | how | ours | original |',
    '|---|---|---|---|',
  ];
  for (const row of rows) {
    lines.push(`| write → reconcile start | ${row.setup}: POST paced at 200 objects/s, 1,000 objects, open loop | ${row.latency} | n/a |`);
    lines.push(`| create → Reconciled | ${row.setup}: one client, sequential POST then poll GET; 200 objects | ${row.sequential} | p50 14 ms, p90 20 ms, p99 29 ms |`);
    lines.push(`| sustained reconciles/s | ${row.setup}: controllers started with unreconciled objects queued | ${row.sustained} | ~70/s |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

const mode = process.argv[2];
if (mode === 'replica') await runReplica();
else if (mode === 'embedded') await runEmbedded();
else await main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`bench:controller: ${(error as Error).message}\n`);
  process.exit(1);
});
