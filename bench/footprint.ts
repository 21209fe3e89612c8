/**
 * `npm run bench:footprint`: what a user feels before any load (issue 17's starting figures).
 *
 *   - tptctl start: median wall time of `version --client`, `--help` and `get workloads` (against a
 *     port nothing listens on: all the work before the network), beside bare `node -e 0`;
 *   - RSS at rest of `threeport all-in-one` on an empty PGlite data directory (what
 *     `scripts/run.sh start` and `tptctl up` run), after 10,000 workload definitions, and after a
 *     restart with 50,000 (with the time to ready); of `threeport server` on PostgreSQL, and of a
 *     `threeport controller` process and of a `threeport agent` watching a simulated cluster, each
 *     20 s after it is ready.
 *
 * BENCH_RUNS (default 15) runs per CLI command; BENCH_SETTLE_MS (default 20000) before reading RSS;
 * BENCH_OBJECTS (10000) and BENCH_RESTART_OBJECTS (50000) objects. Then, on the restarted
 * all-in-one: 200 creates/s for BENCH_PACED_SECONDS (30), each reconciled by its workload
 * controller, with the controller's notification → reconcile start latency.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../src/client/api-client.ts';
import { FieldCipher } from '../src/crypto/field-cipher.ts';
import { freePort } from '../src/local-runtime/ports.ts';
import { createDatabase } from '../src/testbed/peers/postgres.ts';
import { down, up } from '../src/testbed/testbed.ts';
import { histogramBuckets, metricSum, quantileOf, rssMb, startThreeport, until, waitReady, type Process } from './support/processes.ts';
import { runBench } from './support/plane.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 20_000);
const OBJECTS_AFTER_LOAD = Number(process.env.BENCH_OBJECTS ?? 10_000);
const OBJECTS_AT_RESTART = Number(process.env.BENCH_RESTART_OBJECTS ?? 50_000);
const PACED_WRITES_PER_S = 200;
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 30);
const repoRoot = new URL('../', import.meta.url).pathname;

/** Median wall time of running `args` with this node, in ms (the first run, filling caches, left out). */
function medianMs(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const at = performance.now();
    spawnSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
    if (run > 0) times.push(performance.now() - at);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Waits until the controllers have nothing queued; returns how long that took, in seconds. */
async function drained(url: string): Promise<number> {
  const at = performance.now();
  await until('every queued notification reconciled', async () => (await metricSum(url, 'threeport_controller_queue_depth')) === 0, 600_000, 1000);
  return (performance.now() - at) / 1000;
}

/**
 * Creates workload definitions at a steady rate (not waiting for one before the next, as many
 * clients would), then reads what the all-in-one's controller saw: from the bus storing each
 * notification to its reconcile starting (its histogram's buckets, counted from the start of the run).
 */
async function pacedWrites(client: ApiClient, url: string, nextName: () => string): Promise<string> {
  const metric = 'threeport_controller_notification_latency_seconds';
  const filter = 'reconciler="WorkloadDefinitionReconciler"';
  // What the restart left queued is reconciled first: this measures writes made at a steady rate, not a backlog.
  const drainSeconds = await drained(url);
  const before = await histogramBuckets(url, metric, filter);
  const latencies: number[] = [];
  let failures = 0;
  const writes: Promise<void>[] = [];
  const start = performance.now();
  const total = PACED_WRITES_PER_S * PACED_SECONDS;
  for (let index = 0; index < total; index++) {
    const due = start + (index * 1000) / PACED_WRITES_PER_S;
    if (due > performance.now()) await sleep(due - performance.now());
    const at = performance.now();
    writes.push(
      client
        .kind('WorkloadDefinition')
        .create({ Name: nextName(), YAMLDocument: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: paced\n' })
        .then(() => void latencies.push(performance.now() - at), () => void failures++),
    );
  }
  await Promise.all(writes);
  const seconds = (performance.now() - start) / 1000;
  const reconciled = async (): Promise<boolean> => ((await histogramBuckets(url, metric, filter)).get(Infinity) ?? 0) - (before.get(Infinity) ?? 0) >= total;
  await until('every paced write reconciled', reconciled, 120_000);
  const after = await histogramBuckets(url, metric, filter);
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN;
  return `(backlog drained in ${drainSeconds.toFixed(0)} s) ${(latencies.length / seconds).toFixed(0)} creates/s done (${failures} failed), create p99 ${p99.toFixed(1)} ms; notification → reconcile start p50 ${quantileOf(after, 0.5, before)}, p99 ${quantileOf(after, 0.99, before)}   (aim: p99 ≤ 100 ms)`;
}

async function restingRss(process_: Process): Promise<number> {
  await sleep(SETTLE_MS);
  return rssMb(process_.child.pid);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'threeport-bench-footprint-'));
  const lines: string[] = [];
  try {
    // tptctl against a control plane nobody serves: what it does before the network.
    const config = join(work, 'tptctl.yaml');
    const port = await freePort();
    writeFileSync(config, `ControlPlanes:\n  - Name: bench\n    APIServer: http://127.0.0.1:${port}\n    AuthEnabled: false\nCurrentControlPlane: bench\n`);
    // As users run it: from the bundle (built here when missing).
    if (!existsSync(join(repoRoot, 'dist/tptctl.js'))) spawnSync(process.execPath, [join(repoRoot, 'scripts/build-cli.ts')], { stdio: 'inherit' });
    const tptctl = join(repoRoot, 'bin/tptctl.js');
    const bare = medianMs(['-e', '0']);
    const cli = (args: string[]): string => {
      const ms = medianMs([tptctl, ...args], { THREEPORT_CONFIG: config });
      return `${ms.toFixed(0)} ms (${(ms / bare).toFixed(2)}× node)`;
    };
    lines.push(
      `  tptctl start (median of ${RUNS}): node -e 0 ${bare.toFixed(0)} ms; version --client ${cli(['version', '--client'])}; --help ${cli(['--help'])}; get workloads ${cli(['get', 'workloads'])}   (aim: ≤ 1.3× node)`,
    );

    const key = FieldCipher.generateKey();
    const allInOnePort = await freePort();
    const allInOneUrl = `http://127.0.0.1:${allInOnePort}`;
    const startAllInOne = () =>
      startThreeport('all-in-one', ['all-in-one', '--listen', `127.0.0.1:${allInOnePort}`, '--data-dir', join(work, 'data'), '--log-level', 'warn'], {}, /^/);
    let allInOne = await startAllInOne();
    await waitReady(allInOneUrl);
    lines.push(`  all-in-one at rest, empty PGlite data directory: ${await restingRss(allInOne)} MB RSS   (aim: ≤ 150 MB)`);

    // Workload definitions through the API, each reconciled by the all-in-one's own workload controller.
    const client = new ApiClient({ baseUrl: allInOneUrl, timeoutMs: 30_000 });
    let made = 0;
    const fill = async (total: number): Promise<number> => {
      const at = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (made < total) {
            made++;
            await client.kind('WorkloadDefinition').create({ Name: `footprint-${made}`, YAMLDocument: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: footprint\n' });
          }
        }),
      );
      return (performance.now() - at) / 1000;
    };
    const firstSeconds = await fill(OBJECTS_AFTER_LOAD);
    const reconciledSeconds = await drained(allInOneUrl);
    lines.push(
      `  all-in-one after ${OBJECTS_AFTER_LOAD.toLocaleString('en')} workload definitions (made in ${firstSeconds.toFixed(0)} s, all reconciled ${reconciledSeconds.toFixed(0)} s later), at rest: ${await restingRss(allInOne)} MB RSS   (aim: ≤ 250 MB)`,
    );
    const secondSeconds = await fill(OBJECTS_AT_RESTART);
    await allInOne.stop();
    const restartAt = performance.now();
    allInOne = await startAllInOne();
    await waitReady(allInOneUrl);
    const restartSeconds = (performance.now() - restartAt) / 1000;
    lines.push(
      `  all-in-one restarted with ${OBJECTS_AT_RESTART.toLocaleString('en')} (the rest made in ${secondSeconds.toFixed(0)} s): ready in ${restartSeconds.toFixed(1)} s (aim: < 5 s), then at rest ${await restingRss(allInOne)} MB RSS`,
    );
    lines.push(`  all-in-one at ${PACED_WRITES_PER_S} creates/s for ${PACED_SECONDS} s, each reconciled: ${await pacedWrites(client, allInOneUrl, () => `footprint-${++made}`)}`);
    await allInOne.stop();

    const testbed = await up({ dir: join(work, 'testbed'), clusters: 1, nodes: 1, aws: false });
    try {
      const databaseUrl = await createDatabase(testbed.postgres.url, 'footprint');
      const apiPort = await freePort();
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      const api = await startThreeport('api', ['server', '--listen', `127.0.0.1:${apiPort}`, '--database-url', databaseUrl, '--nats-url', testbed.nats.url, '--log-level', 'warn'], { THREEPORT_ENCRYPTION_KEY: key }, /^/);
      await waitReady(apiUrl);
      const controller = await startThreeport('controller', ['controller', 'all', '--api-url', apiUrl, '--nats-url', testbed.nats.url, '--log-level', 'info'], { THREEPORT_ENCRYPTION_KEY: key }, /"controllers running"/);
      const cluster = testbed.clusters[0]!;
      const agent = await startThreeport('agent', ['agent', '--api-url', apiUrl, '--kubeconfig', cluster.kubeconfigPath, '--context', cluster.context], {}, /"agent watching the cluster"/);
      const [apiRss, controllerRss, agentRss] = await Promise.all([restingRss(api), restingRss(controller), restingRss(agent)]);
      lines.push(`  threeport server on PostgreSQL at rest: ${apiRss} MB RSS; threeport controller (every group) at rest: ${controllerRss} MB RSS`);
      lines.push(`  threeport agent at rest, watching a simulated cluster: ${agentRss} MB RSS   (aim: ≤ 60 MB)`);
      await agent.stop();
      await controller.stop();
      await api.stop();
    } finally {
      await down(join(work, 'testbed'));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  process.stdout.write([`bench:footprint — ${cpus().length} cores, load ${load}`, ...lines, ''].join('\n'));
}

await runBench('bench:footprint', main);
