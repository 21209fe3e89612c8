/**
 * An observability stack on the test bed's cluster b, the control plane's own runtime here: the
 * real charts (kube-prometheus-stack, Grafana, Loki, Grafana Alloy) from the shared chart mirror,
 * installed by the real helm through Helm workloads, wired to one another, upgraded when logging
 * is turned on, uninstalled on delete; a workload's metrics port brings its ServiceMonitor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeText, gatherDescription } from '../../src/cli/output/describe.ts';
import { GRAFANA_ADMIN_SECRET, OBSERVABILITY_NAMESPACE } from '../../src/controllers/observability/values.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import { registry } from '../../src/model/registry.ts';
import { Helm } from '../../src/platform/helm/index.ts';
import { readKubeconfig } from '../../src/platform/kubernetes/kubeconfig.ts';
import { eventually } from '../support/eventually.ts';
import { kubeconfig, serveSharedCharts, toolPath } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { deleteEvery, namespaceOf, startWorkloadPlane } from '../workloads/support/workload-plane.ts';

const LONG = { timeout: 600_000 };

const metricsApp = (name: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: app, image: nginx:1.27, ports: [{ containerPort: 8080 }, { containerPort: 9102 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: 8080 }, { name: metrics, port: 9102 }]
`;

/** Metrics on a container port and no Service: a PodMonitor. */
const podMetricsApp = (name: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} }, annotations: { prometheus.io/path: /stats } }
    spec:
      containers: [{ name: app, image: nginx:1.27, ports: [{ name: http-metrics, containerPort: 9102 }] }]
`;

describe('observability stacks', async () => {
  const work = mkdtempSync(join(tmpdir(), 'threeport-observability-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const charts = await serveSharedCharts();
  afterAll(() => charts.close());
  const helm = new Helm({ binary: toolPath('helm'), home: join(work, 'helm-home'), timeoutMs: 240_000, mirror: { url: charts.url } });
  const { path: kubeconfigPath, context: kubeContext } = kubeconfig('b');
  const connection = readKubeconfig(kubeconfigPath, kubeContext).credentials;
  const plane = await startWorkloadPlane({
    database: 'pglite',
    auth: true,
    groups: ['workload', 'kubernetes-runtime', 'helm-workload', 'observability', 'application'],
    settings: { helm: () => Promise.resolve(helm), observability: { pollIntervalMs: 500 }, application: { pollIntervalMs: 500, checkIntervalMs: 5000 } },
  });
  const { client } = plane;
  const runtime = await plane.registerCluster('b', { ThreeportControlPlaneHost: true });
  const kube = await plane.kube('b');
  afterAll(async () => {
    await deleteEvery(client, ['Application', 'ObservabilityStackInstance', 'WorkloadInstance'], 300_000);
  }, 360_000);

  const releases = () => client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID });
  const releaseOf = async (chart: string) => {
    const all = await releases();
    const definitions = await Promise.all(all.map((instance) => client.kind('HelmWorkloadDefinition').get(instance.HelmWorkloadDefinitionID)));
    const index = definitions.findIndex((definition) => definition.Chart === chart);
    return index >= 0 ? all[index] : undefined;
  };
  const ready = (id: number) =>
    eventually(`stack instance ${id} ready`, async () => {
      const instance = await client.kind('ObservabilityStackInstance').get(id);
      return (instance.Reconciled === true && instance.ObservedGeneration === instance.Generation) || `Status: ${String(instance.Status ?? '')}`;
    }, 540_000, 500);
  const configData = async (name: string): Promise<Record<string, string>> => ((await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: OBSERVABILITY_NAMESPACE, name }))?.data ?? {}) as Record<string, string>;

  let stackId: number;
  // Deployed before the stack: it gets its ServiceMonitor once metrics are installed.
  const early = uniqueName('early');
  const { instance: earlyWorkload } = await plane.deploy(early, metricsApp(early), runtime.ID);

  it('metrics and dashboards: releases deployed with the expected values, data sources wired, dashboards present, instance values over definition values, threeport scraped', LONG, async () => {
    const definition = await client.kind('ObservabilityStackDefinition').create({
      Name: uniqueName('obs'),
      GrafanaHelmValuesDocument: 'replicas: 2\npodAnnotations: { threeport-test/from: definition }\n',
    });
    const instance = await client.kind('ObservabilityStackInstance').create({
      Name: uniqueName('obs'),
      ObservabilityStackDefinitionID: definition.ID,
      KubernetesRuntimeInstanceID: runtime.ID,
      LoggingEnabled: false,
      GrafanaHelmValuesDocument: 'replicas: 3\n',
    });
    stackId = instance.ID;
    await ready(instance.ID);

    const grafana = (await releaseOf('grafana'))!;
    const prometheus = (await releaseOf('kube-prometheus-stack'))!;
    expect(await releaseOf('loki'), 'logging is off').toBeUndefined();
    for (const release of [grafana, prometheus]) {
      expect(release.ReleaseNamespace).toBe(OBSERVABILITY_NAMESPACE);
      expect(await helm.release(connection, String(release.Name), OBSERVABILITY_NAMESPACE)).toMatchObject({ status: 'deployed' });
    }
    const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: OBSERVABILITY_NAMESPACE, name: 'grafana' });
    expect((deployment?.spec as { replicas: number }).replicas, "the instance's value wins").toBe(3);
    expect((deployment?.spec as { template: Manifest }).template.metadata.annotations, "the definition's value where the instance sets none").toMatchObject({ 'threeport-test/from': 'definition' });

    // The admin password is generated and kept in a Secret.
    const admin = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: OBSERVABILITY_NAMESPACE, name: GRAFANA_ADMIN_SECRET });
    const password = Buffer.from(String((admin as unknown as { data: Record<string, string> }).data['admin-password']), 'base64').toString();
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(password).not.toBe('password');

    // Grafana's data sources: Prometheus, no Loki yet.
    const sources = parse(String((await configData('grafana'))['datasources.yaml'])) as { datasources: { name: string; url: string }[] };
    expect(sources.datasources).toEqual([expect.objectContaining({ name: 'Prometheus', url: `http://metrics-prometheus.${OBSERVABILITY_NAMESPACE}.svc:9090` })]);
    // The standard Kubernetes dashboards and threeport's own, for Grafana's sidecar.
    const dashboards = await kube.list('v1', 'ConfigMap', { namespace: OBSERVABILITY_NAMESPACE, labelSelector: 'grafana_dashboard=1' });
    const names = dashboards.items.map((item) => item.metadata.name);
    expect(names.length).toBeGreaterThan(10);
    expect(names).toEqual(expect.arrayContaining(['threeport-control-plane-dashboard', 'threeport-workload-logs-dashboard', 'metrics-k8s-resources-pod']));
    expect(JSON.stringify(await configData('threeport-control-plane-dashboard'))).toContain('threeport_controller_queue_depth');

    // Prometheus selects every ServiceMonitor and scrapes the control plane's API.
    const prometheusResource = await kube.get({ apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus', namespace: OBSERVABILITY_NAMESPACE, name: 'metrics-prometheus' });
    expect(prometheusResource?.spec).toMatchObject({ serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {}, secrets: ['threeport-api-ca'] });
    const scrape = await kube.list('v1', 'Secret', { namespace: OBSERVABILITY_NAMESPACE });
    const scrapeConfig = scrape.items.map((item) => (item as { data?: Record<string, string> }).data?.['additional-scrape-configs.yaml']).find(Boolean);
    const apiHost = new URL(plane.api.url).host;
    expect(Buffer.from(String(scrapeConfig), 'base64').toString()).toContain(apiHost);

    const stored = await client.kind('ObservabilityStackInstance').get(instance.ID);
    expect(stored.Access).toMatchObject({ Namespace: OBSERVABILITY_NAMESPACE, Grafana: expect.stringContaining('port-forward svc/grafana 3000:80') });
    const described = describeText(await gatherDescription(client, registry.get('ObservabilityStackInstance'), stored));
    expect(described).toContain('port-forward svc/grafana');
    expect(described).not.toContain(password);

    // The workload deployed before metrics were installed was asked to look again: its ServiceMonitor is there.
    const earlyNamespace = await namespaceOf(client, earlyWorkload.ID);
    await eventually('the earlier workload monitored', async () => (await kube.get({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: earlyNamespace, name: `${earlyWorkload.Name}-metrics` })) !== undefined);
  });

  it('a workload that names a metrics port gets its ServiceMonitor; one with a metrics container port and no Service a PodMonitor', LONG, async () => {
    const name = uniqueName('metered');
    const { instance } = await plane.deploy(name, metricsApp(name), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    const monitorRef = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace, name: `${instance.Name}-metrics` };
    await eventually('ServiceMonitor applied', async () => (await kube.get(monitorRef)) !== undefined);
    const monitor = await kube.get(monitorRef);
    expect(monitor?.spec).toMatchObject({ selector: { matchLabels: { 'control-plane.threeport.io/workload-instance': String(instance.ID) } }, endpoints: [{ port: 'metrics', path: '/metrics' }] });
    const podOnly = uniqueName('pods');
    const { instance: podWorkload } = await plane.deploy(podOnly, podMetricsApp(podOnly), runtime.ID);
    await plane.waitForStatus(podWorkload.ID, 'Healthy');
    const podMonitor = await kube.get({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', namespace: await namespaceOf(client, podWorkload.ID), name: `${podWorkload.Name}-metrics` });
    expect(podMonitor?.spec).toMatchObject({ selector: { matchLabels: { 'control-plane.threeport.io/workload-instance': String(podWorkload.ID) } }, podMetricsEndpoints: [{ port: 'http-metrics', path: '/stats' }] });
    // Its pods carry the names its logs are labelled with.
    const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name });
    expect((deployment?.spec as { template: Manifest }).template.metadata.labels).toMatchObject({ 'control-plane.threeport.io/workload-name': name, 'control-plane.threeport.io/instance-name': instance.Name });
  });

  const applications = client.kind('Application');
  const applicationStatus = async (id: number): Promise<string> => String((await applications.get(id)).Status ?? '');
  const observabilityChild = async (id: number) => ((await applications.get(id)).Children as { Role: string; Kind: string; ID: number; Made: boolean }[] | undefined)?.find((child) => child.Role.startsWith('observability:'));
  const deleted = (id: number) => eventually(`application ${id} gone`, async () => (await applications.listAll()).every((application) => application.ID !== id), 300_000);

  it('an application asking for observability uses its runtime’s stack, and waits, saying why, while the stack lacks what it asks; deleting it leaves the stack', LONG, async () => {
    const watched = await applications.create({ Name: uniqueName('watched'), Runtime: { Name: runtime.Name }, YAMLDocument: metricsApp('watched'), Observability: {} });
    await eventually('watched Healthy', async () => (await applicationStatus(watched.ID)).startsWith('Healthy') || (await applicationStatus(watched.ID)), 180_000);
    expect(await observabilityChild(watched.ID)).toMatchObject({ Kind: 'ObservabilityStackInstance', ID: stackId, Made: false });

    // The stack has logging off: an application asking for logs is told so, and the stack is left as it is.
    const logged = await applications.create({ Name: uniqueName('logged'), Runtime: { Name: runtime.Name }, YAMLDocument: metricsApp('logged'), Observability: { LoggingEnabled: true } });
    await eventually('logged waits on the stack', async () => /^Waiting: observability stack .* has LoggingEnabled false/.test(await applicationStatus(logged.ID)) || (await applicationStatus(logged.ID)), 180_000);
    expect((await client.kind('ObservabilityStackInstance').get(stackId)).LoggingEnabled).toBe(false);

    for (const application of [watched, logged]) await applications.delete(application.ID);
    for (const application of [watched, logged]) await deleted(application.ID);
    expect((await client.kind('ObservabilityStackInstance').get(stackId)).DeletionScheduled ?? null).toBeNull();
  });

  it('logging enabled later: Loki and Alloy installed, Grafana upgraded with Loki as a data source; new definition values upgrade; logging off uninstalls; delete uninstalls everything it installed and nothing else', LONG, async () => {
    const grafana = (await releaseOf('grafana'))!;
    const before = (await helm.release(connection, String(grafana.Name), OBSERVABILITY_NAMESPACE))?.revision;
    await client.kind('ObservabilityStackInstance').update(stackId, { LoggingEnabled: true });
    await ready(stackId);
    for (const chart of ['loki', 'alloy']) {
      const release = (await releaseOf(chart))!;
      expect(await helm.release(connection, String(release.Name), OBSERVABILITY_NAMESPACE)).toMatchObject({ status: 'deployed' });
    }
    expect((await helm.release(connection, String(grafana.Name), OBSERVABILITY_NAMESPACE))?.revision).toBeGreaterThan(Number(before));
    const sources = parse(String((await configData('grafana'))['datasources.yaml'])) as { datasources: { name: string; url: string }[] };
    expect(sources.datasources.map((source) => source.name)).toEqual(['Prometheus', 'Loki']);
    expect(sources.datasources[1]!.url).toBe(`http://loki.${OBSERVABILITY_NAMESPACE}.svc:3100`);
    const alloy = String((await configData('log-collector'))['config.alloy']);
    expect(alloy).toContain(`http://loki.${OBSERVABILITY_NAMESPACE}.svc:3100/loki/api/v1/push`);
    expect(alloy).toContain('__meta_kubernetes_pod_label_control_plane_threeport_io_workload_name');

    // A definition's values change: the release is upgraded with them.
    const stack = await client.kind('ObservabilityStackInstance').get(stackId);
    const revision = (await helm.release(connection, String(grafana.Name), OBSERVABILITY_NAMESPACE))?.revision;
    await client.kind('ObservabilityStackDefinition').update(stack.ObservabilityStackDefinitionID, { GrafanaHelmValuesDocument: 'replicas: 2\npodAnnotations: { threeport-test/from: definition-v2 }\n' });
    await eventually('Grafana upgraded with the definition\'s new values', async () => {
      const template = ((await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: OBSERVABILITY_NAMESPACE, name: 'grafana' }))?.spec as { template: Manifest }).template;
      return template.metadata.annotations?.['threeport-test/from'] === 'definition-v2';
    }, 300_000);
    expect((await helm.release(connection, String(grafana.Name), OBSERVABILITY_NAMESPACE))?.revision).toBeGreaterThan(Number(revision));
    await ready(stackId);

    // Logging off again: Loki and Alloy are uninstalled, Grafana loses the Loki data source.
    const logging = [(await releaseOf('loki'))!, (await releaseOf('alloy'))!];
    await client.kind('ObservabilityStackInstance').update(stackId, { LoggingEnabled: false });
    await ready(stackId);
    for (const release of logging) expect(await helm.release(connection, String(release.Name), OBSERVABILITY_NAMESPACE)).toBeUndefined();
    const withoutLoki = parse(String((await configData('grafana'))['datasources.yaml'])) as { datasources: { name: string }[] };
    expect(withoutLoki.datasources.map((source) => source.name)).toEqual(['Prometheus']);

    const second = await client.kind('ObservabilityStackInstance').create({ Name: uniqueName('obs'), ObservabilityStackDefinitionID: (await client.kind('ObservabilityStackInstance').get(stackId)).ObservabilityStackDefinitionID, KubernetesRuntimeInstanceID: runtime.ID });
    await eventually('a second stack on the runtime refused', async () => /one stack per runtime/.test(String((await client.kind('ObservabilityStackInstance').get(second.ID)).Status ?? '')));
    await client.kind('ObservabilityStackInstance').delete(second.ID);
    await eventually('second gone', async () => (await client.kind('ObservabilityStackInstance').listAll({ name: second.Name })).length === 0);

    const installed = await releases();
    await client.kind('ObservabilityStackInstance').delete(stackId);
    await eventually('stack instance gone', async () => (await client.kind('ObservabilityStackInstance').listAll()).length === 0, 300_000);
    expect(await releases()).toHaveLength(0);
    for (const release of installed) expect(await helm.release(connection, String(release.Name), OBSERVABILITY_NAMESPACE)).toBeUndefined();
    await eventually('namespace removed', async () => (await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: OBSERVABILITY_NAMESPACE })) === undefined || (await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: OBSERVABILITY_NAMESPACE }))?.metadata.deletionTimestamp !== undefined);
    // Nothing else: the workloads and their monitors stay.
    const earlyNamespace = await namespaceOf(client, earlyWorkload.ID);
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: earlyNamespace })).toBeDefined();
    expect(await kube.get({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: earlyNamespace, name: `${earlyWorkload.Name}-metrics` })).toBeDefined();
  });

  it('a profile that turns observability on has a stack made for its applications’ runtime, shared with the others there, removed by the last of them', LONG, async () => {
    await eventually('the previous stack’s namespace gone', async () => (await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: OBSERVABILITY_NAMESPACE })) === undefined, 300_000);
    // Without a stack and without a profile's consent: waiting, saying what to do.
    const plain = await applications.create({ Name: uniqueName('plain'), Runtime: { Name: runtime.Name }, YAMLDocument: metricsApp('plain'), Observability: { MetricsEnabled: true } });
    await eventually('plain waits for a stack', async () => /has no observability stack.*profile whose Observability is Enabled/.test(await applicationStatus(plain.ID)) || (await applicationStatus(plain.ID)), 120_000);

    const profile = await client.kind('Profile').create({ Name: uniqueName('observed'), Observability: { Enabled: true, LoggingEnabled: false } });
    const maker = await applications.create({ Name: uniqueName('maker'), Profile: profile.Name, Runtime: { Name: runtime.Name }, YAMLDocument: metricsApp('maker') });
    await eventually('maker Healthy with its stack', async () => (await applicationStatus(maker.ID)).startsWith('Healthy') || (await applicationStatus(maker.ID)), 540_000, 1000);
    const made = await observabilityChild(maker.ID);
    expect(made).toMatchObject({ Kind: 'ObservabilityStackInstance', Made: true });
    const stack = await client.kind('ObservabilityStackInstance').get(made!.ID);
    expect(stack).toMatchObject({ Name: `${String(runtime.Name)}-observability`, KubernetesRuntimeInstanceID: runtime.ID, LoggingEnabled: false, SharedByApplications: true });
    expect(await releaseOf('kube-prometheus-stack')).toBeDefined();

    // The application that waited uses it now.
    await eventually('plain Healthy on the made stack', async () => (await applicationStatus(plain.ID)).startsWith('Healthy') || (await applicationStatus(plain.ID)), 120_000);
    expect(await observabilityChild(plain.ID)).toMatchObject({ ID: stack.ID, Made: false });

    // Its maker goes: the stack stays for the other application; the last one to go removes it, releases and all.
    await applications.delete(maker.ID);
    await deleted(maker.ID);
    expect((await client.kind('ObservabilityStackInstance').get(stack.ID)).DeletionScheduled ?? null).toBeNull();
    const installed = await releases();
    expect(installed.length).toBeGreaterThan(0);
    await applications.delete(plain.ID);
    await deleted(plain.ID);
    await eventually('the shared stack removed with its last user', async () => (await client.kind('ObservabilityStackInstance').listAll()).length === 0 && (await client.kind('ObservabilityStackDefinition').listAll({ name: String(stack.Name) })).length === 0, 300_000);
    for (const release of installed) expect(await helm.release(connection, String(release.Name), OBSERVABILITY_NAMESPACE)).toBeUndefined();
    // Instance before definition: nothing was left behind as someone else's.
    expect(await client.kind('Event').listAll({ reason: 'PartLeft' })).toEqual([]);
  });
});
