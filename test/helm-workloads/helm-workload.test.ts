/**
 * Helm workloads end to end on the test bed's cluster a: the real helm, a chart from a repository
 * served on loopback, the controllers and the control plane's agent in this process. Installed
 * with layered values and Healthy as the agent reports it; an edit of the instance's values
 * upgrades the release; a chart that cannot install is a clear Status with nothing left behind;
 * deleting the instance uninstalls the release and removes the namespace threeport made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELM_INSTANCE_LABEL } from '../../src/controllers/helm-workload/helm-workload-instance.ts';
import type { ObjectOf } from '../../src/model/object-types.ts';
import { Helm } from '../../src/platform/helm/index.ts';
import { readKubeconfig } from '../../src/platform/kubernetes/kubeconfig.ts';
import { eventually } from '../support/eventually.ts';
import { kubeconfig, serveSharedCharts, serveTestCharts, toolPath } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { startWorkloadPlane } from '../workloads/support/workload-plane.ts';

const LONG = { timeout: 240_000 };
const BITNAMI = 'oci://registry-1.docker.io/bitnamicharts';
type Instance = ObjectOf<'HelmWorkloadInstance'>;

describe('helm workloads', async () => {
  const work = mkdtempSync(join(tmpdir(), 'threeport-helm-workloads-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const helmBinary = toolPath('helm');
  const repository = await serveTestCharts(work);
  afterAll(() => repository.close());

  // The original's sample chart source (Bitnami's OCI registry), fetched from the real charts served on loopback.
  const sharedCharts = await serveSharedCharts();
  afterAll(() => sharedCharts.close());
  const helm = new Helm({ binary: helmBinary, home: join(work, 'helm-home'), timeoutMs: 120_000, mirror: { mappings: { [BITNAMI]: sharedCharts.url } } });
  const plane = await startWorkloadPlane({ database: 'pglite', auth: true, groups: ['workload', 'kubernetes-runtime', 'helm-workload', 'delivery'], settings: { helm: () => Promise.resolve(helm), delivery: { pollIntervalMs: 250 } } });
  const { client } = plane;
  const runtime = await plane.registerCluster('a');
  const kube = await plane.kube('a');

  const statusOf = async (id: number): Promise<string> => String((await client.kind('HelmWorkloadInstance').get(id)).Status ?? '');
  const waitFor = (id: number, prefix: string, timeoutMs = 120_000): Promise<void> =>
    eventually(`helm workload instance ${id} ${prefix}`, async () => (await statusOf(id)).startsWith(prefix) || `Status: ${await statusOf(id)}`, timeoutMs, 200);
  const namespaceOf = async (instance: Instance): Promise<string | undefined> =>
    (await kube.list('v1', 'Namespace', { labelSelector: `${HELM_INSTANCE_LABEL}=${instance.ID}` })).items[0]?.metadata.name;

  it('installs with the definition’s values and the instance’s on top, Healthy; a values edit upgrades; delete uninstalls and removes its namespace', LONG, async () => {
    const name = uniqueName('site');
    const definition = await client.kind('HelmWorkloadDefinition').create({ Name: name, Repo: repository.url, Chart: 'web', ChartVersion: '0.1.0', ValuesDocument: 'replicaCount: 1\nservice:\n  port: 80\n' });
    const instance = await client.kind('HelmWorkloadInstance').create({ Name: name, HelmWorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID, ValuesDocument: 'service:\n  port: 8080\n' });
    await waitFor(instance.ID, 'Healthy');
    const namespace = (await namespaceOf(instance))!;
    expect(namespace).toMatch(new RegExp(`^${name}-[0-9a-f]{10}$`));
    const service = await kube.get({ apiVersion: 'v1', kind: 'Service', namespace, name: `${name}-web` });
    expect((service?.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(8080);
    expect(service?.metadata.labels).toMatchObject({ [HELM_INSTANCE_LABEL]: String(instance.ID) });
    const { path, context } = kubeconfig('a');
    expect(await helm.release(readKubeconfig(path, context).credentials, name, namespace)).toMatchObject({ revision: 1, status: 'deployed' });

    await client.kind('HelmWorkloadInstance').update(instance.ID, { ValuesDocument: 'replicaCount: 2\nservice:\n  port: 8080\n' });
    await eventually('upgraded to 2 replicas', async () => {
      const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: `${name}-web` });
      return (deployment?.status as { readyReplicas?: number } | undefined)?.readyReplicas === 2 || `ready: ${String((deployment?.status as { readyReplicas?: number } | undefined)?.readyReplicas)}`;
    }, 120_000);
    await waitFor(instance.ID, 'Healthy');

    // An edit of the definition's values upgrades its instances too (what the instance sets still wins).
    await client.kind('HelmWorkloadDefinition').update(definition.ID, { ValuesDocument: 'replicaCount: 1\nservice:\n  port: 80\npodAnnotations:\n  threeport.test/values: v2\n' });
    await eventually('upgraded with the definition’s new values', async () => {
      const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: `${name}-web` });
      const template = (deployment?.spec as { template: { metadata: { annotations?: Record<string, string> } } } | undefined)?.template;
      return template?.metadata.annotations?.['threeport.test/values'] === 'v2' || 'not yet';
    }, 120_000);
    const { path: kubeconfigPath, context: kubeContext } = kubeconfig('a');
    expect(await helm.release(readKubeconfig(kubeconfigPath, kubeContext).credentials, name, namespace)).toMatchObject({ revision: 3 });
    expect((await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: `${name}-web` }))?.spec).toMatchObject({ replicas: 2 });
    await waitFor(instance.ID, 'Healthy');

    await client.kind('HelmWorkloadInstance').delete(instance.ID);
    await eventually('the instance gone', async () => (await client.kind('HelmWorkloadInstance').findByName(name)) === undefined, 120_000);
    await eventually('its namespace gone', async () => {
      const live = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
      return live === undefined || Boolean(live.metadata.deletionTimestamp);
    }, 60_000);
    expect(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: `${name}-web` })).toBeUndefined();
  });

  it('a new build of the image its values name is delivered: the release is upgraded with the tag pinned by digest, and Healthy', LONG, async () => {
    const name = uniqueName('shop');
    const image = `ghcr.io/acme/${name}`;
    const definition = await client.kind('HelmWorkloadDefinition').create({ Name: name, Repo: repository.url, Chart: 'web', ChartVersion: '0.1.0', ValuesDocument: `image:\n  repository: ${image}\n  tag: "1.0"\n` });
    const instance = await client.kind('HelmWorkloadInstance').create({ Name: name, HelmWorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await waitFor(instance.ID, 'Healthy');
    const namespace = (await namespaceOf(instance))!;
    const imageOf = async (): Promise<string | undefined> =>
      ((await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: `${name}-web` }))?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]?.image;
    expect(await imageOf()).toBe(`${image}:1.0`);
    expect(await client.kind('ImageUse').listAll({ repository: image })).toEqual([expect.objectContaining({ HelmWorkloadDefinitionID: definition.ID })]);

    await client.kind('DeliveryPolicy').create({ Name: name, Environments: [{ Name: 'dev', HelmWorkloadInstances: [name] }] });
    const digest = `sha256:${'c'.repeat(64)}`;
    const build = await client.kind('ImageBuild').create({ Repository: image, Tag: '1.1', Digest: digest });
    await eventually('the delivery Complete', async () => {
      const [delivery] = await client.kind('Delivery').listAll({ imagebuildid: build.ID });
      return delivery?.Phase === 'Complete' || `Phase ${String(delivery?.Phase)}: ${String(delivery?.Status)}`;
    }, 180_000, 250);
    expect(await imageOf()).toBe(`${image}:1.1@${digest}`);
    expect((await client.kind('HelmWorkloadInstance').get(instance.ID)).Images).toEqual({ [image]: `${image}:1.1@${digest}` });
    await waitFor(instance.ID, 'Healthy');
    await client.kind('HelmWorkloadInstance').delete(instance.ID);
    await eventually('the instance gone', async () => (await client.kind('HelmWorkloadInstance').findByName(name)) === undefined, 120_000);
  });

  it('the original’s sample: Bitnami wordpress with its MariaDB, through the chart mirror, Healthy; then uninstalled', LONG, async () => {
    const name = uniqueName('wordpress');
    // As the original's sample (no version: the newest the repository has), with what a simulated cluster needs:
    // no LoadBalancer address ever comes, and fixed passwords (random ones are read back with `lookup` on upgrade).
    const definition = await client.kind('HelmWorkloadDefinition').create({ Name: name, Repo: BITNAMI, Chart: 'wordpress', ValuesDocument: 'replicaCount: 1\nservice:\n  type: ClusterIP\n' });
    const instance = await client.kind('HelmWorkloadInstance').create({
      Name: name,
      HelmWorkloadDefinitionID: definition.ID,
      KubernetesRuntimeInstanceID: runtime.ID,
      ValuesDocument: 'commonLabels:\n  tier: dev\nwordpressPassword: wp-password\nmariadb:\n  auth:\n    rootPassword: root-password\n    password: db-password\n',
    });
    await waitFor(instance.ID, 'Healthy', 180_000);
    const namespace = (await namespaceOf(instance))!;
    const statefulSet = await kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: `${name}-mariadb` });
    // The MariaDB subchart's objects too carry threeport's label (commonLabels are the parent chart's only).
    expect(statefulSet?.metadata.labels).toMatchObject({ [HELM_INSTANCE_LABEL]: String(instance.ID) });
    const deployments = (await kube.list('apps/v1', 'Deployment', { namespace })).items;
    expect(deployments.map((deployment) => deployment.metadata.labels)).toEqual([expect.objectContaining({ tier: 'dev', [HELM_INSTANCE_LABEL]: String(instance.ID) })]);
    await client.kind('HelmWorkloadInstance').delete(instance.ID);
    await eventually('the instance gone', async () => (await client.kind('HelmWorkloadInstance').findByName(name)) === undefined, 180_000);
    expect(await kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: `${name}-mariadb` })).toBeUndefined();
  });

  it('a chart that cannot install: helm’s reason in Status, rolled back, nothing of the release left', LONG, async () => {
    const name = uniqueName('broken');
    const definition = await client.kind('HelmWorkloadDefinition').create({ Name: name, Repo: repository.url, Chart: 'broken', ChartVersion: '0.1.0' });
    const instance = await client.kind('HelmWorkloadInstance').create({ Name: name, HelmWorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await waitFor(instance.ID, `Error: helm could not install or upgrade release ${name}`);
    const status = await statusOf(instance.ID);
    expect(status).toContain('Not_A_Valid_Name');
    expect(status).not.toContain('    at ');
    // Rolled back: no release, and none of what it made before the failure.
    const namespace = (await namespaceOf(instance))!;
    const { path, context } = kubeconfig('a');
    expect(await helm.release(readKubeconfig(path, context).credentials, name, namespace)).toBeUndefined();
    expect(await kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: `${name}-broken` })).toBeUndefined();
  });

  it('a release of that name it did not install is refused, not taken over', LONG, async () => {
    const name = uniqueName('taken');
    const { path, context } = kubeconfig('a');
    const connection = readKubeconfig(path, context).credentials;
    const namespace = `${name}-own`;
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    // Someone's own release (no threeport labels on its objects).
    await helm.apply(connection, { name, namespace, source: { repository: repository.url, chart: 'web', version: '0.1.0' }, values: {}, labels: {} });
    const definition = await client.kind('HelmWorkloadDefinition').create({ Name: name, Repo: repository.url, Chart: 'web', ChartVersion: '0.1.0' });
    const instance = await client.kind('HelmWorkloadInstance').create({ Name: name, HelmWorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID, ReleaseNamespace: namespace });
    await waitFor(instance.ID, `Failed: namespace ${namespace} already has a Helm release ${name} that this instance did not install`);
    expect(await helm.release(connection, name, namespace)).toMatchObject({ revision: 1 });
    // The cluster is shared: the someone's release goes with the test.
    await client.kind('HelmWorkloadInstance').delete(instance.ID);
    await eventually('instance gone', async () => (await client.kind('HelmWorkloadInstance').listAll({ name })).length === 0);
    await helm.uninstall(connection, name, namespace);
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  });

  it('a definition helm could never use is Failed with the reason, not retried', LONG, async () => {
    const definition = await client.kind('HelmWorkloadDefinition').create({ Name: uniqueName('bad-source'), Repo: 'charts.example.com', Chart: 'web' });
    await eventually('failed', async () => {
      const current = await client.kind('HelmWorkloadDefinition').get(definition.ID);
      return String(current.Status ?? '').startsWith('Failed: invalid chart repository "charts.example.com"') || `Status: ${String(current.Status)}`;
    });
  });
});
