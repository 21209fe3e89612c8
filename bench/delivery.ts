/**
 * `npm run bench:delivery`: from CI's call to a new image running Healthy.
 *
 * A private test bed (two kwok clusters), threeport in its production wiring (`threeport server`
 * on PostgreSQL and NATS, `threeport controller workload kubernetes-runtime delivery`, one agent
 * per cluster), BENCH_INSTANCES (default 100) instances of a workload whose image is
 * ghcr.io/bench/shop, and BENCH_OTHERS (default 2,000) definitions of other images, so the
 * repository lookup has something to not scan. One delivery policy puts every instance in its
 * first environment. Prints:
 *   - CI call → every instance pinned, running and Healthy on the new build (the delivery
 *     Complete), and where the time went (pinned, applied, Healthy);
 *   - the repository lookup: the API calls a build costs to find its instances, the lookup's
 *     latency with the other definitions stored, and the plan PostgreSQL uses for it;
 *   - API requests during the delivery, per instance.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { webDeployment } from './support/manifests.ts';
import { runBench, withProductionPlane } from './support/plane.ts';
import { apiRequests, cpuLine, cpuSeconds, rssMb, until } from './support/processes.ts';

const COUNT = Number(process.env.BENCH_INSTANCES ?? 100);
const OTHERS = Number(process.env.BENCH_OTHERS ?? 2000);
const NODES = Number(process.env.BENCH_NODES ?? Math.max(2, Math.ceil(COUNT / 2 / 100) + 1));
const REPOSITORY = 'ghcr.io/bench/shop';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  await withProductionPlane({ name: 'bench:delivery', intro: `${COUNT} instances of ${REPOSITORY}, ${OTHERS} other definitions`, clusters: 2, nodes: NODES, groups: ['workload', 'kubernetes-runtime', 'delivery'] }, async ({ databaseUrl, apiUrl, client, controller, runtimes: registered }) => {
    const runtimes = registered.map(({ id }) => id);

    process.stderr.write(`storing ${OTHERS} definitions of other images…\n`);
    for (let index = 0; index < OTHERS; index += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, OTHERS - index) }, (_, offset) => client.kind('WorkloadDefinition').create({ Name: `other-${index + offset}`, YAMLDocument: webDeployment(`ghcr.io/bench/other-${index + offset}:1.0`) })),
      );
    }
    const definition = await client.kind('WorkloadDefinition').create({ Name: 'shop', YAMLDocument: webDeployment(`${REPOSITORY}:1.0`) });
    await until('every definition reconciled', async () => (await client.kind('WorkloadDefinition').list({ reconciled: false }, { size: 1 })).total === 0, 600_000, 1000);
    process.stderr.write(`deploying ${COUNT} instances…\n`);
    const names: string[] = [];
    for (let index = 0; index < COUNT; index += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, COUNT - index) }, (_, offset) =>
          client.kind('WorkloadInstance').create({ Name: `shop-${index + offset}`, WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimes[(index + offset) % runtimes.length]! }),
        ),
      );
      names.push(...batch.map((instance) => instance.Name));
    }
    const healthy = async (): Promise<number> => (await client.kind('WorkloadInstance').listAll({ workloaddefinitionid: definition.ID })).filter((instance) => String(instance.Status ?? '').startsWith('Healthy')).length;
    await until(`${COUNT} instances Healthy`, async () => (await healthy()) === COUNT, 600_000, 1000);
    const policy = await client.kind('DeliveryPolicy').create({ Name: 'shop', Environments: [{ Name: 'dev', WorkloadInstances: names }] });

    // The lookup a build costs, measured apart: one indexed query for the repository, one list of each using definition's instances.
    const lookupTimes: number[] = [];
    for (let round = 0; round < 200; round++) {
      const at = performance.now();
      const uses = await client.kind('ImageUse').listAll({ repository: REPOSITORY });
      await client.kind('WorkloadInstance').listAll({ workloaddefinitionid: uses[0]!.WorkloadDefinitionID! });
      lookupTimes.push(performance.now() - at);
    }
    lookupTimes.sort((a, b) => a - b);
    const database = new pg.Client({ connectionString: databaseUrl });
    await database.connect();
    const plan = (await database.query<{ 'QUERY PLAN': string }>("EXPLAIN SELECT id FROM v0_image_uses WHERE repository = $1 AND deleted_at IS NULL", [REPOSITORY])).rows.map((row) => row['QUERY PLAN'].trim());
    const storedUses = (await database.query<{ count: string }>('SELECT count(*) FROM v0_image_uses WHERE deleted_at IS NULL')).rows[0]!.count;
    await database.end();

    const requestsBefore = await apiRequests(apiUrl);
    const digest = `sha256:${'5'.repeat(64)}`;
    const cpuBefore = cpuSeconds();
    const start = performance.now();
    const build = await client.kind('ImageBuild').create({ Repository: REPOSITORY, Tag: '1.1', Digest: digest });
    const reference = `${REPOSITORY}:1.1@${digest}`;
    const reached = { recorded: 0, pinned: 0, applied: 0, healthy: 0 };
    const mark = (step: keyof typeof reached, done: boolean): void => {
      if (done && !reached[step]) reached[step] = performance.now() - start;
    };
    await until(
      'delivery Complete',
      async () => {
        const delivery = (await client.kind('Delivery').listAll({ imagebuildid: build.ID }))[0];
        if (delivery?.Phase === 'RolledBack') throw new Error(`rolled back: ${String(delivery.Status)}`);
        mark('recorded', ((delivery?.Progress ?? []) as { Instances?: unknown[] }[])[0]?.Instances?.length === COUNT);
        const instances = await client.kind('WorkloadInstance').listAll({ workloaddefinitionid: definition.ID });
        const pinned = instances.filter((instance) => (instance.Images as Record<string, string> | undefined)?.[REPOSITORY] === reference);
        mark('pinned', pinned.length === COUNT);
        mark('applied', reached.pinned > 0 && pinned.every((instance) => instance.ObservedGeneration === instance.Generation));
        mark('healthy', reached.applied > 0 && pinned.every((instance) => String(instance.Status ?? '').startsWith('Healthy')));
        return delivery?.Phase === 'Complete';
      },
      300_000,
      100,
    );
    const completeMs = performance.now() - start;
    const cpu = cpuLine(cpuBefore, cpuSeconds());
    const requests = (await apiRequests(apiUrl)) - requestsBefore;

    const load = loadavg().map((value) => value.toFixed(2)).join(' ');
    process.stdout.write(
      [
        `bench:delivery — ${COUNT} instances on 2 kwok clusters, ${OTHERS} other definitions stored; ${cpus().length} cores, load ${load}`,
        `  CI call → all ${COUNT} pinned by digest, running and Healthy (delivery Complete): ${seconds(completeMs)}   (aim: under 10 s)`,
        `    recorded the ${COUNT} instances and what they ran ${seconds(reached.recorded)}, all pinned ${seconds(reached.pinned)}, all applied to the clusters ${seconds(reached.applied)}, all Healthy on it ${seconds(reached.healthy)}`,
        `  repository lookup: 2 API calls (ImageUse by repository, then the using definition's instances), p50 ${lookupTimes[100]!.toFixed(1)} ms, p99 ${lookupTimes[198]!.toFixed(1)} ms, with ${storedUses} image uses stored`,
        `    PostgreSQL's plan: ${plan.join(' / ')}`,
        `  API requests during the delivery: ${requests} (${(requests / COUNT).toFixed(1)} per instance, all processes: delivery, workload controller, agents)`,
        `  CPU seconds during the delivery, by process (of ${((cpus().length * completeMs) / 1000).toFixed(0)} that ${cpus().length} cores give): ${cpu}`,
        `  RSS at the end: controller ${rssMb(controller.child.pid)} MB`,
        `  policy ${String(policy.Name)}: environment dev, ${COUNT} instances`,
        '',
      ].join('\n'),
    );
  });
}

await runBench('bench:delivery', main);
