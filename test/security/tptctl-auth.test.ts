/**
 * A control plane started by the real tptctl with auth on, used as its users would: the config
 * `tptctl up` wrote (the original's fields) taken by a Go client built on crypto/tls and net/http
 * as the original tptctl is, our tptctl on mTLS, a workload delivered to the test bed's cluster by
 * controllers calling the API with their own identity, a developer added with `tptctl user add`
 * who may deploy but not touch runtimes nor read their secrets, and credentials rotated.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/local-runtime/ports.ts';
import { run } from '../../src/local-runtime/run-command.ts';
import { repoRoot } from '../support/control-plane.ts';
import { kubeconfig } from '../support/peers.ts';
import { ensureBundle, Tptctl } from '../cli/support.ts';

const goClientSource = join(repoRoot, 'test/security/go-client');
const goClient = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'threeport', 'build', 'go-client');

/** One request as the Go client sends it; its status and parsed body. */
async function goRequest(config: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: { Data?: Record<string, unknown>[] }; stderr: string }> {
  // It exits non-zero when it gets no answer: that is an outcome here, not a failure.
  const result = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
    execFile(goClient, [config, method, path, ...(body === undefined ? [] : [JSON.stringify(body)])], { timeout: 30_000 }, (_error, stdout, stderr) => resolve({ stdout, stderr })),
  );
  const [status = '0', ...rest] = result.stdout.split('\n');
  const text = rest.join('\n');
  return { status: Number(status), body: text ? (JSON.parse(text) as { Data?: Record<string, unknown>[] }) : {}, stderr: result.stderr };
}

describe('tptctl up with auth on, and the original Go client', () => {
  const tptctl = new Tptctl();
  const developer = join(tptctl.dir, 'dev.yaml');
  let port = 0;
  let started = '';

  beforeAll(async () => {
    await ensureBundle();
    await run('go', ['build', '-o', goClient, '.'], { cwd: goClientSource, timeoutMs: 300_000 });
    const cluster = kubeconfig('b');
    port = await freePort();
    started = await tptctl.ok(['up', '--name', 'sec', '--listen', `127.0.0.1:${port}`, '--auth-enabled', '--kubeconfig', cluster.path, '--context', cluster.context], { timeoutMs: 150_000 });
  }, 420_000);

  afterAll(async () => {
    await tptctl.run(['delete', 'workload', '--name', 'wordpress', '--wait', '--timeout', '60s'], { timeoutMs: 90_000 });
    await tptctl.run(['down', '--name', 'sec'], { timeoutMs: 60_000 });
  }, 180_000);

  it('writes the CA and the admin credential in the original fields, and the runtime is Ready (controllers reconcile as themselves)', () => {
    expect(started).toContain('auth on: your client certificate, user admin, is in the threeport config');
    expect(started).toMatch(/kubernetes runtime instance threeport-sec is Ready/);
    const config = parse(readFileSync(tptctl.configPath, 'utf8')) as { ControlPlanes: Record<string, unknown>[] };
    const entry = config.ControlPlanes[0]!;
    expect(entry).toMatchObject({ Name: 'sec', AuthEnabled: true, APIServer: `127.0.0.1:${port}` });
    expect(Buffer.from(String(entry.CACert), 'base64').toString()).toContain('BEGIN CERTIFICATE');
    const [credential] = entry.Credentials as Record<string, string>[];
    expect(credential!.Name).toBe('sec');
    expect(Buffer.from(credential!.ClientKey!, 'base64').toString()).toContain('BEGIN PRIVATE KEY');
  });

  it('the Go client creates, reads and deletes with the certificate from that config; the writer is user:admin', async () => {
    const created = await goRequest(tptctl.configPath, 'POST', '/v0/tiers', { Name: 'gold', Criticality: 100 });
    expect(created.status, created.stderr).toBe(201);
    const id = Number(created.body.Data![0]!.ID);
    expect((await goRequest(tptctl.configPath, 'GET', `/v0/tiers/${id}`)).body.Data![0]).toMatchObject({ Name: 'gold' });
    const revisions = await goRequest(tptctl.configPath, 'GET', `/v0/tiers/${id}/revisions`);
    expect(revisions.body.Data![0]).toMatchObject({ Actor: 'user:admin via Go-http-client/1.1', Operation: 'Created' });
    expect((await goRequest(tptctl.configPath, 'DELETE', `/v0/tiers/${id}`)).status).toBe(200);
    expect((await goRequest(tptctl.configPath, 'GET', `/v0/tiers/${id}`)).status).toBe(404);
  });

  it('without the credential the Go client is refused (401); with AuthEnabled false it gets no answer from the TLS port', async () => {
    const config = parse(readFileSync(tptctl.configPath, 'utf8')) as { ControlPlanes: Record<string, unknown>[] };
    const anonymous = join(tptctl.dir, 'anonymous.yaml');
    writeFileSync(anonymous, stringify({ ...config, ControlPlanes: [{ ...config.ControlPlanes[0], Credentials: [] }] }));
    expect((await goRequest(anonymous, 'GET', '/v0/tiers')).status).toBe(401);
    const plain = join(tptctl.dir, 'plain.yaml');
    writeFileSync(plain, stringify({ ...config, ControlPlanes: [{ ...config.ControlPlanes[0], AuthEnabled: false }] }));
    const refused = await goRequest(plain, 'GET', '/v0/tiers');
    expect(refused.status).toBe(0);
    expect(refused.stderr).toMatch(/EOF|reset|malformed/i);
  });

  it('a workload goes Healthy through tptctl on mTLS; status updates are written by the controllers', async () => {
    const output = await tptctl.ok(['create', 'workload', '-c', join(repoRoot, 'samples/wordpress-workload.yaml'), '--wait', '--timeout', '180s'], { timeoutMs: 200_000 });
    expect(output).toMatch(/application wordpress is Healthy: 6 resource\(s\) ready/);
    // The user asked for the application; the controllers made and run its workload.
    const writersOf = async (path: string) => {
      const object = JSON.parse(await tptctl.ok(['describe', path, 'wordpress', '-o', 'json'])) as { ID: number };
      const revisions = await goRequest(tptctl.configPath, 'GET', `/v0/${path}s/${object.ID}/revisions?size=100`);
      return [...new Set(revisions.body.Data!.map((revision) => revision.Actor))];
    };
    expect(await writersOf('application')).toEqual(expect.arrayContaining([expect.stringMatching(/^user:admin via tptctl\/v\d/), 'controllers via threeport-controller']));
    expect(await writersOf('workload-instance')).toEqual(['controllers via threeport-controller']);
  }, 240_000);

  it('a developer added with tptctl user add deploys workloads but may not change runtimes nor see their keys', async () => {
    const added = await tptctl.ok(['user', 'add', 'dev', '--role', 'developer', '--output', developer]);
    expect(added).toContain(`user dev added; their threeport config`);
    expect((await tptctl.fails(['user', 'add', 'dev'])).stderr).toContain('a user named dev exists already\nInfo: tptctl user remove dev first, or choose another name');
    const dev = ['--threeport-config', developer];
    expect(await tptctl.ok([...dev, 'whoami'])).toBe('user:dev\nroles: developer\n');
    // The runtime's client key: ciphertext for the admin, the placeholder for the developer (the API's answers, read by the Go client).
    const runtimeOf = async (config: string) => (await goRequest(config, 'GET', '/v0/kubernetes-runtime-instances?name=threeport-sec')).body.Data![0]!;
    expect((await runtimeOf(tptctl.configPath)).CertificateKey).toMatch(/^[A-Za-z0-9+/]{40,}={0,2}$/);
    expect((await runtimeOf(developer)).CertificateKey).toBe('[encrypted value redacted]');

    // Their own workload: created, Healthy, deleted.
    writeFileSync(join(tptctl.dir, 'dev-app-manifests.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dev-app' }, data: { greeting: 'hello' } }));
    writeFileSync(join(tptctl.dir, 'dev-app.yaml'), 'Workload:\n  Name: dev-app\n  YAMLDocument: dev-app-manifests.yaml\n');
    expect(await tptctl.ok([...dev, 'create', 'workload', '-c', join(tptctl.dir, 'dev-app.yaml'), '--wait', '--timeout', '120s'], { timeoutMs: 150_000 })).toMatch(/application dev-app is Healthy/);
    await tptctl.ok([...dev, 'delete', 'workload', '-c', join(tptctl.dir, 'dev-app.yaml'), '--wait', '--timeout', '120s'], { timeoutMs: 150_000 });
    const denied = await tptctl.fails([...dev, 'delete', 'kubernetes-runtime-instance', '--name', 'threeport-sec']);
    expect(denied.stderr).toContain('user:dev (developer) may not delete KubernetesRuntimeInstance objects: that needs the admin or platform role');
    expect((await tptctl.fails([...dev, 'user', 'list'])).stderr).toMatch(/may not read (User|UserCertificate|RoleBinding) objects: that needs the admin role/);

    // Rotation: the new certificate works, a copy of the old config does not.
    const old = join(tptctl.dir, 'dev-old.yaml');
    copyFileSync(developer, old);
    expect(await tptctl.ok([...dev, 'credentials', 'rotate'])).toContain('the previous ones are revoked');
    expect(await tptctl.ok([...dev, 'whoami'])).toContain('user:dev');
    expect((await tptctl.fails(['--threeport-config', old, 'whoami'])).stderr).toContain('revoked');

    await tptctl.ok(['user', 'remove', 'dev']);
    expect((await tptctl.fails([...dev, 'whoami'])).stderr).toContain('revoked');
  }, 120_000);

  it('up again on the kept data issues a new admin certificate and revokes the one the config held before', async () => {
    const before = join(tptctl.dir, 'before-restart.yaml');
    copyFileSync(tptctl.configPath, before);
    await tptctl.ok(['down', '--name', 'sec', '--keep-data'], { timeoutMs: 60_000 });
    await tptctl.ok(['up', '--name', 'sec', '--listen', `127.0.0.1:${port}`, '--auth-enabled'], { timeoutMs: 120_000 });
    expect(await tptctl.ok(['whoami'])).toContain('user:admin');
    expect((await tptctl.fails(['--threeport-config', before, 'whoami'])).stderr).toContain('revoked');
  }, 200_000);

  it('a delivery token from tptctl token create reports image builds and nothing else', async () => {
    const token = (await tptctl.ok(['token', 'create', '--role', 'delivery', '--name', 'ci'])).trim();
    expect(token).toMatch(/^tpt_[\w-]{43}$/);
    const env = { THREEPORT_API_TOKEN: token };
    expect(await tptctl.ok(['whoami'], { env })).toBe('token:ci\nroles: delivery\n');
    expect((await tptctl.fails(['get', 'workloads'], { env })).stderr).toContain('token:ci (delivery) may not read');
  });
});
