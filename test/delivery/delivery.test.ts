/**
 * Delivery on the test bed: CI reports a build of an image a workload runs in three
 * environments on two clusters; dev is pinned by digest and rolled out, staging follows after
 * dev's soak, prod only after an approval. A build whose pods never start (kwok is told not to
 * start `unstartable` images) is rolled back in dev and the promotion stops, saying why. The CI
 * token can report builds and do nothing else.
 */
import { describe, expect, it } from 'vitest';
import { newToken } from '../../src/auth/identities.ts';
import { ApiClient, ApiRequestError } from '../../src/client/api-client.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import type { ObjectOf } from '../../src/model/object-types.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from '../workloads/support/manifests.ts';
import { deleteEvery, namespaceOf, startWorkloadPlane, type Cluster } from '../workloads/support/workload-plane.ts';

type Delivery = ObjectOf<'Delivery'>;

const digest = (seed: string): string => `sha256:${Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64)}`;

describe('delivering image builds through environments', async () => {
  const plane = await startWorkloadPlane({ auth: true, groups: ['workload', 'kubernetes-runtime', 'delivery'], settings: { delivery: { pollIntervalMs: 250 } } });
  const { client, api } = plane;
  const runtimeA = await plane.registerCluster('a');
  const runtimeB = await plane.registerCluster('b');
  const repository = `ghcr.io/acme/${uniqueName('shop')}`;
  const definition = await client.kind('WorkloadDefinition').create({ Name: uniqueName('shop'), YAMLDocument: web({ image: `${repository}:1.0` }) });
  const instance = (environment: string, runtimeId: number, fields: Record<string, unknown> = {}) =>
    client.kind('WorkloadInstance').create({ Name: `${definition.Name}-${environment}`, WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtimeId, ...fields });
  const dev = await instance('dev', runtimeA.ID);
  const staging = await instance('staging', runtimeB.ID);
  const prod = await instance('prod', runtimeB.ID, { Overrides: { 'Deployment/web': { spec: { replicas: 2 } } } });
  const where: [ObjectOf<'WorkloadInstance'>, Cluster][] = [
    [dev, 'a'],
    [staging, 'b'],
    [prod, 'b'],
  ];
  for (const [member] of where) await plane.waitForStatus(member.ID, 'Healthy');
  const policy = await client.kind('DeliveryPolicy').create({
    Name: uniqueName('shop'),
    RolloutTimeoutSeconds: 20,
    Environments: [
      { Name: 'dev', WorkloadInstances: [dev.Name], Gate: { SoakSeconds: 3 } },
      { Name: 'staging', WorkloadInstances: [staging.Name], Gate: { Approval: true } },
      { Name: 'prod', WorkloadInstances: [prod.Name] },
    ],
  });

  const { token, hash } = newToken();
  await client.kind('ApiToken').create({ Name: uniqueName('ci'), Role: 'delivery', TokenHash: hash, ExpiresAt: new Date(Date.now() + 3_600_000).toISOString() });
  const ci = new ApiClient({ baseUrl: api.url, tls: { ca: api.server.auth!.caCertificate }, token });

  const deploymentOf = async (member: ObjectOf<'WorkloadInstance'>, cluster: Cluster): Promise<Manifest> => {
    const kube = await plane.kube(cluster);
    const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: await namespaceOf(client, member.ID) });
    if (!deployment) throw new Error(`no Deployment web for ${member.Name}`);
    return deployment;
  };
  const imageOf = async (member: ObjectOf<'WorkloadInstance'>, cluster: Cluster): Promise<string> => {
    const deployment = await deploymentOf(member, cluster);
    return (deployment.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
  };
  const pinOf = async (member: ObjectOf<'WorkloadInstance'>): Promise<string | undefined> => ((await client.kind('WorkloadInstance').get(member.ID)).Images as Record<string, string> | undefined)?.[repository];
  const deliveryOf = async (buildId: number): Promise<Delivery> => {
    const [delivery, ...others] = await client.kind('Delivery').listAll({ imagebuildid: buildId });
    if (!delivery || others.length > 0) throw new Error(`${others.length + (delivery ? 1 : 0)} deliveries for build ${buildId}`);
    return delivery;
  };
  const waitForPhase = async (buildId: number, phase: string, timeoutMs = 90_000): Promise<Delivery> => {
    let delivery: Delivery | undefined;
    await eventually(
      `delivery of build ${buildId} ${phase}`,
      async () => {
        delivery = await deliveryOf(buildId);
        // A delivery's Status says where it is once its reconcile is recorded, a moment after its Phase:
        // a finished one starts with the phase, one waiting at a gate no longer with the rollout's line.
        const status = String(delivery.Status);
        const finished = ['Complete', 'RolledBack', 'Superseded'].includes(phase);
        const atGate = ['AwaitingApproval', 'WaitingForWindow', 'Soaking'].includes(phase);
        const settled = finished ? status.startsWith(phase) : !atGate || !/ instance\(s\) Healthy on /.test(status);
        return (delivery.Phase === phase && delivery.Environment !== undefined && settled) || `Phase ${String(delivery.Phase)} in ${String(delivery.Environment)}; Status ${String(delivery.Status)}`;
      },
      timeoutMs,
      250,
    );
    return delivery!;
  };
  const eventsOf = async (delivery: Delivery) => client.eventsOf(delivery.ID);

  it('a build goes to dev pinned by digest, to staging after the soak, to prod only after approval; reporting it twice makes one delivery', async () => {
    const build = { Repository: repository, Tag: '1.1', Digest: digest('1.1'), SourceCommit: 'a1b2c3d', CIRunURL: 'https://ci.example.com/runs/11' };
    const reported = await ci.kind('ImageBuild').create(build);
    const again = await ci.kind('ImageBuild').create(build);
    expect(again.ID).toBe(reported.ID);
    const pinned = `${repository}:1.1@${build.Digest}`;

    const waiting = await waitForPhase(reported.ID, 'AwaitingApproval');
    expect(waiting.Environment).toBe('staging');
    expect(await imageOf(dev, 'a')).toBe(pinned);
    expect(await imageOf(staging, 'b')).toBe(pinned);
    expect(await imageOf(prod, 'b')).toBe(`${repository}:1.0`);
    const [devProgress, stagingProgress] = waiting.Progress as { Name: string; HealthyAt: string; PassedAt?: string; StartedAt: string }[];
    // Staging started only once dev had been Healthy for its soak time.
    expect(Date.parse(stagingProgress!.StartedAt) - Date.parse(devProgress!.HealthyAt)).toBeGreaterThanOrEqual(3000);
    expect(await pinOf(dev)).toBe(pinned);

    // Nothing moves on without the approval.
    expect((await deliveryOf(reported.ID)).Phase).toBe('AwaitingApproval');
    await client.kind('Delivery').update(waiting.ID, { Approvals: [{ Environment: 'staging', Note: 'release 1.1' }] }, { version: waiting.Version });
    const complete = await waitForPhase(reported.ID, 'Complete');
    expect(complete.Status).toMatch(/^Complete/);
    const prodDeployment = await deploymentOf(prod, 'b');
    expect((prodDeployment.spec as { replicas: number }).replicas).toBe(2); // its override
    expect(await imageOf(prod, 'b')).toBe(pinned);
    await plane.waitForStatus(prod.ID, 'Healthy');
    const reasons = (await eventsOf(complete)).map((event) => event.Reason);
    expect(reasons).toEqual(expect.arrayContaining(['RollingOut', 'Healthy', 'Promoted', 'AwaitingApproval', 'Complete']));
    expect((await client.kind('ImageBuild').get(reported.ID)).Status).toContain(complete.Name);
  });

  it('a build whose pods never start is rolled back in dev, and the promotion stops saying which environment failed and why', async () => {
    const previous = await pinOf(dev);
    expect(previous).toBe(`${repository}:1.1@${digest('1.1')}`);
    const reported = await ci.kind('ImageBuild').create({ Repository: repository, Tag: '1.2-unstartable', Digest: digest('1.2') });
    await eventually('dev runs the new build', async () => (await imageOf(dev, 'a')).includes('1.2-unstartable'));
    const failed = await waitForPhase(reported.ID, 'RolledBack', 120_000);
    expect(failed.Environment).toBe('dev');
    expect(failed.Status).toMatch(/^RolledBack: dev failed with 1\.2-unstartable and was rolled back to .*not Healthy within 20s/);
    const warning = (await eventsOf(failed)).find((event) => event.Reason === 'RolledBack');
    expect(warning).toMatchObject({ Type: 'Warning', Note: expect.stringContaining('dev failed') });
    expect(await pinOf(dev)).toBe(previous);
    await eventually('dev runs the previous image again', async () => (await imageOf(dev, 'a')) === previous);
    await plane.waitForStatus(dev.ID, 'Healthy');
    // Staging and prod never saw it.
    expect(await imageOf(staging, 'b')).toBe(previous);
    expect((failed.Progress as unknown[]).length).toBe(1);
  });

  it('a closed window holds the promotion; a hand pin stops the delivery and stays; a newer build supersedes an older delivery', async () => {
    const other = `ghcr.io/acme/${uniqueName('cart')}`;
    const cart = await client.kind('WorkloadDefinition').create({ Name: uniqueName('cart'), YAMLDocument: web({ image: `${other}:1.0` }) });
    const cartDev = await client.kind('WorkloadInstance').create({ Name: `${cart.Name}-dev`, WorkloadDefinitionID: cart.ID, KubernetesRuntimeInstanceID: runtimeA.ID });
    await plane.waitForStatus(cartDev.ID, 'Healthy');
    // A window that opens in two hours and closes in three (UTC).
    const clock = (hours: number): string => new Date(Date.now() + hours * 3_600_000).toISOString().slice(11, 16);
    await client.kind('DeliveryPolicy').create({
      Name: uniqueName('cart'),
      Environments: [{ Name: 'dev', WorkloadInstances: [cartDev.Name], Gate: { Window: { Start: clock(2), End: clock(3) } } }, { Name: 'prod', WorkloadInstances: [] }],
    });
    const first = await ci.kind('ImageBuild').create({ Repository: other, Tag: '2.0', Digest: digest('c2') });
    const waiting = await waitForPhase(first.ID, 'WaitingForWindow');
    expect(waiting.Status).toMatch(/^Waiting: dev waits for its promotion window \(opens \d{4}-\d\d-\d\dT/);

    // A person pins the instance by hand: the delivery stops and leaves that pin alone.
    // No version: the workload controller and the agent write this instance too.
    await client.kind('WorkloadInstance').update(cartDev.ID, { Images: { [other]: `${other}:1.9-hotfix` } });
    const stopped = await waitForPhase(first.ID, 'Superseded');
    expect(stopped.Status).toContain(`${cartDev.Name} was pinned to ${other}:1.9-hotfix by another writer since; it keeps that`);
    expect(((await client.kind('WorkloadInstance').get(cartDev.ID)).Images as Record<string, string>)[other]).toBe(`${other}:1.9-hotfix`);

    // Two builds: the newer one's delivery takes over from the older.
    const second = await ci.kind('ImageBuild').create({ Repository: other, Tag: '2.1', Digest: digest('c21') });
    await waitForPhase(second.ID, 'WaitingForWindow');
    const third = await ci.kind('ImageBuild').create({ Repository: other, Tag: '2.2', Digest: digest('c22') });
    expect((await waitForPhase(second.ID, 'Superseded')).Status).toMatch(new RegExp(`delivery \\S+ of a newer build of ${other} took over`));
    await waitForPhase(third.ID, 'WaitingForWindow');
    expect(await client.kind('WorkloadInstance').get(cartDev.ID)).toMatchObject({ Images: { [other]: `${other}:2.2@${digest('c22')}` } });
  });

  it("the CI token reports builds and can do nothing else: no reads, no other writes", async () => {
    const refused = async (call: () => Promise<unknown>): Promise<number> => {
      try {
        await call();
        return 200;
      } catch (error) {
        return error instanceof ApiRequestError ? error.status : -1;
      }
    };
    expect(await refused(() => ci.kind('WorkloadInstance').listAll())).toBe(403);
    expect(await refused(() => ci.kind('ImageBuild').listAll())).toBe(403);
    expect(await refused(() => ci.kind('Delivery').listAll())).toBe(403);
    expect(await refused(() => ci.kind('WorkloadDefinition').create({ Name: uniqueName('x'), YAMLDocument: web() }))).toBe(403);
    expect(await refused(() => ci.kind('DeliveryPolicy').create({ Name: uniqueName('x'), Environments: [{ Name: 'dev' }] }))).toBe(403);
    const [delivery] = await client.kind('Delivery').listAll({ deliverypolicyid: policy.ID });
    // A named object the token may not read is not found, whether it exists or not.
    expect(await refused(() => ci.kind('Delivery').update(delivery!.ID, { Approvals: [{ Environment: 'staging' }] }))).toBe(404);
    expect(await refused(() => ci.kind('WorkloadInstance').update(dev.ID, { Images: { [repository]: `${repository}:evil` } }))).toBe(404);
    expect(await pinOf(dev)).not.toContain('evil');
  });

  it('bad delivery input is a clear 400 and changes nothing', async () => {
    const before = await client.kind('WorkloadInstance').get(dev.ID);
    const builds = (await client.kind('ImageBuild').listAll()).length;
    const status = async (call: () => Promise<unknown>): Promise<string> => {
      try {
        await call();
        return 'accepted';
      } catch (error) {
        return error instanceof ApiRequestError ? `${error.status} ${error.message}` : String(error);
      }
    };
    expect(await status(() => ci.kind('ImageBuild').create({ Repository: `${repository}:2.0`, Tag: '2.0' }))).toMatch(/^400 .*without tag/);
    expect(await status(() => ci.kind('ImageBuild').create({ Repository: repository, Tag: '2.0', Digest: 'sha256:nothex' }))).toMatch(/^400 .*Digest/);
    expect(await status(() => client.kind('DeliveryPolicy').create({ Name: uniqueName('p'), Environments: [{ Name: 'a', WorkloadInstances: [dev.Name] }, { Name: 'b', WorkloadInstances: [dev.Name] }] }))).toMatch(
      /^400 .*in environments a and b/,
    );
    expect(await status(() => client.kind('DeliveryPolicy').create({ Name: uniqueName('p'), Environments: [{ Name: 'a', Gate: { Window: { Start: '25:00', End: '01:00' } } }] }))).toMatch(/^400 .*HH:MM/);
    expect(await status(() => client.kind('WorkloadInstance').update(dev.ID, { Images: { [repository]: 'ghcr.io/other/image:1' } }))).toMatch(/^400 .*another repository/);
    expect(await status(() => client.kind('WorkloadInstance').update(dev.ID, { Overrides: { 'Deployment/web': { metadata: { name: 'other' } } } }))).toMatch(/^400 .*name or namespace/);
    expect((await client.kind('WorkloadInstance').get(dev.ID)).Version).toBe(before.Version);
    expect(await client.kind('ImageBuild').listAll()).toHaveLength(builds);
  });

  it('cleans up', async () => {
    await deleteEvery(client, ['Delivery', 'ImageBuild', 'DeliveryPolicy', 'WorkloadInstance', 'WorkloadDefinition', 'KubernetesRuntimeInstance', 'KubernetesRuntimeDefinition']);
  });
});
