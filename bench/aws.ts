/**
 * `npm run bench:aws`: the AWS controller against moto, through a proxy that counts every AWS call
 * and adds AWS's round trip to each (BENCH_AWS_LATENCY_MS, default 40). The API and the workload,
 * kubernetes-runtime and AWS controllers run in this process on PGlite, as `tptctl up` runs them,
 * with their production settings. Prints:
 *   - one EKS runtime (the whole stack) provisioned, and removed: time and AWS calls by service;
 *   - ten managed services of one workload at once (BENCH_DATABASES RDS databases and the rest S3
 *     buckets), until all are available and wired in, and removed: time and AWS calls;
 *   - the workload controller's re-verification rate (BENCH_WORKLOADS instances on a simulated
 *     cluster, re-verified every 10 s) with nothing else going on, and while the AWS work runs:
 *     AWS work must not hold up the workload controller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../src/client/api-client.ts';
import { readClusterConnection } from '../src/cli/providers/local-runtime.ts';
import { startApiServer } from '../src/control-plane/api-server.ts';
import { ControllerManager } from '../src/controller/manager.ts';
import { partsOfGroups } from '../src/controllers/catalog.ts';
import { FieldCipher } from '../src/crypto/field-cipher.ts';
import { silentLogger } from '../src/log.ts';
import { awsProxy } from '../src/testbed/aws-proxy.ts';
import { down, up } from '../src/testbed/testbed.ts';

const LATENCY_MS = Number(process.env.BENCH_AWS_LATENCY_MS ?? 40);
const SERVICES = 10;
const DATABASES = Number(process.env.BENCH_DATABASES ?? 5);
const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 100);
const DRIFT_INTERVAL_MS = 10_000;

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

const app = (name: string) => `apiVersion: v1
kind: ServiceAccount
metadata: { name: ${name} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      serviceAccountName: ${name}
      containers: [{ name: app, image: nginx:1.27 }]
`;

/** Calls since `from`, by service, and in all. */
function callSummary(calls: readonly string[], from: number): string {
  const window = calls.slice(from);
  const byService = new Map<string, number>();
  for (const call of window) byService.set(call.split(':')[0]!, (byService.get(call.split(':')[0]!) ?? 0) + 1);
  return `${window.length} AWS calls (${[...byService].sort(([a], [b]) => a.localeCompare(b)).map(([service, count]) => `${service} ${count}`).join(', ')})`;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'threeport-bench-aws-'));
  const testbed = await up({ dir: join(work, 'testbed'), clusters: 1, nodes: 4 });
  const aws = testbed.aws!;
  const proxy = await awsProxy(aws.endpoint, { latencyMs: LATENCY_MS });
  process.env.AWS_ENDPOINT_URL = proxy.url;
  const encryptionKey = FieldCipher.generateKey();
  const server = await startApiServer({ host: '127.0.0.1', port: 0, dataDir: join(work, 'data'), encryptionKey, logLevel: 'silent', bodyLimit: 4 * 1024 * 1024, workers: 1 }, silentLogger());
  const { reconcilers, runnables } = partsOfGroups(['workload', 'kubernetes-runtime', 'aws'], { apiUrl: server.url, driftIntervalMs: DRIFT_INTERVAL_MS });
  const manager = new ControllerManager({ bus: server.bus, client: new ApiClient({ baseUrl: server.url }), reconcilers, runnables, logger: silentLogger(), cipher: FieldCipher.fromBase64(encryptionKey) });
  await manager.start();
  const client = new ApiClient({ baseUrl: server.url });
  const status = async (kind: string, id: number) => String((await client.kind(kind).get(id)).Status ?? '');
  const workloadReconciles = async (): Promise<number> =>
    (await manager.metrics.reconciles.get()).values.filter((value) => value.labels.reconciler === 'WorkloadInstanceReconciler').reduce((sum, value) => sum + value.value, 0);
  const results: [string, string][] = [];
  try {
    const cluster = testbed.clusters[0]!;
    const { context: _context, ...connection } = readClusterConnection(cluster.kubeconfigPath, cluster.context);

    // Background work for the workload controller: instances on a simulated cluster, re-verified every 10 s.
    const kindDefinition = await client.kind('KubernetesRuntimeDefinition').create({ Name: 'simulated', InfraProvider: 'kind' });
    const simulated = await client.kind('KubernetesRuntimeInstance').create({ Name: 'simulated', Location: 'Local', KubernetesRuntimeDefinitionID: kindDefinition.ID, ...connection });
    const definition = await client.kind('WorkloadDefinition').create({ Name: 'background', YAMLDocument: app('background') });
    const instances = [];
    for (let index = 0; index < WORKLOADS; index++) instances.push(await client.kind('WorkloadInstance').create({ Name: `background-${index}`, WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: simulated.ID }));
    await waitUntil('background workloads Healthy', async () => (await client.kind('WorkloadInstance').listAll({ kubernetesruntimeinstanceid: simulated.ID })).every((instance) => String(instance.Status).startsWith('Healthy')));
    const rate = async (during: () => Promise<void>): Promise<{ seconds: number; perSecond: number }> => {
      const [start, count] = [Date.now(), await workloadReconciles()];
      await during();
      const seconds = (Date.now() - start) / 1000;
      return { seconds, perSecond: ((await workloadReconciles()) - count) / seconds };
    };
    const idle = await rate(() => sleep(3 * DRIFT_INTERVAL_MS));
    results.push(['workload re-verifications, nothing else running', `${idle.perSecond.toFixed(1)}/s over ${idle.seconds.toFixed(0)} s (${WORKLOADS} instances every ${DRIFT_INTERVAL_MS / 1000} s)`]);

    const account = await client.kind('AwsAccount').create({ Name: 'bench', AccountID: '123456789012', DefaultAccount: true, DefaultRegion: aws.region, AccessKeyID: aws.credentials.accessKeyId, SecretAccessKey: aws.credentials.secretAccessKey });
    await waitUntil('account verified', async () => (await status('AwsAccount', account.ID)).startsWith('Verified'));

    let from = proxy.calls.length;
    let started = Date.now();
    const eksDefinition = await client.kind('KubernetesRuntimeDefinition').create({ Name: 'eks', InfraProvider: 'eks' });
    const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: 'eks', Location: 'NorthAmerica:NewYork', KubernetesRuntimeDefinitionID: eksDefinition.ID, ForceDelete: true });
    let eksId = 0;
    const provisioning = await rate(async () => {
      await waitUntil('EKS instance made', async () => Boolean((eksId = (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID }))[0]?.ID ?? 0)));
      await waitUntil('EKS runtime Ready', async () => (await status('AwsEksKubernetesRuntimeInstance', eksId)).startsWith('Ready'));
    });
    results.push(['EKS runtime provisioned (23 resources)', `${((Date.now() - started) / 1000).toFixed(1)} s, ${callSummary(proxy.calls, from)}`]);

    // moto's cluster cannot be reached: the workload goes to the simulated cluster through this runtime.
    await client.kind('KubernetesRuntimeInstance').update(runtime.ID, connection);
    await waitUntil('EKS runtime connected', async () => (await status('KubernetesRuntimeInstance', runtime.ID)).startsWith('Ready'));
    const serviceDefinition = await client.kind('WorkloadDefinition').create({ Name: 'app', YAMLDocument: app('app') });
    const workload = await client.kind('WorkloadInstance').create({ Name: 'app', WorkloadDefinitionID: serviceDefinition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await waitUntil('app Healthy', async () => (await status('WorkloadInstance', workload.ID)).startsWith('Healthy'));

    from = proxy.calls.length;
    started = Date.now();
    const services: { kind: string; id: number }[] = [];
    const servicesRate = await rate(async () => {
      await Promise.all(
        Array.from({ length: SERVICES }, async (_, index) => {
          if (index < DATABASES) {
            const database = await client.kind('AwsRelationalDatabaseDefinition').create({ Name: `db-${index}`, Engine: 'postgres', EngineVersion: '15.4', DatabaseName: 'app', DatabasePort: 5432, MachineSize: 'XSmall', StorageGb: 20, WorkloadSecretName: `db-${index}`, AwsAccountID: account.ID });
            services.push({ kind: 'AwsRelationalDatabaseInstance', id: (await client.kind('AwsRelationalDatabaseInstance').create({ Name: `db-${index}`, AwsRelationalDatabaseDefinitionID: database.ID, WorkloadInstanceID: workload.ID })).ID });
          } else {
            const bucket = await client.kind('AwsObjectStorageBucketDefinition').create({ Name: `files-${index}`, WorkloadServiceAccountName: 'app', WorkloadBucketEnvVar: `BUCKET_${index}`, AwsAccountID: account.ID });
            services.push({ kind: 'AwsObjectStorageBucketInstance', id: (await client.kind('AwsObjectStorageBucketInstance').create({ Name: `files-${index}`, AwsObjectStorageBucketDefinitionID: bucket.ID, WorkloadInstanceID: workload.ID })).ID });
          }
        }),
      );
      await waitUntil('every service Available', async () => (await Promise.all(services.map(({ kind, id }) => status(kind, id)))).every((line) => line.startsWith('Available')));
    });
    results.push([`${SERVICES} services of one workload at once (${DATABASES} RDS, ${SERVICES - DATABASES} S3)`, `${((Date.now() - started) / 1000).toFixed(1)} s until all available and wired in, ${callSummary(proxy.calls, from)}`]);

    from = proxy.calls.length;
    started = Date.now();
    const removal = await rate(async () => {
      for (const { kind, id } of services) await client.kind(kind).delete(id);
      await waitUntil('every service removed', async () => (await Promise.all(services.map(({ kind, id }) => client.kind(kind).get(id).then(() => false, () => true)))).every(Boolean));
    });
    results.push([`${SERVICES} services removed`, `${((Date.now() - started) / 1000).toFixed(1)} s, ${callSummary(proxy.calls, from)}`]);

    await client.kind('WorkloadInstance').delete(workload.ID);
    await waitUntil('app removed', () => client.kind('WorkloadInstance').get(workload.ID).then(() => false, () => true));
    from = proxy.calls.length;
    started = Date.now();
    await client.kind('KubernetesRuntimeInstance').delete(runtime.ID);
    await waitUntil('EKS runtime removed', async () => (await client.kind('AwsEksKubernetesRuntimeInstance').listAll()).length === 0);
    results.push(['EKS runtime removed (everything, last made first)', `${((Date.now() - started) / 1000).toFixed(1)} s, ${callSummary(proxy.calls, from)}`]);
    const windows = [['EKS provisioning', provisioning], ['10 services provisioning', servicesRate], ['10 services removal', removal]] as const;
    for (const [what, during] of windows) results.push([`workload re-verifications during ${what}`, `${during.perSecond.toFixed(1)}/s over ${during.seconds.toFixed(1)} s`]);
    // Short windows catch the spread-out passes unevenly: all the AWS work together is the fair figure.
    const seconds = windows.reduce((sum, [, during]) => sum + during.seconds, 0);
    const reconciles = windows.reduce((sum, [, during]) => sum + during.perSecond * during.seconds, 0);
    results.push(['workload re-verifications during all of it', `${(reconciles / seconds).toFixed(1)}/s over ${seconds.toFixed(1)} s (idle: ${idle.perSecond.toFixed(1)}/s)`]);
  } finally {
    await manager.stop();
    await server.close();
    await proxy.close();
    await down(join(work, 'testbed')).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  const width = Math.max(...results.map(([what]) => what.length));
  process.stdout.write(`\nAWS controller on moto, ${LATENCY_MS} ms added to every AWS call (load average ${(await import('node:os')).loadavg().map((load) => load.toFixed(2)).join(' ')})\n`);
  for (const [what, value] of results) process.stdout.write(`  ${what.padEnd(width)}  ${value}\n`);
}

await main();
