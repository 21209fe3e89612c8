/**
 * Auth on, against the API in this process on PostgreSQL: who gets in (client certificates of
 * this control plane's CA that it still records, unexpired; bearer tokens it knows), and what each
 * role may do — a matrix of every routed kind × verb × role, generated from the registry, with the
 * expected outcome written out here from the roles' definitions (not computed by the code under
 * test). Also: a delivery token does nothing but report image builds, a viewer never sees a
 * secret, only controllers write what controllers own, revisions name their writer.
 */
import { X509Certificate } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { request as httpsRequest } from 'node:https';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAuthority, type CertificateAuthority } from '../../src/auth/authority.ts';
import { newToken } from '../../src/auth/identities.ts';
import { generateKeyPair, issueCertificate, privateKeyPem, publicKeyPem } from '../../src/auth/x509.ts';
import { ApiClient, ApiRequestError } from '../../src/client/api-client.ts';
import { ConfigError, resolveServerConfig } from '../../src/control-plane/config.ts';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { REDACTED_PLACEHOLDER } from '../../src/model/fields.ts';
import type { ApiObject, Kind } from '../../src/model/kind.ts';
import { registry } from '../../src/model/registry.ts';
import { controlPlaneId } from '../../src/store/migrations.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample, editableStringField, samplePayload, uniqueName } from '../support/samples.ts';

let api: ApiHarness;
let authority: CertificateAuthority;
let ca: string;

/**
 * Who owns each kind, written out here (not read from the model): a kind put in the wrong family
 * by the code fails the matrix below.
 */
const family: Record<string, string> = {
  ...Object.fromEntries(
    ['WorkloadDefinition', 'WorkloadInstance', 'WorkloadResourceDefinition', 'WorkloadResourceInstance', 'HelmWorkloadDefinition', 'HelmWorkloadInstance']
      .concat(['AwsObjectStorageBucketInstance', 'AwsRelationalDatabaseInstance', 'DomainNameInstance', 'GatewayDefinition', 'GatewayHttpPort', 'GatewayInstance', 'GatewayTcpPort'])
      .concat(['SecretDefinition', 'SecretInstance', 'WorkloadPlan'])
      .map((name) => [name, 'developer']),
  ),
  ...Object.fromEntries(
    ['KubernetesRuntimeDefinition', 'KubernetesRuntimeInstance', 'AwsAccount', 'AwsEksKubernetesRuntimeDefinition', 'AwsEksKubernetesRuntimeInstance', 'AwsObjectStorageBucketDefinition', 'AwsRelationalDatabaseDefinition']
      .concat(['DomainNameDefinition', 'TerraformDefinition', 'TerraformInstance', 'LoggingDefinition', 'LoggingInstance', 'MetricsDefinition', 'MetricsInstance'])
      .concat(['ObservabilityDashboardDefinition', 'ObservabilityDashboardInstance', 'ObservabilityStackDefinition', 'ObservabilityStackInstance', 'ControlPlaneDefinition', 'ControlPlaneInstance', 'Profile', 'Tier'])
      .map((name) => [name, 'platform']),
  ),
  WorkloadEvent: 'report',
  Event: 'report',
  AttachedObjectReference: 'report',
  User: 'access',
  UserCertificate: 'access',
  RoleBinding: 'access',
  ApiToken: 'access',
  ImageBuild: 'delivery',
  DeliveryPolicy: 'platform',
  Delivery: 'developer',
  Application: 'developer',
  ImageUse: 'platform',
};

/** What each role may do, by family (the issue's definition of the roles); `kinds` adds single kinds. */
const expected: Record<string, { reads: string[]; writes: string[]; creates?: string[]; kinds?: string[] }> = {
  admin: { reads: ['platform', 'developer', 'report', 'delivery', 'access'], writes: ['platform', 'developer', 'report', 'delivery', 'access'] },
  platform: { reads: ['platform', 'developer', 'report', 'delivery'], writes: ['platform', 'developer'] },
  developer: { reads: ['platform', 'developer', 'report', 'delivery'], writes: ['developer'] },
  viewer: { reads: ['platform', 'developer', 'report', 'delivery'], writes: [] },
  delivery: { reads: [], writes: [], creates: ['delivery'] },
  // Agents report: events; the live state of instances and resources (tested below, not by a desired-state edit).
  agent: { reads: ['platform', 'developer', 'report', 'delivery'], writes: ['report'] },
  'controller:workload': {
    reads: ['platform', 'developer', 'report', 'delivery'],
    writes: ['report'],
    kinds: ['WorkloadDefinition', 'WorkloadInstance', 'WorkloadResourceDefinition', 'WorkloadResourceInstance', 'AwsRelationalDatabaseInstance', 'AwsObjectStorageBucketInstance', 'WorkloadPlan', 'ImageUse'],
  },
};

/** A valid PATCH of desired state (a free string changed, else a field written back), so that every check of a write runs. */
function desiredStateEdit(kind: Kind, sample: ApiObject): ApiObject {
  const editable = editableStringField(kind);
  if (editable) return { [kind.jsonKey(editable)]: 'changed' };
  const field = Object.entries(kind.fields).find(([name, spec]) => spec.kind === 'scalar' && !spec.owner && !spec.references && sample[kind.jsonKey(name)] !== undefined);
  return field ? { [kind.jsonKey(field[0])]: sample[kind.jsonKey(field[0])] } : {};
}

/** IDs as long as they get (the sequence starts at a random point): every check must read them. */
async function sixteenDigitIds(harness: ApiHarness): Promise<void> {
  await harness.server.db.query("SELECT setval('threeport_object_ids', $1, false)", [4_000_000_000_000_001]);
}

/** A client holding a new token of `role`. */
async function tokenClient(role: string, ttlMs = 3_600_000): Promise<{ client: ApiClient; name: string }> {
  const { token, hash } = newToken();
  const name = uniqueName(role.replace(/:/g, '-'));
  await api.client.kind('ApiToken').create({ Name: name, Role: role, TokenHash: hash, ExpiresAt: new Date(Date.now() + ttlMs).toISOString() });
  return { client: new ApiClient({ baseUrl: api.url, tls: { ca }, token }), name };
}

/** A user with a certificate issued through the API (their key made here), and a client presenting it. */
async function userClient(name: string, groups: string[] = []): Promise<{ client: ApiClient; userId: number; certificateId: number; pem: string; key: string }> {
  const user = await api.client.kind('User').create({ Name: name, Groups: groups });
  const keys = generateKeyPair();
  const body = await api.client.request('POST', `/v0/users/${user.ID}/certificates`, { PublicKey: publicKeyPem(keys.publicKey) });
  const issued = body.Data![0]!;
  const key = privateKeyPem(keys.privateKey);
  return { client: new ApiClient({ baseUrl: api.url, tls: { ca, certificate: String(issued.Certificate), key } }), userId: Number(user.ID), certificateId: Number(issued.ID), pem: String(issued.Certificate), key };
}

/** The status a request gets (0 when the connection fails), and its error message. */
async function attempt(client: ApiClient, method: string, path: string, body?: unknown): Promise<{ status: number; message: string; reason?: string }> {
  try {
    await client.request(method, path, body);
    return { status: 200, message: '' };
  } catch (error) {
    if (!(error instanceof ApiRequestError)) throw error;
    return { status: error.status, message: error.message, ...(error.reason && { reason: error.reason }) };
  }
}

beforeAll(async () => {
  api = await startApi({ database: 'postgres', auth: true });
  await sixteenDigitIds(api);
  ca = api.server.auth!.caCertificate;
  authority = await loadAuthority(api.server.db, FieldCipher.fromBase64(api.encryptionKey), await controlPlaneId(api.server.db));
});

describe('who gets in', () => {
  it('a client certificate issued through the API names its holder and groups, and gets the roles bound to the user and to the groups', async () => {
    const name = uniqueName('carol');
    const group = uniqueName('team');
    await api.client.kind('RoleBinding').create({ Name: uniqueName('b'), Role: 'platform', Subject: `group:${group}` });
    const carol = await userClient(name, [group]);
    const certificate = new X509Certificate(carol.pem);
    expect(certificate.subject).toBe(`O=${group}\nCN=${name}`);
    expect(certificate.checkIssued(new X509Certificate(ca))).toBe(true);
    expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now() + 80 * 24 * 3600_000);
    expect(await carol.client.request('GET', '/v0/whoami')).toMatchObject({ Name: `user:${name}`, Roles: ['platform'], Groups: [group] });
  });

  it('without a certificate or token: 401 saying how to authenticate; over plain HTTP: no answer', async () => {
    const anonymous = new ApiClient({ baseUrl: api.url, tls: { ca } });
    const refused = await attempt(anonymous, 'GET', '/v0/workload-definitions');
    expect(refused).toMatchObject({ status: 401, reason: 'Unauthenticated' });
    expect(refused.message).toContain('client certificate of this control plane');
    // Health and the API description stay open.
    expect((await anonymous.request('GET', '/version')) as unknown).toHaveProperty('Version');
    const plain = await attempt(new ApiClient({ baseUrl: api.url.replace('https:', 'http:') }), 'GET', '/livez');
    expect(plain.status).toBe(0);
  });

  it('a certificate of another CA, or an expired one of this CA, ends the connection at the TLS handshake', async () => {
    const otherKeys = generateKeyPair();
    const otherCa = issueCertificate({ subject: { commonName: 'another CA' }, publicKey: otherKeys.publicKey, selfSigningKey: otherKeys.privateKey, use: 'authority', notAfter: new Date(Date.now() + 3_600_000) });
    const keys = generateKeyPair();
    const foreign = issueCertificate({ subject: { commonName: 'admin', organizations: ['threeport:admins'] }, publicKey: keys.publicKey, use: 'client', notAfter: new Date(Date.now() + 3_600_000), issuer: { certificate: otherCa, privateKey: otherKeys.privateKey } });
    const expired = authority.clientCertificate({ commonName: 'admin', organizations: ['threeport:admins'] }, keys.publicKey, -60_000);
    for (const certificate of [foreign.pem, expired.certificate]) {
      // A raw request: the server drops the connection right after the handshake.
      const outcome = await new Promise<string>((resolve) => {
        const outgoing = httpsRequest(`${api.url}/v0/tiers`, { ca, cert: certificate, key: privateKeyPem(keys.privateKey), agent: false }, (response) => resolve(`answered ${response.statusCode}`));
        outgoing.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        outgoing.end();
      });
      expect(outcome).toMatch(/ECONNRESET|EPIPE|socket hang up/);
    }
    const client = new ApiClient({ baseUrl: api.url, tls: { ca, certificate: expired.certificate, key: privateKeyPem(keys.privateKey) } });
    expect((await attempt(client, 'GET', '/v0/tiers')).message).toContain('drops a client certificate that is expired or not of its CA');
  });

  it('a revoked certificate (deleted, or its user removed) and a deleted or expired token are refused with 401', async () => {
    const dave = await userClient(uniqueName('dave'));
    await api.client.kind('RoleBinding').create({ Name: uniqueName('b'), Role: 'viewer', Subject: `user:${(await api.client.kind('User').get(dave.userId)).Name}` });
    expect((await attempt(dave.client, 'GET', '/v0/tiers')).status).toBe(200);
    await api.client.kind('UserCertificate').delete(dave.certificateId);
    expect(await attempt(dave.client, 'GET', '/v0/tiers')).toMatchObject({ status: 401, message: expect.stringContaining('revoked') });

    const erin = await userClient(uniqueName('erin'), ['threeport:admins']);
    expect((await attempt(erin.client, 'GET', '/v0/users')).status).toBe(200);
    await api.client.kind('User').delete(erin.userId);
    expect((await attempt(erin.client, 'GET', '/v0/users')).status).toBe(401);

    const { client, name } = await tokenClient('viewer');
    expect((await attempt(client, 'GET', '/v0/tiers')).status).toBe(200);
    const [token] = await api.client.kind('ApiToken').listAll({ name });
    await api.client.kind('ApiToken').delete(Number(token!.ID));
    expect((await attempt(client, 'GET', '/v0/tiers')).status).toBe(401);
    const { client: expiring } = await tokenClient('viewer', 1500);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect(await attempt(expiring, 'GET', '/v0/tiers')).toMatchObject({ status: 401, message: expect.stringContaining('has expired') });
  });

  it('a user renews their own certificate (revoking the others), but may not get one for anyone else', async () => {
    const frank = await userClient(uniqueName('frank'));
    const other = await api.client.kind('User').create({ Name: uniqueName('grace') });
    const keys = generateKeyPair();
    expect((await attempt(frank.client, 'POST', `/v0/users/${other.ID}/certificates`, { PublicKey: publicKeyPem(keys.publicKey) })).status).toBe(403);
    const renewed = await frank.client.request('POST', `/v0/users/${frank.userId}/certificates`, { PublicKey: publicKeyPem(keys.publicKey), RevokeOthers: true });
    const fresh = new ApiClient({ baseUrl: api.url, tls: { ca, certificate: String(renewed.Data![0]!.Certificate), key: privateKeyPem(keys.privateKey) } });
    expect(await fresh.request('GET', '/v0/whoami')).toMatchObject({ UserID: frank.userId });
    expect((await attempt(frank.client, 'GET', '/v0/whoami')).status).toBe(401);
    expect((await attempt(fresh, 'POST', `/v0/users/${frank.userId}/certificates`, { PublicKey: 'not a key' })).status).toBe(400);
  });

  it('a certificate for another user is refused the same whether the user exists or not', async () => {
    const { client } = await tokenClient('delivery');
    const keys = generateKeyPair();
    const other = await api.client.kind('User').create({ Name: uniqueName('kim') });
    const body = { PublicKey: publicKeyPem(keys.publicKey) };
    const existing = await attempt(client, 'POST', `/v0/users/${other.ID}/certificates`, body);
    const missing = await attempt(client, 'POST', `/v0/users/${Number(other.ID) + 999_999}/certificates`, body);
    expect(existing).toEqual(missing);
    expect(existing.status).toBe(403);
    expect((await attempt(api.client, 'POST', `/v0/users/${Number(other.ID) + 999_999}/certificates`, body)).status).toBe(404);
  });

  it('an empty bearer beside a certificate (the original Go client) is no token; a malformed token is refused without a lookup', async () => {
    const lee = await userClient(uniqueName('lee'), ['threeport:admins']);
    const quirky = new ApiClient({ baseUrl: api.url, tls: { ca, certificate: lee.pem, key: lee.key }, headers: { authorization: 'Bearer ' } });
    expect((await attempt(quirky, 'GET', '/v0/tiers')).status).toBe(200);
    const malformed = await attempt(new ApiClient({ baseUrl: api.url, tls: { ca }, headers: { authorization: 'Bearer not-a-token' } }), 'GET', '/v0/tiers');
    expect(malformed).toMatchObject({ status: 401, message: expect.stringContaining('not a threeport token') });
  });

  it('tokens, bindings and users with bad values are refused with 400 and change nothing', async () => {
    const tokens = api.client.kind('ApiToken');
    const before = (await tokens.list()).total;
    expect((await attempt(api.client, 'POST', '/v0/api-tokens', { Name: 'x', Role: 'viewer', TokenHash: 'plain-token', ExpiresAt: new Date(Date.now() + 60_000).toISOString() })).message).toContain('hex SHA-256');
    expect((await attempt(api.client, 'POST', '/v0/api-tokens', { Name: 'x', Role: 'superuser', TokenHash: newToken().hash, ExpiresAt: new Date(Date.now() + 60_000).toISOString() })).status).toBe(400);
    expect((await attempt(api.client, 'POST', '/v0/api-tokens', { Name: 'x', Role: 'viewer', TokenHash: newToken().hash, ExpiresAt: '2020-01-01T00:00:00Z' })).message).toContain('in the future');
    expect((await tokens.list()).total).toBe(before);
    expect((await attempt(api.client, 'POST', '/v0/role-bindings', { Name: 'x', Role: 'viewer', Subject: 'alice' })).message).toContain('user:<name> or group:<name>');
    expect((await attempt(api.client, 'POST', '/v0/users', { Name: 'Not Valid' })).status).toBe(400);
    // Certificates come only from the CA.
    expect(await attempt(api.client, 'POST', '/v0/user-certificates', { UserID: 1, SerialNumber: 'AB', NotAfter: new Date().toISOString() })).toMatchObject({ status: 403, message: expect.stringContaining('/v0/users/{id}/certificates') });
  });
});

describe('what each role may do', () => {
  const kinds = registry.routed.filter((kind) => !kind.issuedBy);

  it('the families above name every kind', () => {
    expect(Object.keys(family).sort()).toEqual(registry.routed.map((kind) => kind.name).sort());
  });

  it.each(Object.keys(expected))('%s: every kind × list, get, create, update (PATCH and PUT), delete as the role allows, and nothing else', async (role) => {
    const { client } = await tokenClient(role);
    const may = expected[role]!;
    const problems: string[] = [];
    const check = (kind: Kind, verb: string, got: { status: number; message: string }, allowed: boolean, invisible = false): void => {
      // Allowed: done, or refused for the body's sake (400, 409). Denied: 403, or 404 for what the caller may not see.
      const done = (got.status >= 200 && got.status < 300) || got.status === 400 || got.status === 409;
      const denied = got.status === 403 || (invisible && got.status === 404);
      if (allowed ? !done : !denied) problems.push(`${kind.name} ${verb}: ${allowed ? 'allowed' : 'denied'} expected, got ${got.status} ${got.message}`);
    };
    for (const kind of kinds) {
      const owner = family[kind.name]!;
      const reads = may.reads.includes(owner);
      const writes = may.writes.includes(owner) || (may.kinds ?? []).includes(kind.name);
      const sample = await createSample(api.client, kind);
      const path = `${kind.path}/${sample.ID}`;
      check(kind, 'list', await attempt(client, 'GET', kind.path), reads);
      const one = await attempt(client, 'GET', path);
      check(kind, 'get', one, reads, true);
      if (!reads) expect(one.status, `${kind.name} get`).toBe(404);
      check(kind, 'create', await attempt(client, 'POST', kind.path, await samplePayload(api.client, kind)), writes || (may.creates ?? []).includes(owner));
      check(kind, 'PATCH', await attempt(client, 'PATCH', path, desiredStateEdit(kind, sample)), writes, !reads);
      check(kind, 'PUT', await attempt(client, 'PUT', path, await samplePayload(api.client, kind)), writes, !reads);
      check(kind, 'delete', await attempt(client, 'DELETE', path), writes, !reads);
    }
    expect(problems).toEqual([]);
  }, 240_000);

  it.each(Object.keys(expected))('%s: the routes beside CRUD as the role allows', async (role) => {
    const { client } = await tokenClient(role);
    const may = expected[role]!;
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    const definition = await createSample(api.client, registry.get('WorkloadDefinition'));
    const canRead = may.reads.includes('developer');
    const writesWorkloads = may.writes.includes('developer') || (may.kinds ?? []).includes('WorkloadInstance');
    const routes: [string, string, unknown, boolean][] = [
      // Agents ask for a reconcile when they see drift.
      ['POST', `/v0/workload-instances/${instance.ID}/reconcile`, { Reason: 'test' }, writesWorkloads || role === 'agent'],
      ['GET', '/v0/workload-instances/pending', undefined, canRead],
      ['GET', `/v0/events-join-attached-object-references?objectid=${instance.ID}`, undefined, may.reads.includes('report')],
      ['POST', '/v0/events/record', { ObjectType: 'v0.WorkloadInstance', ObjectID: instance.ID, Reason: 'Tested', Type: 'Normal', ReportingController: 'Test' }, may.writes.includes('report')],
      ['POST', '/v0/workload-resource-definition-sets', [{ JSONDefinition: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: uniqueName('c') } }, WorkloadDefinitionID: definition.ID }], may.writes.includes('developer') || (may.kinds ?? []).includes('WorkloadResourceDefinition')],
      ['DELETE', `/v0/workload-events?workloadinstanceid=${instance.ID}`, undefined, may.writes.includes('report')],
    ];
    const problems: string[] = [];
    for (const [method, path, body, allowed] of routes) {
      const got = await attempt(client, method, path, body);
      const denied = got.status === 403 || got.status === 404;
      if (allowed === denied) problems.push(`${method} ${path}: ${allowed ? 'allowed' : 'denied'} expected, got ${got.status} ${got.message}`);
    }
    expect(problems).toEqual([]);
  });

  it('a denial says which permission is missing', async () => {
    const { client, name } = await tokenClient('developer');
    const denied = await attempt(client, 'POST', '/v0/kubernetes-runtime-definitions', { Name: 'x', InfraProvider: 'kind' });
    expect(denied).toEqual({ status: 403, reason: 'Forbidden', message: `token:${name} (developer) may not create KubernetesRuntimeDefinition objects: that needs the admin or platform role` });
  });

  it('a delivery token reports image builds and can do nothing else', async () => {
    const { client } = await tokenClient('delivery');
    const build = await client.kind('ImageBuild').create({ Repository: 'ghcr.io/acme/shop', Tag: 'v1.2.3', Digest: `sha256:${'a'.repeat(64)}` });
    expect(build.ID).toEqual(expect.any(Number));
    expect((await attempt(client, 'GET', `/v0/image-builds/${build.ID}`)).status).toBe(404);
    expect((await attempt(client, 'GET', '/v0/image-builds')).status).toBe(403);
    expect((await attempt(client, 'POST', '/v0/workload-definitions', { Name: 'x', YAMLDocument: 'kind: ConfigMap' })).status).toBe(403);
    expect((await attempt(client, 'POST', '/v0/api-tokens', { Name: 'x', Role: 'admin', TokenHash: newToken().hash, ExpiresAt: new Date(Date.now() + 60_000).toISOString() })).status).toBe(403);
  });

  it('an application is no way around the roles: a developer may declare what a developer may make, and use what the platform offers by name', async () => {
    const { client } = await tokenClient('developer');
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n';
    const database = { Engine: 'postgres', EngineVersion: '16.3', DatabaseName: 'app', DatabasePort: 5432, WorkloadSecretName: 'db' };
    const made = await attempt(client, 'POST', '/v0/applications', { Name: 'escalates', YAMLDocument: yaml, AwsRelationalDatabase: database });
    expect(made.status).toBe(403);
    expect(made.message).toContain('may not create AwsRelationalDatabaseDefinition objects');
    expect(made.message).toContain('this Application would have one made');
    // Deeper down too.
    expect((await attempt(client, 'POST', '/v0/applications', { Name: 'nested', YAMLDocument: yaml, Dependencies: [{ Name: 'inner', YAMLDocument: yaml, DomainName: { Domain: 'example.com' } }] })).status).toBe(403);
    // A part of theirs (a secret), and the platform's database by name: allowed.
    const allowed = await attempt(client, 'POST', '/v0/applications', { Name: 'allowed', YAMLDocument: yaml, Secret: { Backend: 'direct' }, SecretData: { k: 'v' }, AwsRelationalDatabase: { Name: 'offered-db' } });
    expect(allowed.status, allowed.message).toBe(200);
    // Fields no part has, or that controllers write, are refused for anyone.
    const refused = await attempt(api.client, 'POST', '/v0/applications', { Name: 'sneaky', YAMLDocument: yaml, Gateway: { ServiceName: 'web', Reconciled: true } });
    expect(refused).toMatchObject({ status: 400 });
    expect(refused.message).toContain('Application.Gateway.Reconciled: unknown field; use Name, HttpPorts, TcpPorts, SubDomain, ServiceName');
  });

  it('controller groups write their own kinds, what controllers report and the few kinds of others they must; agents report', async () => {
    const { client: workload } = await tokenClient('controller:workload');
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    const runtime = await createSample(api.client, registry.get('KubernetesRuntimeInstance'));
    expect((await attempt(workload, 'PATCH', `/v0/workload-instances/${instance.ID}`, { Status: 'Healthy' })).status).toBe(200);
    expect((await attempt(workload, 'PATCH', `/v0/kubernetes-runtime-instances/${runtime.ID}`, { Status: 'Ready' })).status).toBe(403);
    expect((await attempt(workload, 'GET', `/v0/kubernetes-runtime-instances/${runtime.ID}`)).status).toBe(200);
    expect((await attempt(workload, 'GET', '/v0/users')).status).toBe(403);
    const { client: aws } = await tokenClient('controller:aws');
    expect((await attempt(aws, 'PATCH', `/v0/kubernetes-runtime-instances/${runtime.ID}`, { APIEndpoint: 'https://eks.example.com' })).status).toBe(200);
  });

  it('an agent reports live state (controller-owned fields of instances and their resources, events) and changes nothing else', async () => {
    const { client: agent } = await tokenClient('agent');
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    const resource = await createSample(api.client, registry.get('WorkloadResourceInstance'));
    expect((await attempt(agent, 'PATCH', `/v0/workload-instances/${instance.ID}`, { Status: 'Healthy: 1 resource(s) ready', Conditions: [] })).status).toBe(200);
    expect((await attempt(agent, 'PATCH', `/v0/workload-resource-instances/${resource.ID}`, { LastOperation: 'Applied', RuntimeDefinition: { kind: 'ConfigMap' } })).status).toBe(200);
    expect(await attempt(agent, 'PATCH', `/v0/workload-resource-instances/${resource.ID}`, { JSONDefinition: { kind: 'Pod' } })).toMatchObject({ status: 403, message: expect.stringContaining('JSONDefinition is not for it to write') });
    expect((await attempt(agent, 'PATCH', `/v0/workload-instances/${instance.ID}`, { KubernetesRuntimeInstanceID: instance.KubernetesRuntimeInstanceID })).status).toBe(403);
    expect((await attempt(agent, 'POST', '/v0/workload-resource-definitions', await samplePayload(api.client, registry.get('WorkloadResourceDefinition')))).status).toBe(403);
    expect((await attempt(agent, 'DELETE', `/v0/workload-instances/${instance.ID}`)).status).toBe(403);
  });
});

describe('children written with their parent', () => {
  it('are checked as their own kind: a developer sends no WorkloadEvents with an instance', async () => {
    const { client } = await tokenClient('developer');
    const payload = await samplePayload(api.client, registry.get('WorkloadInstance'));
    const refused = await attempt(client, 'POST', '/v0/workload-instances', { ...payload, Events: [{ RuntimeEventUID: uniqueName('e'), Type: 'Normal', Reason: 'Forged', Message: 'm', Timestamp: new Date().toISOString() }] });
    expect(refused).toMatchObject({ status: 403, message: expect.stringContaining('may not create WorkloadEvent objects') });
  });
});

describe('roles bound for some runtimes', () => {
  /** Two runtimes, and a user given `role` for the first one only. */
  async function boundForOne(role: string): Promise<{ mine: ApiObject; theirs: ApiObject; name: string; client: ApiClient }> {
    const runtime = registry.get('KubernetesRuntimeInstance');
    const [mine, theirs] = [await createSample(api.client, runtime), await createSample(api.client, runtime)];
    const name = uniqueName(role);
    const { client } = await userClient(name);
    await api.client.kind('RoleBinding').create({ Name: uniqueName('b'), Role: role, Subject: `user:${name}`, Runtimes: [String(mine.Name)] });
    return { mine, theirs, name, client };
  }

  it('a developer bound for one runtime changes what runs there, and reads but may not change what runs elsewhere', async () => {
    const { mine, theirs, name, client } = await boundForOne('developer');
    const instances = client.kind('WorkloadInstance');
    const kind = registry.get('WorkloadInstance');

    const placed = await instances.create(await samplePayload(api.client, kind, { KubernetesRuntimeInstanceID: mine.ID }));
    expect((await attempt(client, 'PATCH', `/v0/workload-instances/${placed.ID}`, { Reconciled: false })).status).toBe(200);
    const elsewhere = await attempt(client, 'POST', '/v0/workload-instances', await samplePayload(api.client, kind, { KubernetesRuntimeInstanceID: theirs.ID }));
    expect(elsewhere).toEqual({ status: 403, reason: 'Forbidden', message: `user:${name} may change WorkloadInstance objects on the runtimes ${String(mine.Name)} only, not on ${String(theirs.Name)}` });
    const others = await createSample(api.client, kind, { KubernetesRuntimeInstanceID: theirs.ID });
    expect((await attempt(client, 'GET', `/v0/workload-instances/${others.ID}`)).status).toBe(200);
    expect((await attempt(client, 'DELETE', `/v0/workload-instances/${others.ID}`)).status).toBe(403);
    // What runs on no runtime (definitions) is not limited.
    expect((await attempt(client, 'POST', '/v0/workload-definitions', await samplePayload(api.client, registry.get('WorkloadDefinition')))).status).toBe(200);
    await expect(api.client.kind('RoleBinding').create({ Name: uniqueName('b'), Role: 'developer', Subject: 'user:x', Runtimes: 'dev' })).rejects.toThrow('Runtimes must be a list');

    // An application: on a runtime of theirs by name; elsewhere, or wherever placement would choose, not.
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n';
    expect((await attempt(client, 'POST', '/v0/applications', { Name: uniqueName('app'), Runtime: { Name: mine.Name }, YAMLDocument: yaml, Dependencies: [{ Name: uniqueName('dep'), YAMLDocument: yaml }] })).status).toBe(200);
    expect((await attempt(client, 'POST', '/v0/applications', { Name: uniqueName('app'), Runtime: { Name: mine.Name }, YAMLDocument: yaml, Dependencies: [{ Name: uniqueName('dep'), YAMLDocument: yaml, Runtime: { Name: theirs.Name } }] })).message).toContain(`not on ${String(theirs.Name)}`);
    expect((await attempt(client, 'POST', '/v0/applications', { Name: uniqueName('app'), Runtime: { Location: 'Local' }, YAMLDocument: yaml })).message).toContain('not on whichever runtime placement chooses');

    // Through another object: a database for a workload instance elsewhere, a gateway routing to one.
    const database = registry.get('AwsRelationalDatabaseInstance');
    expect((await attempt(client, 'POST', database.path, await samplePayload(api.client, database, { WorkloadInstanceID: others.ID }))).message).toContain(`not on ${String(theirs.Name)}`);
    expect((await attempt(client, 'POST', database.path, await samplePayload(api.client, database, { WorkloadInstanceID: placed.ID }))).status).toBe(200);
    const gateway = registry.get('GatewayInstance');
    expect((await attempt(client, 'POST', gateway.path, await samplePayload(api.client, gateway, { KubernetesRuntimeInstanceID: mine.ID, WorkloadInstanceID: others.ID }))).status).toBe(403);
    // A definition used elsewhere is not theirs to change; one used only in scope is.
    const sharedDefinition = await api.client.kind('WorkloadDefinition').get(Number(others.WorkloadDefinitionID));
    expect((await attempt(client, 'PATCH', `/v0/workload-definitions/${sharedDefinition.ID}`, { YAMLDocument: 'kind: ConfigMap' })).message).toContain(`a WorkloadInstance there uses it`);
    expect((await attempt(client, 'PATCH', `/v0/workload-definitions/${placed.WorkloadDefinitionID}`, { YAMLDocument: String(sharedDefinition.YAMLDocument) })).status).toBe(200);
  });

  it('a platform engineer bound for one runtime changes that runtime only, and cannot rename it away or another into scope', async () => {
    const { mine, theirs, client } = await boundForOne('platform');
    expect((await attempt(client, 'PATCH', `/v0/kubernetes-runtime-instances/${mine.ID}`, { ThreeportAgentImage: 'registry.example.com/agent:v2' })).status).toBe(200);
    expect((await attempt(client, 'DELETE', `/v0/kubernetes-runtime-instances/${theirs.ID}`)).status).toBe(403);
    expect((await attempt(client, 'PATCH', `/v0/kubernetes-runtime-instances/${mine.ID}`, { Name: uniqueName('elsewhere') })).status).toBe(403);
    expect((await attempt(client, 'PATCH', `/v0/kubernetes-runtime-instances/${theirs.ID}`, { Name: String(mine.Name) })).status).toBe(403);
  });
});

describe('secrets, controller-owned fields and the audit trail', () => {
  it('a viewer or developer gets the redaction placeholder for encrypted fields (objects, lists, revisions); admins and controllers the ciphertext', async () => {
    const account = await createSample(api.client, registry.get('AwsAccount'), { AccessKeyID: 'AKIAEXAMPLEKEY123456', SecretAccessKey: 'secret-access-key-value' });
    const cipher = FieldCipher.fromBase64(api.encryptionKey);
    for (const role of ['viewer', 'developer']) {
      const { client } = await tokenClient(role);
      const one = await client.kind('AwsAccount').get(Number(account.ID));
      expect(one.SecretAccessKey).toBe(REDACTED_PLACEHOLDER);
      const listed = (await client.kind('AwsAccount').listAll()).find((item) => item.ID === account.ID);
      expect(listed?.AccessKeyID).toBe(REDACTED_PLACEHOLDER);
      const [revision] = await client.kind('AwsAccount').revisions(Number(account.ID));
      expect(revision!.Object.SecretAccessKey).toBe(REDACTED_PLACEHOLDER);
      expect(JSON.stringify(await client.request('GET', `/v0/aws-accounts/${account.ID}/revisions`))).not.toContain(String(account.SecretAccessKey));
    }
    for (const role of ['admin', 'platform', 'controller']) {
      const { client } = await tokenClient(role);
      expect(cipher.decrypt(String((await client.kind('AwsAccount').get(Number(account.ID))).SecretAccessKey))).toBe('secret-access-key-value');
    }
  });

  it('secret values are returned to no one but the secret controller (its ciphertext): admins, other controllers and developers get the placeholder, in revisions too', async () => {
    const definition = await api.client.kind('SecretDefinition').create({ Name: uniqueName('hidden'), Data: { password: 'hidden-value' } });
    for (const role of ['admin', 'developer', 'viewer', 'controller:workload']) {
      const { client } = await tokenClient(role);
      expect((await client.kind('SecretDefinition').get(definition.ID)).Data, role).toBe(REDACTED_PLACEHOLDER);
      expect((await client.kind('SecretDefinition').revisions(definition.ID))[0]!.Object.Data, role).toBe(REDACTED_PLACEHOLDER);
    }
    for (const role of ['controller:secret', 'controller']) {
      const { client } = await tokenClient(role);
      const data = (await client.kind('SecretDefinition').get(definition.ID)).Data;
      expect(FieldCipher.fromBase64(api.encryptionKey).decryptValue(data), role).toEqual({ password: 'hidden-value' });
    }
  });

  it("a developer writes back a secret definition it read (Data as the placeholder, as Go clients send whole objects): the values stay", async () => {
    const { client } = await tokenClient('developer');
    const definition = await client.kind('SecretDefinition').create({ Name: uniqueName('kept'), Data: { password: 'kept-value' } });
    const read = await client.kind('SecretDefinition').get(definition.ID);
    expect(read.Data).toBe(REDACTED_PLACEHOLDER);
    // What the original's Go client sends: its struct's fields (no Generation, which is ours).
    const { ID: _id, CreatedAt: _created, UpdatedAt: _updated, Generation: _generation, ...body } = read as Record<string, unknown>;
    expect(await attempt(client, 'PUT', `/v0/secret-definitions/${definition.ID}`, body)).toMatchObject({ status: 200 });
    const { client: secretController } = await tokenClient('controller:secret');
    const stored = await secretController.kind('SecretDefinition').get(definition.ID);
    expect(FieldCipher.fromBase64(api.encryptionKey).decryptValue(stored.Data)).toEqual({ password: 'kept-value' });
    expect(stored.Generation, 'no new generation').toBe(1);
    expect((await attempt(client, 'POST', '/v0/secret-definitions', { Name: uniqueName('bad'), Data: REDACTED_PLACEHOLDER })).status, 'a placeholder is no value to create with').toBe(400);
  });

  it('only controllers (and admins) change Status, Conditions, Creation*/Deletion* or declare an object reconciled; unchanged values pass', async () => {
    const { client } = await tokenClient('developer');
    const definition = await createSample(api.client, registry.get('WorkloadDefinition'));
    const path = `/v0/workload-definitions/${definition.ID}`;
    expect(await attempt(client, 'PATCH', path, { Status: 'all good' })).toMatchObject({ status: 403, message: 'Status is written by controllers only; leave it out' });
    expect((await attempt(client, 'PATCH', path, { Reconciled: true })).status).toBe(403);
    expect((await attempt(client, 'PATCH', path, { DeletionConfirmed: new Date().toISOString() })).status).toBe(403);
    expect((await attempt(client, 'POST', '/v0/workload-definitions', { Name: uniqueName('w'), YAMLDocument: 'kind: ConfigMap', CreationConfirmed: new Date().toISOString() })).status).toBe(403);
    // Clearing is a change too; so is a key in another case; a PUT leaving them out keeps them.
    const condition = { Type: 'Reconciled', Status: 'True' as const, Reason: 'Done', LastTransitionTime: '2026-12-07T10:00:00.000Z' };
    await api.client.kind('WorkloadDefinition').update(Number(definition.ID), { Status: 'reported', Conditions: [condition] });
    expect((await attempt(client, 'PATCH', path, { Status: null })).status).toBe(403);
    expect((await attempt(client, 'PATCH', path, { status: 'forged' })).status).toBe(403);
    expect((await attempt(client, 'PATCH', path, { CONDITIONS: [] })).status).toBe(403);
    const replaced = await client.kind('WorkloadDefinition').replace(Number(definition.ID), { Name: String(definition.Name), YAMLDocument: String(definition.YAMLDocument) });
    expect(replaced).toMatchObject({ Status: 'reported', Conditions: [condition] });
    expect((await attempt(client, 'PUT', path, { Name: String(definition.Name), YAMLDocument: String(definition.YAMLDocument), Status: null })).status).toBe(403);
    // Writing back what was read (the original's clients send whole objects) is fine.
    const current = await client.kind('WorkloadDefinition').get(Number(definition.ID));
    const writeBack = await attempt(client, 'PATCH', path, { Name: current.Name, Reconciled: false, CreationFailed: current.CreationFailed, Conditions: current.Conditions ?? null });
    expect(writeBack, writeBack.message).toMatchObject({ status: 200 });
    const { client: controller } = await tokenClient('controller:workload');
    expect((await attempt(controller, 'PATCH', path, { Status: 'reconciled', Reconciled: true })).status).toBe(200);
  });

  it('each revision names its writer and where the write came from: the user or token, and controllers recording events', async () => {
    const { client, name } = await tokenClient('platform');
    const tier = await client.kind('Tier').create({ Name: uniqueName('tier'), Criticality: 5 });
    const carol = await userClient(uniqueName('hank'), ['threeport:admins']);
    await carol.client.kind('Tier').update(Number(tier.ID), { Criticality: 6 });
    await carol.client.kind('Tier').delete(Number(tier.ID));
    const revisions = await api.server.db.query<{ actor: string; operation: string }>('SELECT actor, operation FROM threeport_revisions WHERE object_id = $1 ORDER BY version', [tier.ID]);
    const hank = (await api.client.kind('User').get(carol.userId)).Name;
    expect(revisions).toEqual([
      { actor: `token:${name} via threeport-client`, operation: 'Created' },
      { actor: `user:${hank} via threeport-client`, operation: 'Updated' },
      { actor: `user:${hank} via threeport-client`, operation: 'Deleted' },
    ]);
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    const { client: controller, name: controllerName } = await tokenClient('controller:workload');
    await controller.recordEvent({ kind: 'WorkloadInstance', objectId: Number(instance.ID), reason: 'Applied', type: 'Normal', note: 'ok', reportingController: 'WorkloadController' });
    const [event] = await api.client.eventsOf(Number(instance.ID));
    const eventRevisions = await api.server.db.query<{ actor: string }>('SELECT actor FROM threeport_revisions WHERE object_id = $1', [event!.ID]);
    expect(eventRevisions).toEqual([{ actor: `token:${controllerName} via threeport-client` }]);
    // And through the API, for a revision a client reads.
    const [first] = await api.client.kind('WorkloadInstance').revisions(Number(instance.ID));
    expect((first as { Actor?: string }).Actor).toBe('test-admin via threeport-client');
  });
});

describe('client certificates required at the handshake', () => {
  it('a connection without one is refused at TLS; with one it works, a token beside it too', async () => {
    const strict = await startApi({ database: 'pglite', auth: true, requireClientCertificates: true });
    const strictCa = strict.server.auth!.caCertificate;
    const noCertificate = await attempt(new ApiClient({ baseUrl: strict.url, tls: { ca: strictCa } }), 'GET', '/livez');
    expect(noCertificate).toMatchObject({ status: 0, message: expect.stringContaining('requires a client certificate') });
    // The first certificate, as --bootstrap-credentials makes it: from the store, no client can connect yet.
    const { store, db } = strict.server;
    const strictAuthority = await loadAuthority(db, FieldCipher.fromBase64(strict.encryptionKey), await controlPlaneId(db));
    const user = await store.create(registry.get('User'), { Name: 'mo', Groups: ['threeport:admins'] });
    const keys = generateKeyPair();
    const issued = strictAuthority.clientCertificate({ commonName: 'mo' }, keys.publicKey, 3_600_000);
    await store.create(registry.get('UserCertificate'), { UserID: user.ID, SerialNumber: issued.serialNumber, NotAfter: issued.notAfter.toISOString() });
    const holder = new ApiClient({ baseUrl: strict.url, tls: { ca: strictCa, certificate: issued.certificate, key: privateKeyPem(keys.privateKey) } });
    expect(await holder.request('GET', '/v0/whoami')).toMatchObject({ Name: 'user:mo' });
    const { token, hash } = newToken();
    await holder.kind('ApiToken').create({ Name: 'beside', Role: 'viewer', TokenHash: hash, ExpiresAt: new Date(Date.now() + 60_000).toISOString() });
    const both = new ApiClient({ baseUrl: strict.url, tls: { ca: strictCa, certificate: issued.certificate, key: privateKeyPem(keys.privateKey) }, token });
    expect(await both.request('GET', '/v0/whoami')).toMatchObject({ Name: 'token:beside' });
  });
});

describe('configuration', () => {
  it('auth is on by default off loopback; off there needs --allow-unauthenticated; a bad value is a clear error', () => {
    const env = { THREEPORT_ENCRYPTION_KEY: FieldCipher.generateKey(), THREEPORT_DATA_DIR: '/tmp/threeport-config-test' };
    expect(resolveServerConfig({ listen: '0.0.0.0:1323' }, env).auth?.enabled).toBe(true);
    expect(resolveServerConfig({ listen: '127.0.0.1:1323' }, env).auth?.enabled).toBe(false);
    expect(() => resolveServerConfig({ listen: '0.0.0.0:1323', authEnabled: 'false' }, env)).toThrow(ConfigError);
    expect(() => resolveServerConfig({ listen: '0.0.0.0:1323', authEnabled: 'false' }, env)).toThrow(/--allow-unauthenticated/);
    expect(resolveServerConfig({ listen: '0.0.0.0:1323', authEnabled: 'false', allowUnauthenticated: true }, env).auth?.enabled).toBe(false);
    expect(() => resolveServerConfig({ authEnabled: 'maybe' }, env)).toThrow('invalid auth-enabled "maybe": use true or false');
    expect(() => resolveServerConfig({ certificateLifetime: '3 weeks' }, env)).toThrow(/720h or 90d/);
    expect(resolveServerConfig({ listen: '10.1.2.3:443', tlsNames: 'api.example.com' }, env).auth?.tlsNames).toEqual(['api.example.com', '10.1.2.3']);
    // Listening everywhere, the certificate names this machine and its addresses.
    const everywhere = resolveServerConfig({ listen: '0.0.0.0:1323' }, env).auth?.tlsNames ?? [];
    expect(everywhere).toContain(hostname());
    const addresses = Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).filter((entry) => !entry.internal).map((entry) => entry.address));
    for (const address of addresses) expect(everywhere).toContain(address);
    expect(resolveServerConfig({ requireClientCertificates: true }, env).auth?.requireClientCertificates).toBe(true);
  });
});
