/** What the benchmarks share: threeport processes started from this checkout, their memory, waiting on conditions, test-bed clusters. */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesClient } from '../../src/platform/kubernetes/index.ts';
import { KubernetesTransport } from '../../src/platform/kubernetes/transport.ts';
import type { ClusterDescription } from '../../src/testbed/description.ts';

const repoRoot = new URL('../../', import.meta.url).pathname;

export interface Process {
  name: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startThreeport(name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Process> {
  // BENCH_PROFILE=controller (or api, agent-a…) writes a CPU profile of that process into /tmp/threeport-profiles.
  const profile = process.env.BENCH_PROFILE === name ? ['--cpu-prof', '--cpu-prof-dir=/tmp/threeport-profiles'] : [];
  // BENCH_HEAP=controller (…) writes a heap snapshot of that process into /tmp/threeport-profiles once all are Healthy.
  if (process.env.BENCH_HEAP === name) profile.push('--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir=/tmp/threeport-profiles');
  const child = spawn(process.execPath, [...profile, join(repoRoot, 'bin/threeport.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output = (output + chunk).slice(-200_000)));
  child.stderr.on('data', (chunk) => (output = (output + chunk).slice(-200_000)));
  if (process.env.BENCH_TRACE && (name === 'controller' || name === 'api')) child.stderr.on('data', (chunk) => appendFileSync(`/tmp/${name}-trace.log`, chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const process_: Process = {
    name,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(forced);
    },
  };
  return (async () => {
    const deadline = Date.now() + 60_000;
    while (!ready.test(output)) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output.slice(-2000)}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${name} not ready within 60 s:\n${output.slice(-2000)}`);
      }
      await sleep(50);
    }
    return process_;
  })();
}

export const rssMb = (pid: number | undefined): number => {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
};

export async function kubeOf(cluster: ClusterDescription): Promise<KubernetesClient> {
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  config.setCurrentContext(cluster.context);
  return new KubernetesClient(await KubernetesTransport.fromKubeConfig(config));
}

export async function waitReady(url: string): Promise<void> {
  await until('the API ready', async () => fetch(`${url}/readyz`).then((response) => response.ok, () => false), 60_000, 100);
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}


/** CPU seconds used so far by each kind of process on the machine (threeport's and the clusters'), by command. */
export function cpuSeconds(): Map<string, number> {
  const ticks = 100; // USER_HZ
  const totals = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const name = command.some((arg) => arg.endsWith('bin/threeport.js'))
        ? `threeport ${command[command.findIndex((arg) => arg.endsWith('threeport.js')) + 1]}`
        : (command[0] ?? '').split('/').pop() ?? '';
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticks;
      totals.set(name, (totals.get(name) ?? 0) + seconds);
    } catch {
      // gone meanwhile
    }
  }
  return totals;
}

export const cpuLine = (before: Map<string, number>, after: Map<string, number>): string =>
  [...after]
    .map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)] as const)
    .filter(([, seconds]) => seconds >= 1)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(0)}`)
    .join(', ');

/** A metric from a process's /metrics, summed over its series whose labels include every one of `labels` (e.g. 'result="success"'). */
export async function metricSum(metricsUrl: string, metric: string, labels: readonly string[] = []): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric}{`) && labels.every((label) => line.includes(label))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** The API's request count so far (threeport_api_requests_total, summed). */
export const apiRequests = (apiUrl: string): Promise<number> => metricSum(apiUrl, 'threeport_api_requests_total');

/** A histogram's cumulative bucket counts (upper bound → count) summed over the series matching `filter`. */
export async function histogramBuckets(metricsUrl: string, metric: string, filter: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`) || !line.includes(filter)) continue;
    const bound = /le="([^"]+)"/.exec(line)?.[1];
    const le = bound === '+Inf' ? Infinity : Number(bound);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** The bucket bound holding quantile `q` of what was observed after `since` (a histogramBuckets result), e.g. "≤ 100 ms". */
export function quantileOf(buckets: Map<number, number>, q: number, since: Map<number, number> = new Map()): string {
  const sorted = [...buckets].map(([le, count]) => [le, count - (since.get(le) ?? 0)] as const).sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  const bound = sorted.find(([, count]) => count >= q * total)?.[0];
  return bound === undefined || total === 0 ? 'n/a' : bound === Infinity ? '> max bucket' : `≤ ${bound * 1000} ms`;
}

/** A quantile of a Prometheus histogram (the bucket bound it falls in), from a process's /metrics. */
export async function histogramQuantile(metricsUrl: string, metric: string, filter: string, q: number): Promise<string> {
  return quantileOf(await histogramBuckets(metricsUrl, metric, filter), q);
}
