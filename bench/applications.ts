/**
 * `npm run bench:applications`: applications from one declaration to Healthy.
 *
 * A private test bed (two kwok clusters, no AWS), threeport in its production wiring (`threeport
 * server` on PostgreSQL and NATS, `threeport controller workload kubernetes-runtime secret
 * application`, one agent per cluster), two runtimes registered (Location Local). Prints:
 *   - `tptctl apply --wait` of one application — a workload with a secret and two dependency
 *     workloads, one nested under the other, placed by requirements — to Healthy: the wall time
 *     (tptctl's own start included) and the API requests it cost, all processes counted;
 *   - BENCH_APPLICATIONS (default 100) applications, each a workload with a nested dependency,
 *     placed by the same requirements on the two runtimes, observed through a profile that turns
 *     observability on: time to all Healthy, API requests per application, how placement spread
 *     them, and the support services each runtime got (one observability stack — real charts from
 *     the shared chart repository, the real helm — shared by all its applications).
 * Databases, buckets and gateways are left out: on simulated clusters a gateway is never
 * programmed (Envoy does not run), and AWS work is measured by bench:aws.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { webWithService } from './support/manifests.ts';
import { runBench, withProductionPlane } from './support/plane.ts';
import { apiRequests, cpuLine, cpuSeconds, rssMb, until } from './support/processes.ts';

const COUNT = Number(process.env.BENCH_APPLICATIONS ?? 100);
const NODES = Number(process.env.BENCH_NODES ?? Math.max(2, Math.ceil((COUNT * 2) / 2 / 100) + 1));
const REQUIREMENTS = { Location: 'Local', InfraProvider: 'kind' };
const repoRoot = new URL('../', import.meta.url).pathname;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The one application: a shop, a secret, and an api it needs, which needs a cache (nested in it). */
const shopDocument = (): string =>
  JSON.stringify({
    Application: {
      Name: 'shop',
      Runtime: REQUIREMENTS,
      YAML: webWithService('ghcr.io/bench/shop:1.0'),
      Secret: { Backend: 'direct' },
      SecretData: { password: 'bench-only' },
      Dependencies: [{ Name: 'api', YAML: webWithService('ghcr.io/bench/api:1.0'), Dependencies: [{ Name: 'cache', YAML: webWithService('ghcr.io/bench/cache:1.0') }] }],
    },
  });

async function main(): Promise<void> {
  const groups = ['workload', 'kubernetes-runtime', 'secret', 'application', 'helm-workload', 'observability'];
  await withProductionPlane({ name: 'bench:applications', intro: `1 application through tptctl, then ${COUNT}`, clusters: 2, nodes: NODES, groups, charts: true }, async ({ dir, key, apiUrl, client, controller, runtimes }) => {

    // One application through the real tptctl, as a user runs it.
    // From the bundle, as users run it, built from this checkout.
    spawnSync(process.execPath, [join(repoRoot, 'scripts/build-cli.ts')], { stdio: 'inherit' });
    const config = join(dir, 'tptctl.yaml');
    writeFileSync(config, `ControlPlanes:\n  - Name: bench\n    APIServer: ${apiUrl}\n    AuthEnabled: false\n    EncryptionKey: ${key}\nCurrentControlPlane: bench\n`);
    const document = join(dir, 'shop.yaml');
    writeFileSync(document, shopDocument());
    const requestsBefore = await apiRequests(apiUrl);
    const start = performance.now();
    const applied = spawnSync(process.execPath, [join(repoRoot, 'bin/tptctl.js'), 'apply', '-f', document, '--wait', '--timeout', '5m'], { env: { ...process.env, THREEPORT_CONFIG: config }, encoding: 'utf8' });
    const applyMs = performance.now() - start;
    if (applied.status !== 0) throw new Error(`tptctl apply failed: ${applied.stderr}`);
    const applyRequests = (await apiRequests(apiUrl)) - requestsBefore;
    const shop = (await client.kind('Application').findByName('shop'))!;
    const shopParts = Array.isArray(shop.Children) ? shop.Children.length : 0;

    // Many applications sharing the two runtimes, each runtime observed by one stack its applications share.
    const profile = await client.kind('Profile').create({ Name: 'observed', Observability: { Enabled: true, LoggingEnabled: false } });
    process.stderr.write(`creating ${COUNT} applications…\n`);
    const cpuBefore = cpuSeconds();
    const manyBefore = await apiRequests(apiUrl);
    const manyStart = performance.now();
    for (let index = 0; index < COUNT; index += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, COUNT - index) }, (_, offset) =>
          client.kind('Application').create({
            Name: `app-${index + offset}`,
            Profile: profile.Name,
            Runtime: REQUIREMENTS,
            YAMLDocument: webWithService(`ghcr.io/bench/app-${index + offset}:1.0`),
            Dependencies: [{ Name: `app-${index + offset}-db`, YAMLDocument: webWithService('ghcr.io/bench/db:1.0') }],
          }),
        ),
      );
    }
    const healthy = async (): Promise<number> => (await client.kind('Application').listAll()).filter((application) => String(application.Name).startsWith('app-') && !String(application.Name).endsWith('-db') && String(application.Status ?? '').startsWith('Healthy')).length;
    await until(`${COUNT} applications Healthy`, async () => (await healthy()) === COUNT, 900_000, 1000);
    const manyMs = performance.now() - manyStart;
    const cpu = cpuLine(cpuBefore, cpuSeconds());
    const manyRequests = (await apiRequests(apiUrl)) - manyBefore;
    const placements = new Map<string, number>();
    for (const application of await client.kind('Application').listAll()) {
      const placed = (application.Placement as { Name?: string } | undefined)?.Name ?? 'none';
      placements.set(placed, (placements.get(placed) ?? 0) + 1);
    }
    const supportServices = await Promise.all(
      runtimes.map(async ({ id, name }) => {
        const stacks = await client.kind('ObservabilityStackInstance').listAll({ kubernetesruntimeinstanceid: id });
        const releases = (await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: id })).length;
        return `${name} ${stacks.length} observability stack${stacks.length === 1 ? '' : 's'} (${releases} Helm releases)`;
      }),
    );
    const stackUsers = new Map<number, number>();
    for (const application of await client.kind('Application').listAll()) {
      for (const child of (application.Children ?? []) as { Kind: string; ID: number }[]) if (child.Kind === 'ObservabilityStackInstance') stackUsers.set(child.ID, (stackUsers.get(child.ID) ?? 0) + 1);
    }

    const load = loadavg().map((value) => value.toFixed(2)).join(' ');
    process.stdout.write(
      [
        `bench:applications — 2 kwok clusters × ${NODES} nodes, threeport on PostgreSQL + NATS; ${cpus().length} cores, load ${load}`,
        `  tptctl apply --wait of one application (workload, secret, 2 dependency workloads nested, placed by requirements) → Healthy: ${seconds(applyMs)}, ${applyRequests} API requests (all processes; ${shopParts} parts recorded on it)`,
        `  ${COUNT} applications (each a workload and a nested dependency: ${COUNT * 2} workloads; profile: observability on) → all Healthy: ${seconds(manyMs)}, ${manyRequests} API requests (${(manyRequests / COUNT).toFixed(0)} per application, all processes)`,
        `    placed by requirements (${Object.entries(REQUIREMENTS).map(([field, value]) => `${field} ${value}`).join(', ')}): ${[...placements].map(([name, count]) => `${name} ${count}`).join(', ')} (applications, nested ones included)`,
        `    support services per runtime: ${supportServices.join(', ')}; applications per stack: ${[...stackUsers.values()].join(', ')}`,
        `  CPU seconds during the ${COUNT}, by process: ${cpu}`,
        `  RSS at the end: controller ${rssMb(controller.child.pid)} MB`,
        '',
      ].join('\n'),
    );
  });
}

await runBench('bench:applications', main);
