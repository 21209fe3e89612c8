/**
 * threeport in its production wiring on a private test bed, as the cluster benchmarks run it:
 * `threeport server` on PostgreSQL and NATS, `threeport controller <groups>`, an agent per
 * cluster, and each cluster registered as a runtime (Location Local) and Ready. Everything is
 * stopped and removed afterwards, whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/client/api-client.ts';
import { readClusterConnection } from '../../src/cli/providers/local-runtime.ts';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { freePort } from '../../src/local-runtime/ports.ts';
import type { TestbedDescription } from '../../src/testbed/description.ts';
import { serveDirectory, sharedChartsDir } from '../../src/testbed/chart-server.ts';
import { createDatabase } from '../../src/testbed/peers/postgres.ts';
import { down, up } from '../../src/testbed/testbed.ts';
import { startThreeport, until, waitReady, type Process } from './processes.ts';

export interface ProductionPlane {
  dir: string;
  testbed: TestbedDescription;
  databaseUrl: string;
  /** The control plane's encryption key. */
  key: string;
  apiUrl: string;
  client: ApiClient;
  controller: Process;
  /** One per cluster, named bench-<cluster>. */
  runtimes: { id: number; name: string }[];
}

export interface PlaneOptions {
  /** The benchmark's name and what it sets up, for the first progress line. */
  name: string;
  intro: string;
  clusters: number;
  nodes: number;
  /** The controller groups `threeport controller` runs. */
  groups: readonly string[];
  /** Charts for the Helm-based groups: the shared chart repository served on loopback as the one mirror, and the test bed's helm. */
  charts?: boolean;
}

export async function withProductionPlane(options: PlaneOptions, body: (plane: ProductionPlane) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `threeport-${options.name.replace(':', '-')}-`));
  process.stderr.write(`${options.name}: ${options.intro}; a private test bed with ${options.clusters} clusters × ${options.nodes} nodes in ${dir}\n`);
  const testbed = await up({ dir, clusters: options.clusters, nodes: options.nodes, aws: false });
  const processes: Process[] = [];
  const charts = options.charts ? await serveDirectory(sharedChartsDir()) : undefined;
  try {
    const databaseUrl = await createDatabase(testbed.postgres.url, 'bench');
    const key = FieldCipher.generateKey();
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    processes.push(await startThreeport('api', ['server', '--listen', `127.0.0.1:${apiPort}`, '--database-url', databaseUrl, '--nats-url', testbed.nats.url, '--log-level', 'warn'], { THREEPORT_ENCRYPTION_KEY: key }, /listening|^/));
    await waitReady(apiUrl);
    const controller = await startThreeport(
      'controller',
      ['controller', ...options.groups, '--api-url', apiUrl, '--nats-url', testbed.nats.url, '--concurrency', '16', '--log-level', 'info'],
      { THREEPORT_ENCRYPTION_KEY: key, ...(charts && { THREEPORT_CHART_MIRROR: charts.url, THREEPORT_HELM: testbed.helm }) },
      /"controllers running"/,
    );
    processes.push(controller);
    for (const cluster of testbed.clusters) {
      processes.push(await startThreeport(`agent-${cluster.name}`, ['agent', '--api-url', apiUrl, '--kubeconfig', cluster.kubeconfigPath, '--context', cluster.context], {}, /"agent watching the cluster"/));
    }
    const client = new ApiClient({ baseUrl: apiUrl, timeoutMs: 60_000 });
    const runtimes: ProductionPlane['runtimes'] = [];
    for (const cluster of testbed.clusters) {
      const { context: _context, ...connection } = readClusterConnection(cluster.kubeconfigPath, cluster.context);
      const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: `bench-${cluster.name}`, InfraProvider: 'kind' });
      const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: `bench-${cluster.name}`, Location: 'Local', KubernetesRuntimeDefinitionID: definition.ID, AgentLocation: 'External', ...connection });
      runtimes.push({ id: runtime.ID, name: runtime.Name });
    }
    for (const { id } of runtimes) await until(`runtime ${id} Ready`, async () => String((await client.kind('KubernetesRuntimeInstance').get(id)).Status).startsWith('Ready'), 60_000);
    await body({ dir, testbed, databaseUrl, key, apiUrl, client, controller, runtimes });
  } finally {
    for (const process_ of processes.reverse()) await process_.stop();
    await charts?.close();
    await down(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a benchmark: its figures on stdout, a failure as one line on stderr and exit code 1. */
export function runBench(name: string, main: () => Promise<void>): Promise<never> {
  return main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
