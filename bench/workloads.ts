/**
 * `npm run bench:workloads`: threeport deploying workloads to real (simulated) clusters.
 *
 * 1,000 workload instances (a Deployment, a Service and a ConfigMap each), created at 20/s across
 * two kwok clusters of a private test bed (enough simulated nodes for every pod), with threeport
 * in its production wiring: `threeport server` on PostgreSQL and NATS, `threeport controller
 * workload kubernetes-runtime`, and one `threeport agent` process per cluster. Prints:
 *   - time from the first create until every instance is Healthy;
 *   - create → applied in the cluster (its Deployment seen by a watch), p50/p99;
 *   - RSS of the controller, the agents and the API at the end;
 *   - kube-apiserver requests per instance (apiserver_request_total, both clusters);
 *   - after restarting every threeport process: the time until every instance was re-verified,
 *     and how many managed objects that changed (must be 0) — no re-apply that changes anything.
 *
 * BENCH_INSTANCES (default 1000), BENCH_RATE (creates/s, default 20), BENCH_NODES (per cluster).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../src/client/api-client.ts';
import { readClusterConnection } from '../src/cli/providers/local-runtime.ts';
import { FieldCipher } from '../src/crypto/field-cipher.ts';
import { freePort } from '../src/local-runtime/ports.ts';
import { silentLogger } from '../src/log.ts';
import type { Manifest } from '../src/model/manifest.ts';
import { KubernetesClient, Reflector } from '../src/platform/kubernetes/index.ts';
import { createDatabase } from '../src/testbed/peers/postgres.ts';
import { down, up } from '../src/testbed/testbed.ts';
import { webWithService } from './support/manifests.ts';
import { cpuLine, cpuSeconds, histogramQuantile, kubeOf, metricSum, rssMb, startThreeport, until, waitReady, type Process } from './support/processes.ts';
import { runBench } from './support/plane.ts';

const COUNT = Number(process.env.BENCH_INSTANCES ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const NODES = Number(process.env.BENCH_NODES ?? Math.max(2, Math.ceil(COUNT / 2 / 100) + 1));
const repoRoot = new URL('../', import.meta.url).pathname;
const INSTANCE_LABEL = 'control-plane.threeport.io/workload-instance';
const CONTROL_PLANE_LABEL = 'control-plane.threeport.io/control-plane-id';

const manifests = `${webWithService('nginx:1.27')}---
apiVersion: v1
kind: ConfigMap
metadata: { name: web-settings }
data: { greeting: hello }
`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The API server's request count so far (apiserver_request_total, summed). */
async function apiserverRequests(kube: KubernetesClient): Promise<number> {
  const text = await kube.transport.requestText('GET', '/metrics');
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** resourceVersion of every object this control plane made, by kind/namespace/name. */
async function managedVersions(kubes: KubernetesClient[], controlPlaneId: string): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for (const [index, kube] of kubes.entries()) {
    for (const [apiVersion, kind] of [['apps/v1', 'Deployment'], ['v1', 'Service'], ['v1', 'ConfigMap'], ['v1', 'Namespace']] as const) {
      for (const item of (await kube.list(apiVersion, kind, { labelSelector: `${CONTROL_PLANE_LABEL}=${controlPlaneId}` })).items) {
        versions.set(`${index}/${kind}/${item.metadata.namespace ?? ''}/${item.metadata.name}`, String(item.metadata.resourceVersion));
      }
    }
  }
  return versions;
}

async function countHealthy(client: ApiClient): Promise<number> {
  let healthy = 0;
  for await (const page of client.kind('WorkloadInstance').pages()) healthy += page.filter((instance) => String(instance.Status ?? '').startsWith('Healthy')).length;
  return healthy;
}

/** Signals `target` to write a heap snapshot and waits until it is written. */
async function heapSnapshot(target: Process | undefined): Promise<void> {
  if (!target?.child.pid) throw new Error(`BENCH_HEAP=${process.env.BENCH_HEAP}: no such process (api, controller, agent-<cluster>)`);
  const directory = '/tmp/threeport-profiles';
  const before = new Set(existsSync(directory) ? readdirSync(directory) : []);
  target.child.kill('SIGUSR2');
  await until('heap snapshot written', async () => {
    const written = readdirSync(directory).filter((file) => file.endsWith('.heapsnapshot') && !before.has(file));
    if (written.length === 0) return false;
    const size = statSync(join(directory, written[0]!)).size;
    await sleep(1000);
    const done = size > 0 && statSync(join(directory, written[0]!)).size === size;
    if (done) process.stderr.write(`\nheap snapshot: ${join(directory, written[0]!)}\n`);
    return done;
  }, 120_000, 500);
}

/** The controller's V8 heap in use and in total, and memory outside it (Buffers), in MB. */
async function heapOf(metricsUrl: string): Promise<string> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const value = (name: string): string => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line ? (Number(line.slice(line.lastIndexOf(' ') + 1)) / 1024 / 1024).toFixed(0) : '?';
  };
  return `heap ${value('nodejs_heap_size_used_bytes')} of ${value('nodejs_heap_size_total_bytes')} MB, external ${value('nodejs_external_memory_bytes')} MB`;
}

/** The controller's WorkloadInstance reconciles by result (success, skipped, requeue, error…). */
async function reconcilesByResult(metricsUrl: string): Promise<string> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const counts: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('threeport_controller_reconciles_total{') || !line.includes('reconciler="WorkloadInstanceReconciler"')) continue;
    counts.push(`${/result="([^"]+)"/.exec(line)?.[1]} ${line.slice(line.lastIndexOf(' ') + 1)}`);
  }
  return counts.join(', ');
}

/** Successful WorkloadInstance reconciles the controller counted since it started. */
const reconcilesDone = (metricsUrl: string): Promise<number> =>
  metricSum(metricsUrl, 'threeport_controller_reconciles_total', ['reconciler="WorkloadInstanceReconciler"', 'result="success"']);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'threeport-bench-workloads-'));
  process.stderr.write(`bench:workloads: ${COUNT} instances at ${RATE}/s; a private test bed with 2 clusters × ${NODES} nodes in ${dir}\n`);
  const testbed = await up({ dir, clusters: 2, nodes: NODES, aws: false });
  const processes: Process[] = [];
  const startAll = async (): Promise<{ api: Process; controller: Process; agents: Process[]; metricsUrl: string }> => {
    const started = (process_: Process): Process => {
      processes.push(process_);
      return process_;
    };
    const api = started(await startThreeport('api', ['server', '--listen', `127.0.0.1:${apiPort}`, '--database-url', databaseUrl, '--nats-url', testbed.nats.url, '--log-level', process.env.BENCH_TRACE ? 'info' : 'warn'], { THREEPORT_ENCRYPTION_KEY: key }, /listening|^/));
    await waitReady(apiUrl);
    const metricsPort = await freePort();
    const controller = started(await startThreeport(
      'controller',
      ['controller', 'workload', 'kubernetes-runtime', '--api-url', apiUrl, '--nats-url', testbed.nats.url, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--concurrency', process.env.BENCH_CONCURRENCY ?? '16', '--log-level', 'info'],
      { THREEPORT_ENCRYPTION_KEY: key, ...(process.env.BENCH_TRACE && { TRACE_CALLS: '1' }) },
      /"controllers running"/,
    ));
    const agents = [];
    for (const cluster of testbed.clusters) {
      agents.push(started(await startThreeport(`agent-${cluster.name}`, ['agent', '--api-url', apiUrl, '--kubeconfig', cluster.kubeconfigPath, '--context', cluster.context], {}, /"agent watching the cluster"/)));
    }
    return { api, controller, agents, metricsUrl: `http://127.0.0.1:${metricsPort}` };
  };
  const databaseUrl = await createDatabase(testbed.postgres.url, 'bench');
  const key = FieldCipher.generateKey();
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const client = new ApiClient({ baseUrl: apiUrl, timeoutMs: 60_000 });
  const kubes = await Promise.all(testbed.clusters.map(kubeOf));
  const reflectorStop = new AbortController();
  try {
    let running = await startAll();
    const { controlPlaneId } = await client.info();
    const runtimes: number[] = [];
    for (const cluster of testbed.clusters) {
      const { context: _context, ...connection } = readClusterConnection(cluster.kubeconfigPath, cluster.context);
      const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: `bench-${cluster.name}`, InfraProvider: 'kind' });
      const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: `bench-${cluster.name}`, Location: 'Local', KubernetesRuntimeDefinitionID: definition.ID, AgentLocation: 'External', ...connection });
      runtimes.push(runtime.ID);
    }
    for (const id of runtimes) await until(`runtime ${id} Ready`, async () => String((await client.kind('KubernetesRuntimeInstance').get(id)).Status).startsWith('Ready'), 60_000);
    const definition = await client.kind('WorkloadDefinition').create({ Name: 'bench-web', YAMLDocument: manifests });
    await until('definition reconciled', async () => (await client.kind('WorkloadDefinition').get(definition.ID)).Reconciled === true, 60_000);

    // When each instance's Deployment (applied last) first appears in its cluster.
    const appliedAt = new Map<number, number>();
    for (const kube of kubes) {
      const reflector = new Reflector(kube, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        labelSelector: `${CONTROL_PLANE_LABEL}=${controlPlaneId}`,
        logger: silentLogger(),
        onEvent: (type, object: Manifest) => {
          const id = Number(object.metadata.labels?.[INSTANCE_LABEL]);
          if (type === 'ADDED' && id && !appliedAt.has(id)) appliedAt.set(id, Date.now());
        },
      });
      void reflector.run(reflectorStop.signal);
    }
    const requestsBefore = (await Promise.all(kubes.map(apiserverRequests))).reduce((a, b) => a + b, 0);

    process.stderr.write(`creating ${COUNT} instances at ${RATE}/s…\n`);
    const cpuBefore = cpuSeconds();
    const createdAt = new Map<number, number>();
    const started = Date.now();
    const creates: Promise<void>[] = [];
    for (let index = 0; index < COUNT; index++) {
      const due = started + (index * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      creates.push(
        client
          .kind('WorkloadInstance')
          .create({ Name: `bench-${index}`, WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimes[index % runtimes.length]! })
          .then((instance) => void createdAt.set(instance.ID, Date.now())),
      );
    }
    await Promise.all(creates);
    const createdIn = (Date.now() - started) / 1000;
    let healthy = 0;
    await until(`all ${COUNT} Healthy`, async () => {
      healthy = await countHealthy(client);
      process.stderr.write(`\r  ${healthy}/${COUNT} Healthy after ${((Date.now() - started) / 1000).toFixed(0)} s `);
      return healthy >= COUNT;
    }, 30 * 60_000, 1000);
    const allHealthyIn = (Date.now() - started) / 1000;
    const cpuUsed = cpuLine(cpuBefore, cpuSeconds());
    const results = await reconcilesByResult(running.metricsUrl);
    const controllerHeap = await heapOf(running.metricsUrl);
    if (process.env.BENCH_HEAP) await heapSnapshot([running.api, running.controller, ...running.agents].find((candidate) => candidate.name === process.env.BENCH_HEAP));
    const filter = 'reconciler="WorkloadInstanceReconciler"';
    const queue = { p50: await histogramQuantile(running.metricsUrl, 'threeport_controller_notification_latency_seconds', filter, 0.5), p99: await histogramQuantile(running.metricsUrl, 'threeport_controller_notification_latency_seconds', filter, 0.99) };
    const reconcile = { p50: await histogramQuantile(running.metricsUrl, 'threeport_controller_reconcile_duration_seconds', filter, 0.5), p99: await histogramQuantile(running.metricsUrl, 'threeport_controller_reconcile_duration_seconds', filter, 0.99) };
    process.stderr.write('\n');
    const requestsAfter = (await Promise.all(kubes.map(apiserverRequests))).reduce((a, b) => a + b, 0);
    const latencies = [...createdAt].map(([id, at]) => (appliedAt.get(id) ?? Number.NaN) - at).filter((ms) => Number.isFinite(ms));
    const rss = {
      controller: rssMb(running.controller.child.pid),
      agents: running.agents.map((agent) => rssMb(agent.child.pid)),
      api: rssMb(running.api.child.pid),
    };

    // Restart every threeport process: everything must be re-verified, nothing changed.
    process.stderr.write('restarting every threeport process…\n');
    const before = await managedVersions(kubes, controlPlaneId!);
    for (const process_ of [...running.agents, running.controller, running.api]) await process_.stop();
    processes.length = 0;
    const restarted = Date.now();
    running = await startAll();
    await until(`all ${COUNT} re-verified`, async () => (await reconcilesDone(running.metricsUrl)) >= COUNT, 10 * 60_000, 500);
    const reverifiedIn = (Date.now() - restarted) / 1000;
    const after = await managedVersions(kubes, controlPlaneId!);
    const changed = [...before].filter(([key, version]) => after.get(key) !== version).length;
    const corrected = (await client.kind('Event').list({ reason: 'DriftCorrected' })).total;

    const lines = [
      '',
      `machine: ${cpus().length} cores, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      '',
      `# Workloads (${new Date().toISOString().slice(0, 10)}; ${COUNT} instances of Deployment + Service + ConfigMap, 2 kwok clusters × ${NODES} nodes; API on PostgreSQL + NATS, 1 controller, 1 agent per cluster)`,
      '',
      '| measure | ours | aim |',
      '|---|---|---|',
      `| first create → all ${COUNT} Healthy | ${allHealthyIn.toFixed(1)} s (creates took ${createdIn.toFixed(1)} s at ${RATE}/s) | ≤ 120 s |`,
      `| create → applied in the cluster, at ${RATE} creates/s | p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${latencies.length} measured) | p99 < 2 s |`,
      `| RSS at the end | controller ${rss.controller} MB (${controllerHeap}), agents ${rss.agents.join(' / ')} MB, API ${rss.api} MB | controller < 300 MB |`,
      `| in the controller: notification → reconcile start; reconcile duration | p50 ${queue.p50}, p99 ${queue.p99}; p50 ${reconcile.p50}, p99 ${reconcile.p99} | |`,
      `| WorkloadInstance reconciles by result | ${results} | |`,
      `| CPU seconds until all Healthy, by process | ${cpuUsed} | |`,
      `| kube-apiserver requests per instance | ${((requestsAfter - requestsBefore) / COUNT).toFixed(1)} (all clients: threeport, kube-controller-manager, scheduler, kwok) | |`,
      `| restart of every threeport process → all re-verified | ${reverifiedIn.toFixed(1)} s; objects changed: ${changed} of ${before.size}; DriftCorrected events: ${corrected} | ≤ 60 s, 0 changes |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    reflectorStop.abort();
    for (const process_ of processes) await process_.stop().catch(() => undefined);
    for (const kube of kubes) kube.transport.close();
    if (!process.env.BENCH_KEEP) {
      await down(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

await runBench('bench:workloads', main);
