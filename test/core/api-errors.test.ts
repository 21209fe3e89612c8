import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/model/registry.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';

let api: ApiHarness;

interface Answer {
  status: number;
  body: { Meta?: unknown; Type?: string; Data?: unknown; Status?: { code: number; message: string; error: string } };
}

async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${api.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/** The request is refused with `status`, in the v0 error envelope, with a message mentioning `fragment`. */
async function expectRefused(answer: Promise<Answer>, status: number, fragment: string | RegExp): Promise<void> {
  const { status: actual, body } = await answer;
  expect(actual, JSON.stringify(body)).toBe(status);
  expect(body.Data).toBeNull();
  expect(body.Status?.code).toBe(status);
  expect(body.Status?.error).toMatch(fragment);
}

async function count(path: string): Promise<number> {
  const { body } = await send('GET', path);
  return (body.Meta as { TotalCount: number }).TotalCount;
}

beforeAll(async () => {
  api = await startApi({ database: 'pglite' });
});

describe('bad requests get a clear 4xx and change nothing', () => {
  const wd = '/v0/workload-definitions';

  it('malformed JSON, non-object bodies and empty payloads', async () => {
    const before = await count(wd);
    await expectRefused(send('POST', wd, '{"Name": "x",'), 400, /JSON/i);
    await expectRefused(send('POST', wd, '[1, 2]'), 400, 'must be an object');
    await expectRefused(send('POST', wd, '"text"'), 400, 'must be an object');
    await expectRefused(send('POST', wd, {}), 400, 'JSON payload is empty');
    await expectRefused(send('POST', wd, 'Name: x', { 'content-type': 'text/yaml' }), 415, /content-type/i);
    expect(await count(wd)).toBe(before);
  });

  it('the original messages for model fields, unknown fields, associations and missing fields', async () => {
    await expectRefused(send('POST', wd, { ID: 5, Name: 'x', YAMLDocument: 'a' }), 400, 'Update of GORM Model fields is not allowed : ID');
    await expectRefused(send('POST', wd, { Name: 'x', YAMLDocument: 'a', Colour: 'red' }), 400, 'Unsupported fields are not allowed : Colour');
    await expectRefused(send('POST', wd, { Name: 'x', YAMLDocument: 'a', WorkloadInstances: [] }), 400, 'Update of associated objects is not allowed');
    await expectRefused(send('POST', wd, { Name: 'x' }), 400, 'Missing required field(s) : YAMLDocument');
    await expectRefused(send('POST', '/v0/workload-instances', { Status: 'x' }), 400, 'Missing required field(s) : Name,WorkloadDefinitionID');
  });

  it('fields are matched case-insensitively and by their odd JSON names', async () => {
    const created = await send('POST', wd, { name: uniqueName('lower'), yamldocument: 'kind: Pod' });
    expect(created.status).toBe(201);
    expect(created.body.Data).toEqual([expect.objectContaining({ YAMLDocument: 'kind: Pod' })]);
  });

  it('values of the wrong type', async () => {
    await expectRefused(send('POST', wd, { Name: 7, YAMLDocument: 'a' }), 400, 'Name must be a string');
    await expectRefused(send('POST', '/v0/tiers', { Name: 'x', Criticality: '10' }), 400, 'Criticality must be an integer');
    await expectRefused(send('POST', '/v0/tiers', { Name: 'x', Criticality: 1.5 }), 400, 'Criticality must be an integer');
    await expectRefused(send('POST', wd, { Name: 'x', YAMLDocument: 'a', Reconciled: 'yes' }), 400, 'Reconciled must be true or false');
    await expectRefused(send('POST', wd, { Name: 'x', YAMLDocument: 'a', CreationAcknowledged: 'yesterday' }), 400, 'RFC 3339');
    await expectRefused(send('POST', '/v0/workload-instances', { Name: 'x', KubernetesRuntimeInstanceID: -1, WorkloadDefinitionID: 1 }), 400, 'must be the ID');
    await expectRefused(send('POST', wd, { Name: 'nul\u0000byte', YAMLDocument: 'a' }), 400, 'Name must not contain NUL characters');
    await expectRefused(send('POST', '/v0/workload-resource-definitions', { JSONDefinition: { a: '\u0000' }, WorkloadDefinitionID: 1 }), 400, 'NUL');
    await expectRefused(send('GET', '/v0/workload-resource-instances?lastoperation=%00x'), 400, 'must not contain NUL');
  });

  it('domain rules are 400s, not 500s', async () => {
    await expectRefused(send('POST', '/v0/kubernetes-runtime-definitions', { Name: uniqueName('k'), InfraProvider: 'gke' }), 400, 'InfraProvider "gke" is not supported');
    const account = await createSample(api.client, registry.get('AwsAccount'));
    await expectRefused(
      send('POST', '/v0/aws-relational-database-definitions', {
        Name: uniqueName('db'), Engine: 'postgres', EngineVersion: '9.6', DatabaseName: 'd', DatabasePort: 5432,
        MachineSize: 'Small', StorageGb: 10, WorkloadSecretName: 's', AwsAccountID: account.ID,
      }),
      400,
      '9.6 version is not supported for engine postgres',
    );
    await expectRefused(
      send('POST', '/v0/aws-accounts', { Name: uniqueName('a'), AccountID: '1', DefaultRegion: 'us-east-1', AccessKeyID: 'only-one' }),
      400,
      'both access key id and secret access key',
    );
    await expectRefused(send('POST', '/v0/aws-accounts', { Name: uniqueName('a'), AccountID: '12345', DefaultRegion: 'us-east-1' }), 400, 'AccountID must be the 12-digit AWS account number');
    await expectRefused(send('POST', '/v0/aws-accounts', { Name: uniqueName('a'), AccountID: '123456789012', DefaultRegion: 'Virginia' }), 400, 'DefaultRegion must be an AWS region name');
    await expectRefused(send('PATCH', `/v0/aws-accounts/${account.ID}`, { DefaultRegion: 'eu west 1' }), 400, 'DefaultRegion must be an AWS region name');
    const runtime = await createSample(api.client, registry.get('KubernetesRuntimeInstance'));
    await expectRefused(send('PATCH', `/v0/kubernetes-runtime-instances/${runtime.ID}`, { Location: 'Europe:Paris' }), 400, 'Location cannot be changed');
    await expectRefused(send('POST', '/v0/kubernetes-runtime-instances', { ...runtime, ID: undefined, Name: uniqueName('r'), Location: 'Mars' }), 400, /Location "Mars" is not supported|GORM/);
  });

  it('ids that are not positive integers below 2^53', async () => {
    for (const id of ['abc', '1=1', '0', '-3', '1.5', '99999999999999999999', 'null%2Cnull']) {
      await expectRefused(send('GET', `${wd}/${id}`), 400, 'invalid ID');
      await expectRefused(send('PATCH', `${wd}/${id}`, { Name: 'x' }), 400, 'invalid ID');
      await expectRefused(send('DELETE', `${wd}/${id}`), 400, 'invalid ID');
    }
    await expectRefused(send('GET', `${wd}/123456789`), 404, 'record not found');
    await expectRefused(send('PATCH', `${wd}/123456789`, { Name: 'x' }), 404, 'record not found');
    await expectRefused(send('DELETE', `${wd}/123456789`), 404, 'record not found');
  });

  it('list parameters', async () => {
    await expectRefused(send('GET', `${wd}?page=x`), 400, 'Query parameter is not a valid integer value: page');
    await expectRefused(send('GET', `${wd}?size=0`), 400, 'between 1 and 1000');
    await expectRefused(send('GET', `${wd}?size=100000`), 400, 'between 1 and 1000');
    await expectRefused(send('GET', `${wd}?page=-1`), 400, 'between 1');
    await expectRefused(send('GET', `${wd}?colour=red`), 400, 'unsupported query parameter(s): colour');
    await expectRefused(send('GET', `${wd}?reconciled=maybe`), 400, 'reconciled must be true or false');
    await expectRefused(send('GET', `${wd}?name=a&name=b`), 400, 'only once');
    await expectRefused(send('GET', '/v0/workload-instances?workloaddefinitionid=abc'), 400, 'must be an integer');
  });

  it('a PATCH cannot clear a required field; If-Match must be an ETag', async () => {
    const created = await createSample(api.client, registry.get('WorkloadDefinition'));
    await expectRefused(send('PATCH', `${wd}/${created.ID}`, { YAMLDocument: null }), 400, 'YAMLDocument is required and cannot be cleared');
    await expectRefused(send('PATCH', `${wd}/${created.ID}`, { Reconciled: true }, { 'if-match': 'yesterday' }), 400, 'invalid If-Match');
    await expectRefused(send('PUT', `${wd}/${created.ID}`, { Name: created.Name }), 400, 'Missing required field(s) : YAMLDocument');
    expect((await api.client.kind('WorkloadDefinition').get(Number(created.ID))).Version).toBe(1);
  });

  it('unknown routes, oversized bodies', async () => {
    await expectRefused(send('GET', '/v0/widgets'), 404, 'no route for GET /v0/widgets');
    await expectRefused(send('POST', wd, { Name: 'x', YAMLDocument: 'x'.repeat(5 * 1024 * 1024) }), 413, /too large/i);
  });

  it('custom routes check their parameters', async () => {
    await expectRefused(send('POST', '/v0/workload-resource-definition-sets', {}), 400, 'non-empty array');
    await expectRefused(send('POST', '/v0/workload-resource-definition-sets', [{ JSONDefinition: {} }]), 400, 'Missing required field(s) : WorkloadDefinitionID');
    await expectRefused(send('DELETE', '/v0/workload-events'), 400, 'exactly one query parameter');
    await expectRefused(send('DELETE', '/v0/workload-events?name=x'), 400, 'exactly one query parameter');
    await expectRefused(send('GET', '/v0/events-join-attached-object-references'), 400, 'objectid is required');
    await expectRefused(send('GET', '/v0/events-join-attached-object-references?objectid=x'), 400, 'must be an integer');
  });
});

describe('references between objects', () => {
  it('an instance needs an existing definition and runtime', async () => {
    const definition = await createSample(api.client, registry.get('WorkloadDefinition'));
    await expectRefused(
      send('POST', '/v0/workload-instances', { Name: uniqueName('wi'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: 987654321 }),
      400,
      'KubernetesRuntimeInstanceID: kubernetes runtime instance with ID 987654321 does not exist',
    );
    expect(await count(`/v0/workload-instances?workloaddefinitionid=${definition.ID}`)).toBe(0);
  });

  it('a definition with instances cannot be deleted (409), and can once they are gone', async () => {
    const instance = await createSample(api.client, registry.get('AwsObjectStorageBucketInstance'));
    const definitionId = Number(instance.AwsObjectStorageBucketDefinitionID);
    await expectRefused(
      send('DELETE', `/v0/aws-object-storage-bucket-definitions/${definitionId}`),
      409,
      'aws object storage bucket definition has related aws object storage bucket instances - cannot be deleted',
    );
    const instances = api.client.kind('AwsObjectStorageBucketInstance');
    await instances.delete(Number(instance.ID));
    await instances.update(Number(instance.ID), { DeletionConfirmed: new Date().toISOString() });
    await instances.delete(Number(instance.ID));
    expect((await send('DELETE', `/v0/aws-object-storage-bucket-definitions/${definitionId}`)).status).toBe(200);
  });

  it('an instance that names no runtime gets the default one — never a default runtime being deleted', async () => {
    const runtimes = api.client.kind('KubernetesRuntimeInstance');
    const definition = await createSample(api.client, registry.get('WorkloadDefinition'));
    const runtime = await createSample(api.client, registry.get('KubernetesRuntimeInstance'), { Name: uniqueName('default'), DefaultRuntime: true });
    const placed = await api.client.kind('WorkloadInstance').create({ Name: uniqueName('wi'), WorkloadDefinitionID: definition.ID });
    expect(placed.KubernetesRuntimeInstanceID).toBe(runtime.ID);

    const doomed = await createSample(api.client, registry.get('KubernetesRuntimeInstance'), { Name: uniqueName('doomed') });
    await runtimes.update(Number(runtime.ID), { DefaultRuntime: false });
    await runtimes.update(Number(doomed.ID), { DefaultRuntime: true });
    await runtimes.delete(Number(doomed.ID));
    expect((await runtimes.get(Number(doomed.ID))).DeletionScheduled).toBeDefined();
    const before = await count('/v0/workload-instances');
    await expectRefused(
      send('POST', '/v0/workload-instances', { Name: uniqueName('wi'), WorkloadDefinitionID: definition.ID }),
      400,
      `the default kubernetes runtime instance ${String(doomed.Name)} is being deleted; name a KubernetesRuntimeInstanceID`,
    );
    expect(await count('/v0/workload-instances')).toBe(before);
    // Naming one still works.
    expect((await api.client.kind('WorkloadInstance').create({ Name: uniqueName('wi'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID })).KubernetesRuntimeInstanceID).toBe(runtime.ID);
  });

  it('a runtime with workloads cannot be deleted', async () => {
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    await expectRefused(send('DELETE', `/v0/kubernetes-runtime-instances/${instance.KubernetesRuntimeInstanceID}`), 409, 'has related workload instances');
  });

  it('nested ports are created with their gateway and deleted names can be reused', async () => {
    const gateway = await api.client.kind('GatewayDefinition').create({
      Name: uniqueName('gw'),
      HttpPorts: [{ Port: 80 }, { Port: 443, TLSEnabled: true, HTTPSRedirect: false }],
      TcpPorts: [{ Port: 5432 }],
    });
    const ports = await api.client.kind('GatewayHttpPort').list({ gatewaydefinitionid: Number(gateway.ID) });
    expect(ports.objects.map((p) => [p.Port, p.Path, p.TLSEnabled])).toEqual([[80, '/', false], [443, '/', true]]);
    await expectRefused(send('POST', '/v0/gateway-definitions', { Name: uniqueName('gw'), HttpPorts: [{ Port: 'eighty' }] }), 400, 'HttpPorts[0].Port must be an integer');

    const tiers = api.client.kind('Tier');
    const name = uniqueName('tier');
    const first = await tiers.create({ Name: name, Criticality: 1 });
    await expectRefused(send('POST', '/v0/tiers', { Name: name, Criticality: 2 }), 409, 'object with provided name already exists');
    await tiers.delete(Number(first.ID));
    expect((await send('POST', '/v0/tiers', { Name: name, Criticality: 2 })).status).toBe(201);
  });
});
