/**
 * Workloads on a real (simulated) Kubernetes cluster through the real tptctl and the embedded
 * control plane's controllers: the README's quick start against the test bed's cluster
 * (`up --kubeconfig … --context …`, the wordpress sample created with --wait until Healthy, then
 * get and describe), --wait ending at once on a Failed instance and after --timeout on a Down
 * one, the cluster's and the controller's warnings in describe, and `up` with a cluster it
 * cannot reach.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ApiClient } from '../../src/client/api-client.ts';
import { freePort } from '../../src/local-runtime/ports.ts';
import { parseResourceKey } from '../../src/model/resource-key.ts';
import { repoRoot } from '../support/control-plane.ts';
import { kubeconfig } from '../support/peers.ts';
import { ensureBundle, Tptctl } from './support.ts';

const wordpressSample = join(repoRoot, 'samples/wordpress-workload.yaml');

/** A Workload config and its manifests, written next to each other in `dir`. */
function workloadFiles(dir: string, name: string, manifests: string, extra = ''): string {
  writeFileSync(join(dir, `${name}-manifests.yaml`), manifests);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `Workload:\n  Name: ${name}\n  YAMLDocument: ${name}-manifests.yaml\n${extra}`);
  return file;
}

const deployment = (name: string, container: Record<string, unknown>, replicas = 1): string =>
  stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'nginx:1.27', ...container }] } } },
  });

describe('workloads on a Kubernetes cluster through tptctl', () => {
  const tptctl = new Tptctl();
  const cluster = { path: '', context: '' };
  let api: ApiClient;
  let started = '';
  let upSeconds = 0;
  const created: string[] = [];

  beforeAll(async () => {
    await ensureBundle();
    Object.assign(cluster, kubeconfig('a'));
    const port = await freePort();
    const at = performance.now();
    started = await tptctl.ok(['up', '--name', 'wl', '--listen', `127.0.0.1:${port}`, '--kubeconfig', cluster.path, '--context', cluster.context], { timeoutMs: 150_000 });
    upSeconds = (performance.now() - at) / 1000;
    api = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` });
  }, 180_000);

  afterAll(async () => {
    // The cluster is shared: take the workloads out of it before the control plane goes.
    for (const name of created) await tptctl.run(['delete', 'workload', '--name', name, '--wait', '--timeout', '60s'], { timeoutMs: 90_000 });
    await tptctl.run(['down', '--name', 'wl'], { timeoutMs: 60_000 });
  }, 240_000);

  it('up --kubeconfig --context registers the cluster, waits until it is Ready, and writes the original config with the encryption key', async () => {
    expect(started).toContain(`Info: Kubernetes runtime threeport-wl registered as the default runtime (context ${cluster.context})`);
    expect(started).toMatch(/Info: kubernetes runtime instance threeport-wl is Ready: Kubernetes v\d+\.\d+\.\d+, \d+ node\(s\); agent: /);
    expect(started).toContain('Complete: Threeport control plane wl created');

    const config = parse(readFileSync(tptctl.configPath, 'utf8')) as { ControlPlanes: Record<string, unknown>[]; CurrentControlPlane: string };
    expect(Object.keys(config)).toEqual(['ControlPlanes', 'CurrentControlPlane']);
    expect(config.CurrentControlPlane).toBe('wl');
    const [entry] = config.ControlPlanes;
    expect(Object.keys(entry!).sort()).toEqual(['APIServer', 'AuthEnabled', 'Embedded', 'EncryptionKey', 'Genesis', 'Name', 'Provider']);
    expect(Buffer.from(String(entry!.EncryptionKey), 'base64')).toHaveLength(32);
    // The key is the control plane's: the runtime's encrypted client key is shown decrypted to its owner only.
    const runtime = JSON.parse(await tptctl.ok(['describe', 'kubernetes-runtime-instance', 'threeport-wl', '-o', 'json'])) as Record<string, unknown>;
    expect(runtime.CertificateKey).toBe('[encrypted value redacted]');
    expect(await tptctl.ok(['describe', 'kubernetes-runtime-instance', 'threeport-wl', '-f', 'CertificateKey'])).toContain('PRIVATE KEY-----');
    expect(await tptctl.ok(['describe', 'kubernetes-runtime', 'threeport-wl'])).toMatch(/\* KubernetesRuntimeInstance Status: Ready\n\* KubernetesRuntimeInstance Status Reason: Kubernetes v/);
  }, 120_000);

  it("runs the README's quick start: the wordpress sample created with --wait is Healthy, in get and describe", async () => {
    const at = performance.now();
    const result = await tptctl.run(['create', 'workload', '-c', wordpressSample, '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
    const createSeconds = (performance.now() - at) / 1000;
    created.push('wordpress');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Info: application wordpress created');
    expect(result.stdout).toContain('Info: application wordpress is Healthy: 6 resource(s) ready; ');
    expect(result.stdout).toContain('Complete: workload wordpress created');
    expect(result.stderr).toContain('waiting: application wordpress: ');
    console.info(`quick start: up ${upSeconds.toFixed(1)} s, create --wait until Healthy ${createSeconds.toFixed(1)} s`);

    expect(await tptctl.ok(['get', 'workloads'])).toMatch(/\nv0\s+wordpress\s+wordpress\s+wordpress\s+threeport-wl\s+Healthy: 6 resource\(s\) ready\s+\d+s/);
    expect(await tptctl.ok(['get', 'workload-instances'])).toMatch(/\nwordpress\s+wordpress\s+threeport-wl\s+Healthy: 6 resource\(s\) ready\s+\d+s/);

    const described = await tptctl.ok(['describe', 'workload', 'wordpress']);
    expect(described).toMatch(/^\* WorkloadInstance Name: wordpress\n\* Created: .+\n\* Last Modified: .+\n/);
    expect(described).toContain('* Workload Status: Healthy\n* Workload Status Reason: 6 resource(s) ready\n* Resources (6):\n');
    const namespace = /Namespace\s+(wordpress-[a-z0-9]{10})\s+Ready\s+/.exec(described)?.[1];
    expect(namespace, described).toBeDefined();
    for (const [kind, name] of [['Secret', 'wordpress-db'], ['Service', 'wordpress-db'], ['StatefulSet', 'wordpress-db'], ['Service', 'wordpress'], ['Deployment', 'wordpress']]) {
      expect(described).toMatch(new RegExp(`\\n${kind}\\s+${namespace}/${name}\\s+Ready\\s+(ADDED|MODIFIED)\\n`));
    }
    // describe workload NAME is its instance's description (the events' ages aside).
    const beforeEvents = (text: string): string => text.split('Failed & Warning Events:')[0]!;
    // Both read again until they agree: the agent may update a resource's state between two reads.
    if (beforeEvents(await tptctl.ok(['describe', 'workload-instance', '--name', 'wordpress'])) !== beforeEvents(described)) {
      await expect.poll(async () => beforeEvents(await tptctl.ok(['describe', 'workload-instance', '--name', 'wordpress'])) === beforeEvents(await tptctl.ok(['describe', 'workload', 'wordpress'])), { timeout: 20_000, interval: 500 }).toBe(true);
    }
  }, 240_000);

  it("the original's Secret config delivers its values to the workload; describe says where, never the values; delete removes only the Secret", async () => {
    const value = `key-${Date.now()}`;
    const file = join(tptctl.dir, 'secret.yaml');
    writeFileSync(file, `Secret:\n  Name: wordpress-api\n  KubernetesRuntimeInstance:\n    Name: threeport-wl\n  WorkloadInstance:\n    Name: wordpress\n  Data:\n    API_KEY: ${value}\n    CA_CERTIFICATE: |\n      -----BEGIN CERTIFICATE-----\n      MIIDdzCCAl+gAwIBAgIJAJ\n      -----END CERTIFICATE-----\n`);
    const result = await tptctl.ok(['create', 'secret', '-c', file, '--wait', '--timeout', '2m'], { timeoutMs: 150_000 });
    expect(result).toContain('Complete: secret wordpress-api created');
    expect(result).not.toContain(value);
    const described = await tptctl.ok(['describe', 'secret-instance', 'wordpress-api']);
    const namespace = /Secret (wordpress-[a-z0-9]{10})\/wordpress-api on runtime threeport-wl, written by the control plane/.exec(described)?.[1];
    expect(namespace, described).toBeDefined();
    expect(described).not.toContain(value);
    expect(await tptctl.ok(['describe', 'secret-definition', 'wordpress-api', '-o', 'json'])).not.toContain(value);
    const kube = new KubeConfig();
    kube.loadFromFile(cluster.path);
    kube.setCurrentContext(cluster.context);
    const secret = await kube.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'wordpress-api', namespace: namespace! });
    expect(Buffer.from(String(secret.data?.API_KEY), 'base64').toString()).toBe(value);
    expect(Buffer.from(String(secret.data?.CA_CERTIFICATE), 'base64').toString()).toContain('BEGIN CERTIFICATE');

    expect(await tptctl.ok(['delete', 'secret', '-c', file, '--wait', '--timeout', '2m'], { timeoutMs: 150_000 })).toContain('Complete: secret wordpress-api deleted');
    await expect(kube.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'wordpress-api', namespace: namespace! })).rejects.toThrow(/404|not found/i);
    expect(await tptctl.ok(['get', 'workload-instances', 'wordpress'])).toMatch(/Healthy/);
  }, 300_000);

  it('--wait ends at once when the controller gives up (Failed), and get and describe say why', async () => {
    const file = workloadFiles(tptctl.dir, 'broken', stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 99999 }] } }));
    const result = await tptctl.run(['create', 'workload', '-c', file, '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
    created.push('broken');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Error: application broken failed: WorkloadInstance broken failed: 1 resource\(s\) not applied: Service web \(namespace broken-[a-z0-9]+\): Service "web" is invalid: .*99999.*\]\n/);
    expect(result.stderr).toContain('Info: see what happened with: tptctl describe application --name broken');
    expect(result.stderr).not.toContain('timed out');

    expect(await tptctl.ok(['get', 'workloads'])).toMatch(/\nv0\s+broken\s+broken\s+broken\s+threeport-wl\s+Failed: 1 resource\(s\) not applied: Service web/);
    const described = await tptctl.ok(['describe', 'workload', 'broken']);
    expect(described).toContain('* Workload Status: Failed\n* Workload Status Reason: 1 resource(s) not applied: Service web');
    expect(described).toMatch(/\nService\s+broken-[a-z0-9]+\/web\s+not applied yet\s+-\n/);
    expect(described).toMatch(/Failed & Warning Events:\nTYPE\s+REASON\s+MESSAGE\s+AGE\nWarning\s+FailedCreate\s+1 resource\(s\) not applied: Service web/);

    // Fixed, it is rolled out; get shows the new Status line.
    writeFileSync(join(tptctl.dir, 'broken-manifests.yaml'), stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 8080 }] } }));
    expect(await tptctl.ok(['apply', '-f', file, '--wait'])).toContain('application broken updated (YAMLDocument)');
    await expect.poll(() => tptctl.ok(['get', 'workload-instances', 'broken']), { timeout: 60_000, interval: 1000 }).toMatch(/broken\s+broken\s+threeport-wl\s+Healthy: 2 resource\(s\) ready/);
  }, 300_000);

  it('--wait gives up after --timeout naming the instance and its Status line; describe shows the Down resource and the cluster\'s warnings', async () => {
    const file = workloadFiles(tptctl.dir, 'hog', deployment('hog', { resources: { requests: { cpu: '500' } } }, 2));
    const result = await tptctl.run(['create', 'workload', '-c', file, '--wait', '--timeout', '20s'], { timeoutMs: 90_000 });
    created.push('hog');
    expect(result.code).toBe(1);
    const reason = /Error: timed out after 20s waiting for: application hog \((.+)\)\n/.exec(result.stderr)?.[1];
    expect(reason, result.stderr).toBeDefined();
    // What it names is the last Status line it showed.
    const shown = [...result.stderr.matchAll(/^waiting: application hog: (.+)$/gm)].map((match) => match[1]);
    expect(shown.at(-1)).toBe(reason);
    expect(result.stderr).toContain('Info: wait longer with --timeout');

    await expect.poll(() => tptctl.ok(['describe', 'workload', 'hog']), { timeout: 60_000, interval: 1000 }).toMatch(/\* Workload Status: Down\n\* Workload Status Reason: Deployment hog: 0\/2 ready\n/);
    const described = await tptctl.ok(['describe', 'workload', 'hog']);
    expect(described).toMatch(/\nDeployment\s+hog-[a-z0-9]+\/hog\s+0\/2 ready\s+(ADDED|MODIFIED)\n/);
    await expect.poll(() => tptctl.ok(['describe', 'workload', 'hog']), { timeout: 30_000, interval: 1000 }).toMatch(/\nWarning\s+FailedScheduling\s+\d+\/\d+ nodes are available: \d+ Insufficient cpu\./);
    expect(await tptctl.ok(['get', 'workloads'])).toMatch(/\nv0\s+hog\s+hog\s+hog\s+threeport-wl\s+Down: Deployment hog: 0\/2 ready\s+\d+s/);
  }, 240_000);

  it('describe shows a drift the controller detected and left in place (DriftDetected), once with its count', async () => {
    writeFileSync(join(tptctl.dir, 'watched-manifests.yaml'), deployment('web', {}));
    const file = join(tptctl.dir, 'watched.yaml');
    writeFileSync(file, 'WorkloadDefinition:\n  Name: watched\n  YAMLDocument: watched-manifests.yaml\n---\nWorkloadInstance:\n  Name: watched\n  WorkloadDefinition: {Name: watched}\n  DriftPolicy: DetectOnly\n');
    const applied = await tptctl.run(['apply', '-f', file, '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
    created.push('watched');
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Info: workload instance watched is Healthy: 2 resource(s) ready');

    const records = await api.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: Number((await api.kind('WorkloadInstance').findByName('watched'))!.ID) });
    const { namespace } = parseResourceKey(String(records.find((record) => String(record.ResourceKey).startsWith('apps/Deployment/'))!.ResourceKey));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.path);
    kubeConfig.setCurrentContext(cluster.context);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    // A JSON patch, not a PUT of what was read: the cluster's own status writes (a rollout) would make a PUT conflict.
    const change = async (image: string) => {
      await apps.patchNamespacedDeployment({ name: 'web', namespace, body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }] });
    };
    const drift = new RegExp(`\\nWarning\\s+DriftDetected\\s+Deployment web \\(namespace ${namespace}\\) was changed in the cluster \\(spec\\); DriftPolicy is DetectOnly, so it stays as it is`);
    await change('nginx:1.28');
    await expect.poll(() => tptctl.ok(['describe', 'workload-instance', 'watched']), { timeout: 60_000, interval: 1000 }).toMatch(drift);
    await change('nginx:1.29');
    // The same drift again is one line with its count (a periodic re-verification may have counted it once more).
    await expect.poll(() => tptctl.ok(['describe', 'workload-instance', 'watched']), { timeout: 60_000, interval: 1000 }).toMatch(new RegExp(`${drift.source} \\([2-9] times\\)`));
    expect((await tptctl.ok(['describe', 'workload-instance', 'watched'])).match(/DriftDetected/g)).toHaveLength(1);
  }, 300_000);

  it('CI reports a build with tptctl notify; get deliveries and describe delivery show where it is; why says what it waits for; approve lets it go on', async () => {
    const repository = 'ghcr.io/acme/shipped';
    writeFileSync(join(tptctl.dir, 'shipped-manifests.yaml'), deployment('web', { image: `${repository}:1.0` }));
    const file = join(tptctl.dir, 'shipped.yaml');
    writeFileSync(
      file,
      [
        'WorkloadDefinition:\n  Name: shipped\n  YAMLDocument: shipped-manifests.yaml',
        'WorkloadInstance:\n  Name: shipped\n  WorkloadDefinition: {Name: shipped}',
        'DeliveryPolicy:\n  Name: shipping\n  Environments:\n    - Name: dev\n      WorkloadInstances: [shipped]\n      Gate: {Approval: true}\n    - Name: prod',
      ].join('\n---\n'),
    );
    expect((await tptctl.run(['apply', '-f', file, '--wait', '--timeout', '3m'], { timeoutMs: 200_000 })).code).toBe(0);
    created.push('shipped');
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(await tptctl.ok(['notify', 'image-build', '--repository', repository, '--tag', '1.1', '--digest', digest, '--commit', 'a1b2c3d'])).toMatch(
      new RegExp(`^Complete: image build \\d+ reported: ${repository}:1\\.1@${digest}; see where it goes with tptctl get deliveries`),
    );
    await expect.poll(() => tptctl.ok(['get', 'deliveries']), { timeout: 90_000, interval: 500 }).toMatch(new RegExp(`\\nshipping-1-1\\s+${repository}:1\\.1@${digest}\\s+shipping\\s+dev\\s+AwaitingApproval\\s+\\d+s`));
    // The Status (why) is written a moment after the Phase (get deliveries): polled too.
    await expect.poll(() => tptctl.ok(['describe', 'delivery', 'shipping-1-1']), { timeout: 30_000, interval: 500 }).toMatch(/\* Environments:\nENVIRONMENT\s+STATE\s+INSTANCES\s+SINCE\s+DETAIL\ndev\s+AwaitingApproval\s+shipped\s+\d+s\s+waits for approval: tptctl approve shipping-1-1/);
    await expect.poll(() => tptctl.ok(['why', 'delivery', 'shipping-1-1']), { timeout: 30_000, interval: 500 }).toContain('delivery shipping-1-1 is not ready: Waiting: dev runs 1.1 Healthy and waits for approval: tptctl approve shipping-1-1');
    const wrong = await tptctl.run(['approve', 'shipping-1-1', '--environment', 'qa']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('delivery policy shipping has no environment qa; it has dev, prod');
    expect(await tptctl.ok(['approve', 'shipping-1-1', '--note', 'looks good'])).toContain('delivery shipping-1-1 approved in dev');
    await expect.poll(() => tptctl.ok(['get', 'deliveries']), { timeout: 60_000, interval: 500 }).toMatch(/\nshipping-1-1\s+\S+\s+shipping\s+prod\s+Complete\s/);
    // Ready once the controller recorded the reconcile that completed it.
    await expect.poll(() => tptctl.ok(['why', 'delivery', 'shipping-1-1']), { timeout: 30_000, interval: 500 }).toBe('delivery shipping-1-1 is ready, and so is everything it depends on.\n');
    expect(await tptctl.ok(['history', 'delivery', 'shipping-1-1'])).toMatch(/Updated\s+\S+\s+\S+ via tptctl\/v\S+\s+Approvals/);
  }, 300_000);

  it('apply --dry-run shows what the live cluster would change (a server-side apply dry run), which instances a definition change reaches, and changes nothing', async () => {
    writeFileSync(join(tptctl.dir, 'planned-manifests.yaml'), deployment('web', {}));
    const file = join(tptctl.dir, 'planned.yaml');
    writeFileSync(file, 'WorkloadDefinition:\n  Name: planned\n  YAMLDocument: planned-manifests.yaml\n---\nWorkloadInstance:\n  Name: planned\n  WorkloadDefinition: {Name: planned}\n');
    expect((await tptctl.run(['apply', '-f', file, '--wait', '--timeout', '3m'], { timeoutMs: 200_000 })).code).toBe(0);
    created.push('planned');
    const definition = (await api.kind('WorkloadDefinition').findByName('planned'))!;

    writeFileSync(join(tptctl.dir, 'planned-manifests.yaml'), deployment('web', { image: 'nginx:1.28' }));
    const planned = await tptctl.ok(['apply', '-f', file, '--dry-run']);
    expect(planned).toContain('workload definition planned updated (YAMLDocument) (dry run)');
    expect(planned).toContain('In the clusters, workload definition planned: 1 of 1 instance(s) would change: 0 to create, 1 to update, 0 to delete, 1 unchanged');
    expect(planned).toMatch(/~ apps\/Deployment\/planned-[a-z0-9]{10}\/web \(planned on threeport-wl\): update/);
    expect(planned).toMatch(/-\s+image: nginx:1\.27\n\s+\+\s+image: nginx:1\.28/);
    expect(planned).toMatch(/= \/Namespace\/\/planned-[a-z0-9]{10} \(planned on threeport-wl\): unchanged/);

    // Nothing changed: not the definition, not the cluster, and the plans are gone.
    expect((await api.kind('WorkloadDefinition').get(definition.ID)).Version).toBe(definition.Version);
    const records = await api.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: Number((await api.kind('WorkloadInstance').findByName('planned'))!.ID) });
    const { namespace } = parseResourceKey(String(records.find((record) => String(record.ResourceKey).startsWith('apps/Deployment/'))!.ResourceKey));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.path);
    kubeConfig.setCurrentContext(cluster.context);
    const live = await kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace });
    expect(live.spec!.template.spec!.containers[0]!.image).toBe('nginx:1.27');
    expect(await api.kind('WorkloadPlan').listAll()).toEqual([]);

    // A bad change is refused by the API's own checks, before anything is planned.
    writeFileSync(file, 'WorkloadInstance:\n  Name: planned\n  WorkloadDefinition: {Name: planned}\n  Overrides: {Deployment/web: {kind: Pod}}\n');
    const refused = await tptctl.run(['apply', '-f', file, '--dry-run']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("must not change the resource's apiVersion, kind, name or namespace");
  }, 300_000);
});

describe('tptctl up with a cluster it cannot reach', () => {
  it('says why the runtime is not Ready after --timeout, and leaves the control plane running', async () => {
    await ensureBundle();
    const tptctl = new Tptctl();
    const { path, context } = kubeconfig('a');
    const unreachable = join(tptctl.dir, 'unreachable.kubeconfig');
    const closedPort = await freePort();
    writeFileSync(unreachable, readFileSync(path, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${closedPort}`));
    try {
      const result = await tptctl.run(['up', '--name', 'far', '--listen', `127.0.0.1:${await freePort()}`, '--kubeconfig', unreachable, '--kube-context', context, '--timeout', '20s'], { timeoutMs: 120_000 });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`Info: Kubernetes runtime threeport-far registered as the default runtime (context ${context})`);
      expect(result.stderr).toMatch(/Error: timed out after 20s waiting for: kubernetes runtime instance threeport-far \(Error: cannot reach the cluster: .+\)\n/);
      expect(result.stdout).toContain('Info: the control plane is running and keeps trying the cluster; see why with: tptctl describe kubernetes-runtime-instance threeport-far');
      expect(await tptctl.ok(['describe', 'kubernetes-runtime-instance', 'threeport-far'])).toMatch(/\* KubernetesRuntimeInstance Status: Error\n\* KubernetesRuntimeInstance Status Reason: cannot reach the cluster: /);
    } finally {
      await tptctl.run(['down', '--name', 'far'], { timeoutMs: 60_000 });
    }
  }, 180_000);

  it('refuses --context and --kube-context naming different contexts', async () => {
    await ensureBundle();
    const { stderr } = await new Tptctl().fails(['up', '--kubeconfig', '/nonexistent', '--context', 'one', '--kube-context', 'two']);
    expect(stderr).toContain('Error: --context one and --kube-context two name different contexts: --kube-context is another name of --context, give one');
  });
});
