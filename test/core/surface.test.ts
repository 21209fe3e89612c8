import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/model/registry.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';

let api: ApiHarness;
const getJson = async (path: string) => {
  const response = await fetch(`${api.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  api = await startApi({ database: 'postgres' });
});

describe('the v0 surface', () => {
  it('/version, /<plural>/versions and health', async () => {
    expect((await getJson('/version')).body).toEqual({ Version: expect.stringMatching(/^v\d+\.\d+\.\d+/), ControlPlaneID: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((await getJson('/workload-instances/versions')).body).toEqual({ API: 'WorkloadInstance', Versions: ['v0'] });
    expect((await fetch(`${api.url}/livez`)).status).toBe(200);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  });

  it('an OpenAPI document describing every routed kind and operation', async () => {
    const { body } = await getJson('/openapi.json');
    expect(body.openapi).toBe('3.1.0');
    const paths = body.paths as Record<string, Record<string, unknown>>;
    const schemas = (body.components as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
    for (const kind of registry.routed) {
      expect(Object.keys(paths[kind.path] ?? {}), kind.path).toEqual(['get', 'post']);
      expect(Object.keys(paths[`${kind.path}/{id}`] ?? {}), kind.path).toEqual(['parameters', 'get', 'patch', 'put', 'delete']);
      for (const [name, field] of Object.entries(kind.fields)) {
        // Responses carry stored fields only; clients write all but associations and the API's own fields.
        const returned = field.kind === 'scalar';
        const writable = field.kind !== 'association' && field.owner !== 'server';
        expect(kind.jsonKey(name) in (schemas[kind.name]?.properties ?? {}), `${kind.name}.${name} returned`).toBe(returned);
        expect(kind.jsonKey(name) in (schemas[`${kind.name}Input`]?.properties ?? {}), `${kind.name}.${name} writable`).toBe(writable);
      }
    }
    // Every $ref resolves.
    const refs = JSON.stringify(body).match(/#\/components\/(schemas|responses)\/[A-Za-z]+/g) ?? [];
    for (const ref of new Set(refs)) {
      const [, section, name] = ref.split('/').slice(1);
      expect((body.components as Record<string, Record<string, unknown>>)[section!]?.[name!], ref).toBeDefined();
    }
  });

  it('POST /v0/workload-resource-definition-sets creates all or nothing', async () => {
    const definition = await createSample(api.client, registry.get('WorkloadDefinition'));
    const kinds = [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } }];
    const manifests = kinds.map((manifest) => ({ JSONDefinition: manifest, WorkloadDefinitionID: definition.ID }));
    const response = await fetch(`${api.url}/v0/workload-resource-definition-sets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(manifests),
    });
    expect(response.status).toBe(201);
    const created = ((await response.json()) as { Data: Record<string, unknown>[] }).Data;
    expect(created.map((c) => c.JSONDefinition)).toEqual(kinds);
    expect(created.map((c) => c.ResourceKey)).toEqual(['apps/Deployment//web', '/Service//web']);

    const renamed = kinds.map((manifest) => ({ JSONDefinition: { ...manifest, metadata: { name: 'other' } }, WorkloadDefinitionID: definition.ID }));
    const broken = [...renamed, { JSONDefinition: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, WorkloadDefinitionID: 987654321 }];
    const refused = await fetch(`${api.url}/v0/workload-resource-definition-sets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(broken) });
    expect(refused.status).toBe(400);
    expect((await api.client.kind('WorkloadResourceDefinition').list({ workloaddefinitionid: Number(definition.ID) })).total).toBe(2);
  });

  it('DELETE /v0/workload-events?workloadinstanceid= removes that instance’s events only', async () => {
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    const other = await createSample(api.client, registry.get('WorkloadInstance'));
    const events = api.client.kind('WorkloadEvent');
    const event = (workload: Record<string, unknown>, n: number) => ({
      RuntimeEventUID: uniqueName('uid'), Type: 'Normal', Reason: 'Pulled', Message: `event ${n}`, Timestamp: new Date().toISOString(), WorkloadInstanceID: Number(workload.ID),
    });
    for (let n = 0; n < 3; n++) await events.create(event(instance, n));
    await events.create(event(other, 9));
    const response = await fetch(`${api.url}/v0/workload-events?workloadinstanceid=${instance.ID}`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { Data: unknown[] }).Data).toHaveLength(3);
    expect((await events.list({ workloadinstanceid: Number(instance.ID) })).total).toBe(0);
    expect((await events.list({ workloadinstanceid: Number(other.ID) })).total).toBe(1);
  });

  it('GET /v0/events-join-attached-object-references lists an object’s events, filtered and paged', async () => {
    const workload = await createSample(api.client, registry.get('WorkloadInstance'));
    for (const [reason, note] of [['SuccessfulCreate', 'created'], ['FailedUpdate', 'no runtime'], ['FailedUpdate', 'still no runtime']] as const) {
      const event = await api.client.kind('Event').create({
        Reason: reason, Note: note, Count: 1, EventTime: new Date().toISOString(), LastObservedTime: new Date().toISOString(),
        Type: reason.startsWith('Failed') ? 'Warning' : 'Normal', ReportingController: 'WorkloadController',
      });
      const reference = await api.client.kind('AttachedObjectReference').create({
        ObjectType: 'v0.WorkloadInstance', ObjectID: workload.ID, AttachedObjectType: 'v0.Event', AttachedObjectID: event.ID,
      });
      await api.client.kind('Event').update(Number(event.ID), { AttachedObjectReferenceID: reference.ID });
    }
    const all = await getJson(`/v0/events-join-attached-object-references?objectid=${workload.ID}`);
    expect((all.body.Meta as { TotalCount: number }).TotalCount).toBe(3);
    const failed = await getJson(`/v0/events-join-attached-object-references?objectid=${workload.ID}&reason=FailedUpdate&size=1`);
    expect((failed.body.Data as { Note: string }[]).map((e) => e.Note)).toEqual(['no runtime']);
    expect((failed.body.Meta as { TotalCount: number }).TotalCount).toBe(2);

    const duplicate = await fetch(`${api.url}/v0/attached-object-references`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ObjectType: 'v0.WorkloadInstance', ObjectID: workload.ID, AttachedObjectType: 'v0.Event', AttachedObjectID: (all.body.Data as { ID: number }[])[0]!.ID }),
    });
    expect(duplicate.status).toBe(409);
  });
});
