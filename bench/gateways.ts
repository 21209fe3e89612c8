/**
 * `npm run bench:gateways`: Helm workloads and support services on a real (simulated) cluster,
 * with `threeport all-in-one` as `tptctl up` runs it, the real helm and the real charts (the shared
 * chart repository served on loopback as the one chart mirror), moto as Route53. Prints:
 *   - a gateway (80 → 443, TLS, a domain) created on a fresh runtime: the time until each support
 *     service is installed (Envoy Gateway, cert-manager, external-dns) and its routes are in the
 *     cluster;
 *   - a Helm workload instance (a real chart) created → Healthy, BENCH_HELM_RUNS times, beside plain
 *     `helm install --wait` of the same chart and values: threeport's overhead per install;
 *   - helm's wall time, CPU and peak memory per install or upgrade threeport ran.
 *
 * BENCH_HELM_RUNS (default 5), BENCH_CHART (default memcached: a Bitnami chart of the shared repository).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiClient } from '../src/client/api-client.ts';
import { readClusterConnection } from '../src/cli/providers/local-runtime.ts';
import { freePort } from '../src/local-runtime/ports.ts';
import { run } from '../src/local-runtime/run-command.ts';
import { KubernetesClient } from '../src/platform/kubernetes/index.ts';
import { KubernetesTransport } from '../src/platform/kubernetes/transport.ts';
import { serveDirectory, sharedChartsDir } from '../src/testbed/chart-server.ts';
import { down, up } from '../src/testbed/testbed.ts';

const RUNS = Number(process.env.BENCH_HELM_RUNS ?? 5);
const CHART = process.env.BENCH_CHART ?? 'memcached';
const repoRoot = new URL('../', import.meta.url).pathname;

const webApp = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: nginx:1.27 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
`;

async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A helm that records each run's wall time, CPU and peak memory (GNU time) before doing what it was asked. */
function recordingHelm(dir: string, helm: string): { path: string; log: string } {
  const log = join(dir, 'helm-runs.log');
  const path = join(dir, 'helm');
  writeFileSync(path, `#!/bin/sh\nexec /usr/bin/time -a -o '${log}' -f "%C|%e|%U|%S|%M" '${helm}' "$@"\n`);
  chmodSync(path, 0o755);
  return { path, log };
}

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/time')) throw new Error('this benchmark measures helm with GNU time (/usr/bin/time): apt-get install time');
  const work = mkdtempSync(join(tmpdir(), 'threeport-bench-gateways-'));
  const testbed = await up({ dir: join(work, 'testbed'), clusters: 1, nodes: 4 });
  const charts = await serveDirectory(sharedChartsDir());
  let plane: ChildProcess | undefined;
  try {
    const cluster = testbed.clusters[0]!;
    const aws = testbed.aws!;
    const helm = recordingHelm(work, testbed.helm);
    const port = await freePort();
    plane = spawn(process.execPath, [join(repoRoot, 'bin/threeport.js'), 'all-in-one', '--listen', `127.0.0.1:${port}`, '--data-dir', join(work, 'data'), '--log-level', 'warn'], {
      env: {
        ...process.env,
        THREEPORT_HELM: helm.path,
        THREEPORT_CHART_MIRROR: charts.url,
        THREEPORT_CERTIFICATE_ISSUER: 'self-signed',
        AWS_ENDPOINT_URL: aws.endpoint,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` });
    await waitUntil('the control plane answering', () => fetch(`http://127.0.0.1:${port}/version`).then((response) => response.ok, () => false), 60_000);

    const { context: _context, ...connection } = readClusterConnection(cluster.kubeconfigPath, cluster.context);
    const runtimeDefinition = await client.kind('KubernetesRuntimeDefinition').create({ Name: 'bench', InfraProvider: 'kind' });
    const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: 'bench', Location: 'Local', KubernetesRuntimeDefinitionID: runtimeDefinition.ID, ...connection });
    await waitUntil('runtime Ready', async () => String((await client.kind('KubernetesRuntimeInstance').get(runtime.ID)).Status ?? '').startsWith('Ready'));
    await client.kind('AwsAccount').create({ Name: 'bench', AccountID: '123456789012', DefaultAccount: true, DefaultRegion: aws.region, AccessKeyID: aws.credentials.accessKeyId, SecretAccessKey: aws.credentials.secretAccessKey });
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfigPath);
    config.setCurrentContext(cluster.context);
    const kube = new KubernetesClient(await KubernetesTransport.fromKubeConfig(config));

    // A gateway on a fresh runtime: every support service, then its routes.
    const workloadDefinition = await client.kind('WorkloadDefinition').create({ Name: 'web', YAMLDocument: webApp });
    const workload = await client.kind('WorkloadInstance').create({ Name: 'web', WorkloadDefinitionID: workloadDefinition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await waitUntil('workload Healthy', async () => String((await client.kind('WorkloadInstance').get(workload.ID)).Status ?? '').startsWith('Healthy'));
    const domain = await client.kind('DomainNameDefinition').create({ Name: 'shop', Domain: 'shop.example.com', Zone: 'Public', AdminEmail: 'ops@example.com' });
    const started = Date.now();
    await client.kind('DomainNameInstance').create({ Name: 'web-dns', DomainNameDefinitionID: domain.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const gatewayDefinition = await client.kind('GatewayDefinition').create({ Name: 'web', HttpPorts: [{ Port: 80, HTTPSRedirect: true }, { Port: 443, TLSEnabled: true }], DomainNameDefinitionID: domain.ID, SubDomain: 'www' });
    const gateway = await client.kind('GatewayInstance').create({ Name: 'web', GatewayDefinitionID: gatewayDefinition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const installed = new Map<string, number>();
    await waitUntil('every support service installed', async () => {
      for (const instance of await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })) {
        if (!installed.has(String(instance.ReleaseNamespace)) && instance.Reconciled === true && instance.ObservedGeneration === instance.Generation) installed.set(String(instance.ReleaseNamespace), Date.now() - started);
      }
      return installed.size === 3;
    });
    const routed = await waitUntil('routes in the cluster', async () => {
      const routes = await kube.list('gateway.networking.k8s.io/v1', 'HTTPRoute', { labelSelector: `control-plane.threeport.io/gateway-instance=${gateway.ID}` }).catch(() => ({ items: [] }));
      return routes.items.length === 2 ? Date.now() - started : undefined;
    });
    console.log(`gateway on a fresh runtime: ${[...installed].map(([namespace, ms]) => `${namespace} installed at ${seconds(ms)}`).join(', ')}; routes in place at ${seconds(routed)}`);

    // A Helm workload instance to Healthy, beside plain helm install --wait.
    const values = 'resourcesPreset: none\n';
    const helmDefinition = await client.kind('HelmWorkloadDefinition').create({ Name: CHART, Repo: charts.url, Chart: CHART, ValuesDocument: values });
    const threeportTimes: number[] = [];
    for (let runIndex = 0; runIndex < RUNS; runIndex++) {
      const began = Date.now();
      const instance = await client.kind('HelmWorkloadInstance').create({ Name: `${CHART}-${runIndex}`, HelmWorkloadDefinitionID: helmDefinition.ID, KubernetesRuntimeInstanceID: runtime.ID });
      await waitUntil(`${CHART}-${runIndex} Healthy`, async () => String((await client.kind('HelmWorkloadInstance').get(instance.ID)).Status ?? '').startsWith('Healthy'));
      threeportTimes.push(Date.now() - began);
      await client.kind('HelmWorkloadInstance').delete(instance.ID);
      await waitUntil(`${CHART}-${runIndex} gone`, async () => (await client.kind('HelmWorkloadInstance').findByName(`${CHART}-${runIndex}`)) === undefined);
    }
    const plainTimes: number[] = [];
    const valuesFile = join(work, 'values.yaml');
    writeFileSync(valuesFile, values);
    const helmEnv = { ...process.env, HELM_CONFIG_HOME: join(work, 'plain-helm', 'config'), HELM_CACHE_HOME: join(work, 'plain-helm', 'cache'), HELM_DATA_HOME: join(work, 'plain-helm', 'data') };
    for (let runIndex = 0; runIndex < RUNS; runIndex++) {
      const access = ['--kubeconfig', cluster.kubeconfigPath, '--kube-context', cluster.context, '--namespace', `plain-${runIndex}`];
      const began = Date.now();
      await run(testbed.helm, ['install', `plain-${runIndex}`, CHART, '--repo', charts.url, '--values', valuesFile, '--create-namespace', '--wait', '--timeout', '300s', ...access], { env: helmEnv });
      plainTimes.push(Date.now() - began);
      await run(testbed.helm, ['uninstall', `plain-${runIndex}`, '--wait', ...access], { env: helmEnv });
    }
    console.log(`helm workload instance created → Healthy (${CHART}, ${RUNS} runs): median ${seconds(median(threeportTimes))} [${threeportTimes.map(seconds).join(', ')}]`);
    console.log(`plain helm install --wait (same chart and values):  median ${seconds(median(plainTimes))} [${plainTimes.map(seconds).join(', ')}]`);
    console.log(`threeport's overhead per install: ${seconds(median(threeportTimes) - median(plainTimes))} (aim: under 1 s)`);

    const installs = readFileSync(helm.log, 'utf8')
      .split('\n')
      .map((line) => line.split('|'))
      .filter((fields) => fields.length === 5 && / upgrade /.test(` ${fields[0]} `));
    for (const [command, wall, user, system, maxKb] of installs) {
      const release = / upgrade (\S+)/.exec(command!)?.[1];
      console.log(`helm upgrade --install ${release}: ${Number(wall).toFixed(1)} s wall, ${(Number(user) + Number(system)).toFixed(1)} s CPU, ${Math.round(Number(maxKb) / 1024)} MB peak RSS`);
    }
  } finally {
    plane?.kill('SIGTERM');
    await charts.close();
    await down(join(work, 'testbed')).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
