/**
 * `npm run bench:footprint`: what a user feels before any load (issue 17's starting figures).
 *
 *   - tptctl start: median wall time of `version --client`, `--help` and `get workloads` (against a
 *     port nothing listens on: all the work before the network), beside bare `node -e 0`;
 *   - RSS at rest of `threeport all-in-one` on an empty PGlite data directory (what
 *     `scripts/run.sh start` and `tptctl up` run), of `threeport server` on PostgreSQL, and of a
 *     `threeport controller` process, each 20 s after it is ready.
 *
 * BENCH_RUNS (default 15) runs per CLI command; BENCH_SETTLE_MS (default 20000) before reading RSS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FieldCipher } from '../src/crypto/field-cipher.ts';
import { freePort } from '../src/local-runtime/ports.ts';
import { createDatabase } from '../src/testbed/peers/postgres.ts';
import { down, up } from '../src/testbed/testbed.ts';
import { rssMb, startThreeport, waitReady, type Process } from './support/processes.ts';
import { runBench } from './support/plane.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 20_000);
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
    const allInOne = await startThreeport('all-in-one', ['all-in-one', '--listen', `127.0.0.1:${allInOnePort}`, '--data-dir', join(work, 'data'), '--log-level', 'warn'], {}, /^/);
    await waitReady(`http://127.0.0.1:${allInOnePort}`);
    lines.push(`  all-in-one at rest, empty PGlite data directory: ${await restingRss(allInOne)} MB RSS   (aim: ≤ 150 MB)`);
    await allInOne.stop();

    const testbed = await up({ dir: join(work, 'testbed'), clusters: 0, aws: false });
    try {
      const databaseUrl = await createDatabase(testbed.postgres.url, 'footprint');
      const apiPort = await freePort();
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      const api = await startThreeport('api', ['server', '--listen', `127.0.0.1:${apiPort}`, '--database-url', databaseUrl, '--nats-url', testbed.nats.url, '--log-level', 'warn'], { THREEPORT_ENCRYPTION_KEY: key }, /^/);
      await waitReady(apiUrl);
      const controller = await startThreeport('controller', ['controller', 'all', '--api-url', apiUrl, '--nats-url', testbed.nats.url, '--log-level', 'info'], { THREEPORT_ENCRYPTION_KEY: key }, /"controllers running"/);
      const [apiRss, controllerRss] = await Promise.all([restingRss(api), restingRss(controller)]);
      lines.push(`  threeport server on PostgreSQL at rest: ${apiRss} MB RSS; threeport controller (every group) at rest: ${controllerRss} MB RSS`);
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
