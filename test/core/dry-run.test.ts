/**
 * `?dryRun=true` on writes: the answer is what the write would store — validation, references,
 * unique names and versions all checked by the database — and nothing is stored, revised or
 * notified.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/control-plane.ts';
import { uniqueName } from '../support/samples.ts';

describe.each(['pglite', 'postgres'] as const)('dry runs on %s', async (database) => {
  const api = await startApi({ database });
  afterAll(() => api.close());
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${api.url}${path}`, { method, headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers }, ...(body !== undefined && { body: JSON.stringify(body) }) });
    return { status: response.status, dryRun: response.headers.get('threeport-dry-run'), body: (await response.json()) as { Data?: Record<string, unknown>[]; Status?: { error?: string } } };
  };
  const counts = async () => {
    // A notification is written with its revision, in one transaction: no revision, no notification.
    const [row] = await api.server.db.query<{ revisions: number; definitions: number }>(
      'SELECT (SELECT count(*) FROM threeport_revisions)::int AS revisions, (SELECT count(*) FROM v0_workload_definitions WHERE deleted_at IS NULL)::int AS definitions',
    );
    return row;
  };

  it('a create answers what it would store and stores nothing; a taken name or a missing reference is refused as it would be', async () => {
    const before = await counts();
    const name = uniqueName('wd');
    const created = await call('POST', '/v0/workload-definitions?dryRun=true', { Name: name, YAMLDocument: 'kind: ConfigMap' });
    expect(created).toMatchObject({ status: 201, dryRun: 'true', body: { Data: [{ Name: name, Version: 1, Reconciled: false }] } });
    expect(await counts()).toEqual(before);
    expect((await api.client.kind('WorkloadDefinition').listAll({ name })).length).toBe(0);

    const existing = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('wd'), YAMLDocument: 'kind: ConfigMap' });
    expect((await call('POST', '/v0/workload-definitions?dryRun=true', { Name: existing.Name, YAMLDocument: 'x' })).status).toBe(409);
    const orphan = await call('POST', '/v0/workload-instances?dryRun=All', { Name: uniqueName('wi'), WorkloadDefinitionID: 99_999_999, KubernetesRuntimeInstanceID: 99_999_998 });
    expect(orphan.status).toBe(400);
    expect((await call('POST', '/v0/workload-definitions?dryRun=maybe', { Name: uniqueName('wd'), YAMLDocument: 'x' })).body.Status?.error).toBe('query parameter dryRun must be true or false');
  });

  it('a write that cannot be dry-run refuses one rather than doing it for real', async () => {
    const definition = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('wd'), YAMLDocument: 'kind: ConfigMap' });
    const before = await counts();
    const set = await call('POST', '/v0/workload-resource-definition-sets?dryRun=true', [{ JSONDefinition: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, WorkloadDefinitionID: definition.ID }]);
    expect(set).toMatchObject({ status: 400, body: { Status: { error: 'POST /v0/workload-resource-definition-sets cannot be dry-run: leave out dryRun' } } });
    expect((await call('DELETE', '/v0/workload-events?dryRun=true&workloadinstanceid=1')).status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('an update and a delete answer their outcome, checking versions and references, and leave the object as it was', async () => {
    const definition = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('wd'), YAMLDocument: 'kind: ConfigMap' });
    const before = await counts();
    const patched = await call('PATCH', `/v0/workload-definitions/${definition.ID}?dryRun=true`, { YAMLDocument: 'kind: Secret' });
    expect(patched).toMatchObject({ status: 200, dryRun: 'true', body: { Data: [{ YAMLDocument: 'kind: Secret', Version: definition.Version + 1, Generation: 2 }] } });
    expect((await call('PATCH', `/v0/workload-definitions/${definition.ID}?dryRun=true`, { YAMLDocument: 'x' }, { 'if-match': '"99"' })).status).toBe(409);
    const replaced = await call('PUT', `/v0/workload-definitions/${definition.ID}?dryRun=true`, { Name: definition.Name, YAMLDocument: 'kind: Pod' });
    expect(replaced.body.Data?.[0]).toMatchObject({ YAMLDocument: 'kind: Pod' });
    expect(await call('DELETE', `/v0/workload-definitions/${definition.ID}?dryRun=true`)).toMatchObject({ status: 200, dryRun: 'true', body: { Data: [{ DeletionScheduled: expect.any(String) }] } });
    expect(await counts()).toEqual(before);
    expect(await api.client.kind('WorkloadDefinition').get(definition.ID)).toMatchObject({ YAMLDocument: 'kind: ConfigMap', Version: definition.Version });
    expect((await api.client.kind('WorkloadDefinition').get(definition.ID)).DeletionScheduled).toBeUndefined();
  });
});
