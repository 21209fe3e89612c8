/**
 * The Helm platform layer (src/platform/helm) with the real helm against the test bed's cluster a:
 * charts from a repository served on loopback, reached through a mirror, values layered, every
 * object labelled, upgrades, a failing install rolled back, uninstall.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chartArguments, Helm, HelmError, layered, mirrored, parseValues, ValuesError } from '../../src/platform/helm/index.ts';
import type { ClusterConnection } from '../../src/platform/kubernetes/connections.ts';
import { readKubeconfig } from '../../src/platform/kubernetes/kubeconfig.ts';
import { KubernetesClient } from '../../src/platform/kubernetes/client.ts';
import { KubernetesTransport } from '../../src/platform/kubernetes/transport.ts';
import { withLabels } from '../../src/platform/helm/post-render.ts';
import { freshNamespace, kubeconfig, serveTestCharts, toolPath } from '../support/peers.ts';

const LONG = { timeout: 240_000 };
const work = mkdtempSync(join(tmpdir(), 'threeport-helm-layer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('chart sources and values', () => {
  it('a mirror replaces the repository (a mapping first), for HTTP repositories and OCI registries', () => {
    const source = { repository: 'https://charts.bitnami.com/bitnami/', chart: 'wordpress', version: '26.0.0' };
    expect(chartArguments(mirrored(source, undefined))).toEqual(['wordpress', '--repo', 'https://charts.bitnami.com/bitnami', '--version', '26.0.0']);
    expect(chartArguments(mirrored(source, { url: 'oci://mirror.internal/charts' }))).toEqual(['oci://mirror.internal/charts/wordpress', '--version', '26.0.0']);
    expect(chartArguments(mirrored(source, { url: 'oci://mirror.internal/charts', mappings: { 'https://charts.bitnami.com/bitnami': 'http://127.0.0.1:8080/bitnami' } }))).toEqual([
      'wordpress', '--repo', 'http://127.0.0.1:8080/bitnami', '--version', '26.0.0',
    ]);
    expect(() => mirrored({ ...source, repository: 'charts.bitnami.com' }, undefined)).toThrow('invalid chart repository "charts.bitnami.com": expected an http(s):// chart repository or an oci:// registry');
    expect(() => chartArguments({ ...source, chart: '--set=x' })).toThrow('invalid chart name "--set=x"');
  });

  it('instance values over definition values, as helm merges them; a null is kept for helm to drop the default', () => {
    const definition = parseValues('replicaCount: 1\nservice: {type: ClusterIP, port: 80}\nresources: {limits: {cpu: 1}}\n', 'the definition values');
    const instance = parseValues('replicaCount: 3\nservice: {port: 8080}\nresources: {limits: null}\n', 'the instance values');
    expect(layered(definition, instance)).toEqual({ replicaCount: 3, service: { type: 'ClusterIP', port: 8080 }, resources: { limits: null } });
    expect(parseValues('', 'x')).toEqual({});
    expect(() => parseValues('- a\n- b\n', 'the instance values')).toThrow(new ValuesError('the instance values must be a map of values (key: value), not a list'));
    expect(() => parseValues('a: [1\n', 'the definition values')).toThrow(/the definition values is not valid YAML/);
  });
});

describe('the post-renderer', () => {
  it('adds the labels and keeps every other value as the chart rendered it (YAML 1.1, as helm and Kubernetes read it)', () => {
    const rendered = [
      '# Source: web/templates/deployment.yaml',
      'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: a', '  labels:', '    app: "yes"',
      'data:', '  mode: "on"', '  count: "1_000"', 'spec:', '  defaultMode: 0644', '  big: 12345678901234567890', '  flag: yes',
      '---', '# Source: web/templates/empty.yaml',
      '---', 'apiVersion: v1', 'kind: Secret', 'metadata: {name: b}', 'stringData: {k: "no"}', '',
    ].join('\n');
    const out = withLabels(rendered, { 'control-plane.threeport.io/helm-workload-instance': '7' });
    expect(out).toContain('    app: "yes"\n    control-plane.threeport.io/helm-workload-instance: "7"\n');
    for (const kept of ['mode: "on"', 'count: "1_000"', 'defaultMode: 0644', 'big: 12345678901234567890', 'flag: yes', 'k: "no"']) expect(out).toContain(kept);
    expect(out).toContain('metadata: { name: b, labels: { control-plane.threeport.io/helm-workload-instance: "7" } }');
    expect(out.match(/^---$/gm)).toHaveLength(2);
    expect(() => withLabels('apiVersion: v1\nkind: List\nitems: []\n', {})).toThrow('a chart renders a List');
  });
});

describe('helm against the test bed', async () => {
  const helmBinary = toolPath('helm');
  const repository = await serveTestCharts(work);
  afterAll(() => repository.close());

  const { path, context } = kubeconfig('a');
  // The runtime's way in, as a KubernetesRuntimeInstance holds it: credentials, not a kubeconfig file.
  const cluster: ClusterConnection = readKubeconfig(path, context).credentials;
  const kube = new KubernetesClient(KubernetesTransport.fromCredentials(cluster));
  afterAll(() => kube.transport.close());
  // Charts come through the mirror: the source names a repository that does not exist.
  const helm = new Helm({ binary: helmBinary, home: join(work, 'helm-home'), mirror: { url: repository.url }, timeoutMs: 180_000 });
  const source = { repository: 'https://charts.example.com/stable', chart: 'web', version: '0.1.0' };
  const labels = { 'control-plane.threeport.io/helm-workload-instance': '7', 'control-plane.threeport.io/control-plane-id': 'test' };

  it('installs through the mirror with layered values, labels every object, upgrades, and uninstalls', LONG, async () => {
    const namespace = await freshNamespace('a', 'helm');
    const values = layered(parseValues('replicaCount: 1\nservice:\n  port: 80\n', 'definition'), parseValues('service:\n  port: 8080\n', 'instance'));
    const installed = await helm.apply(cluster, { name: 'site', namespace, source, values, labels });
    expect(installed).toMatchObject({ name: 'site', namespace, revision: 1, status: 'deployed', chart: 'web-0.1.0', changed: true });
    expect(installed.manifests.map((object) => object.kind).sort()).toEqual(['Deployment', 'Service', 'ServiceAccount']);
    // The same again: nothing to do, no new revision.
    expect(await helm.apply(cluster, { name: 'site', namespace, source, values, labels })).toMatchObject({ revision: 1, changed: false });
    // Nor when the spec names no version (the newest was taken at install).
    expect(await helm.apply(cluster, { name: 'site', namespace, source: { repository: source.repository, chart: source.chart }, values, labels })).toMatchObject({ revision: 1, changed: false });

    const made = await helm.manifests(cluster, 'site', namespace);
    expect(made.map((object) => object.kind).sort()).toEqual(['Deployment', 'Service', 'ServiceAccount']);
    for (const object of made) expect(object.metadata.labels).toMatchObject(labels);
    const service = await kube.get({ apiVersion: 'v1', kind: 'Service', namespace, name: 'site-web' });
    expect(service?.metadata.labels).toMatchObject(labels);
    expect((service?.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(8080);

    const upgraded = await helm.apply(cluster, { name: 'site', namespace, source, values: layered(values, { replicaCount: 2 }), labels });
    expect(upgraded).toMatchObject({ revision: 2, status: 'deployed' });
    const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: 'site-web' });
    expect((deployment?.status as { readyReplicas?: number }).readyReplicas).toBe(2);

    // Additional resources come with the release; a change of them alone is an upgrade; an existing release is shown to accept first.
    const settings = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'site-extra' }, data: { mode: 'a' } };
    const withExtra = await helm.apply(cluster, { name: 'site', namespace, source, values: layered(values, { replicaCount: 2 }), labels, additional: [settings] });
    expect(withExtra).toMatchObject({ revision: 3, changed: true });
    expect((await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'site-extra' }))?.metadata.labels).toMatchObject(labels);
    const seen: string[] = [];
    const again = await helm.apply(cluster, { name: 'site', namespace, source, values: layered(values, { replicaCount: 2 }), labels, additional: [settings] }, { accept: (made) => void seen.push(...made.map((object) => object.kind)) });
    expect(again).toMatchObject({ revision: 3, changed: false });
    expect(seen.sort()).toEqual(['ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
    expect(await helm.apply(cluster, { name: 'site', namespace, source, values: layered(values, { replicaCount: 2 }), labels, additional: [{ ...settings, data: { mode: 'b' } }] })).toMatchObject({ revision: 4 });
    await expect(helm.apply(cluster, { name: 'site', namespace, source, values, labels }, { accept: () => { throw new Error('not ours'); } })).rejects.toThrow('not ours');

    expect(await helm.uninstall(cluster, 'site', namespace)).toBe('uninstalled');
    expect(await helm.release(cluster, 'site', namespace)).toBeUndefined();
    expect(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'site-extra' })).toBeUndefined();
    expect(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: 'site-web' })).toBeUndefined();
    expect(await helm.uninstall(cluster, 'site', namespace)).toBe('absent');
  });

  it('a chart that fails to install: helm’s own reason, and nothing left behind', LONG, async () => {
    const namespace = await freshNamespace('a', 'helm');
    const failure = await helm.apply(cluster, { name: 'bad', namespace, source: { ...source, chart: 'broken' }, values: {}, labels }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(HelmError);
    expect((failure as HelmError).message).toContain('Not_A_Valid_Name');
    expect((failure as HelmError).message).not.toContain('    at ');
    expect(await helm.release(cluster, 'bad', namespace)).toBeUndefined();
    expect(await kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: 'bad-broken' })).toBeUndefined();
  });

  it('a chart that is not in the repository, and a stopped run: clear errors', LONG, async () => {
    const namespace = await freshNamespace('a', 'helm');
    const missing = await helm.apply(cluster, { name: 'nothing', namespace, source: { ...source, chart: 'no-such-chart' }, values: {}, labels }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(HelmError);
    expect((missing as HelmError).message).toContain('no-such-chart');
    const stopped = new AbortController();
    stopped.abort(new Error('the reconcile was stopped'));
    await expect(helm.release(cluster, 'site', namespace, { signal: stopped.signal })).rejects.toThrow('helm list stopped: the reconcile was stopped');
  });
});
