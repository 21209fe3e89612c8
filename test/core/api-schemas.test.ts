/**
 * The schemas the server validates with are the ones /openapi.json publishes, and they say what
 * the model says: who writes a field, its type, and that secret data comes back as ciphertext only.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import type { Kind } from '../../src/model/kind.ts';
import { controllerFields, serverFields } from '../../src/model/ownership.ts';
import { registry } from '../../src/model/registry.ts';
import { kindSchemas } from '../../src/server/kind-schemas.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample, samplePayload } from '../support/samples.ts';

interface Answer {
  status: number;
  body: { Data?: Record<string, unknown>[] | null; Status?: { error: string } };
}
type Schema = { properties?: Record<string, Record<string, unknown>>; required?: string[]; additionalProperties?: unknown } & Record<string, unknown>;

let api: ApiHarness;
let document: { components: { schemas: Record<string, Schema> }; paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };

async function send(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const schema = (name: string): Schema => {
  const found = document.components.schemas[name];
  if (!found) throw new Error(`no schema ${name}`);
  return found;
};
const keysMarked = (kind: Kind, owner: string): string[] =>
  Object.entries(schema(`${kind.name}Input`).properties ?? {})
    .filter(([, property]) => property['x-threeport-owner'] === owner)
    .map(([key]) => key);

beforeAll(async () => {
  api = await startApi({ database: 'pglite' });
  document = (await (await fetch(`${api.url}/openapi.json`)).json()) as typeof document;
});

describe('one schema per kind for the validator and the document', () => {
  it('/openapi.json publishes exactly the schemas the validator compiles', () => {
    for (const [name, compiled] of Object.entries(kindSchemas(registry))) {
      expect(document.components.schemas[name], name).toEqual(compiled);
    }
  });

  it('SecretDefinition.Data is a map of strings that responses carry as ciphertext only', async () => {
    const secrets = '/v0/secret-definitions';
    const cipher = FieldCipher.fromBase64(api.encryptionKey);
    const input = await samplePayload(api.client, registry.get('SecretDefinition'), { Data: { password: 'hunter2' } });
    const created = await send('POST', secrets, input);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.Data?.[0]?.ID;
    const answers = [
      [created, 'hunter2'],
      [await send('GET', `${secrets}/${id}`), 'hunter2'],
      [await send('PATCH', `${secrets}/${id}`, { Data: { password: 'hunter3' } }), 'hunter3'],
      [await send('PUT', `${secrets}/${id}`, { ...input, Data: { password: 'hunter4' } }), 'hunter4'],
    ] as const;
    for (const [answer, password] of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
      const [object] = answer.body.Data ?? [];
      expect(JSON.stringify(object)).not.toContain(password);
      expect(cipher.decryptValue(object?.Data)).toEqual({ password });
    }
    const listed = (await send('GET', `${secrets}?name=${String(input.Name)}`)).body.Data ?? [];
    expect(listed.map((object) => cipher.decryptValue(object.Data))).toEqual([{ password: 'hunter4' }]);
    for (const data of [5, 'hunter2', ['hunter2'], { password: 5 }, { password: null }]) {
      const refused = await send('POST', secrets, { ...input, Data: data });
      expect(refused.status, JSON.stringify(data)).toBe(400);
      expect(refused.body.Status?.error, JSON.stringify(data)).toMatch(/^Data(\.password)? must be (an object|a string|a map)/);
    }

    // A map of strings, or the redaction placeholder a reader who may not see secrets got.
    const map = { type: ['object', 'string'], additionalProperties: { type: 'string' }, 'x-encrypted': true };
    expect(schema('SecretDefinition').properties?.Data).toMatchObject(map);
    expect(schema('SecretDefinitionInput').properties?.Data).toMatchObject(map);
    expect(schema('SecretDefinitionInput').properties?.Data).not.toHaveProperty('writeOnly');
  });

  it('fields the API sets (Generation) are read-only: refused from clients like the GORM fields', async () => {
    const kind = registry.get('WorkloadDefinition');
    expect([...serverFields(kind)]).toEqual(['Generation']);
    const input = await samplePayload(api.client, kind);
    for (const body of [{ ...input, Generation: 7 }, { ...input, generation: 7 }]) {
      const refused = await send('POST', '/v0/workload-definitions', body);
      expect(refused.status).toBe(400);
      expect(refused.body.Status?.error).toMatch(/^Update of fields set by the API is not allowed : [Gg]eneration$/);
    }
    const created = await createSample(api.client, kind);
    const patched = await send('PATCH', `/v0/workload-definitions/${created.ID}`, { Generation: 99 });
    expect(patched.body.Status?.error).toBe('Update of fields set by the API is not allowed : Generation');

    for (const reconcilable of registry.reconcilable) {
      expect(schema(reconcilable.name).properties?.Generation, reconcilable.name).toMatchObject({ readOnly: true, 'x-threeport-owner': 'server' });
      expect(schema(`${reconcilable.name}Input`).properties, reconcilable.name).not.toHaveProperty('Generation');
      expect(schema(`${reconcilable.name}Patch`).properties, reconcilable.name).not.toHaveProperty('Generation');
    }
  });

  it('fields controllers report stay writable on the wire and are marked, in one place the security layer can use', async () => {
    for (const kind of registry.routed) {
      expect(keysMarked(kind, 'controller').sort(), kind.name).toEqual([...controllerFields(kind)].sort());
    }
    const kind = registry.get('WorkloadDefinition');
    expect([...controllerFields(kind)]).toEqual(expect.arrayContaining(['Status', 'CreationAcknowledged', 'DeletionScheduled', 'DeletionConfirmed', 'ObservedGeneration', 'Conditions']));
    expect(controllerFields(kind).has('Reconciled')).toBe(false);
    const created = await createSample(api.client, kind);
    const patched = await send('PATCH', `/v0/workload-definitions/${created.ID}`, { CreationAcknowledged: '2026-01-02T03:04:05Z', Status: 'applied' });
    expect(patched.status).toBe(200);
    expect(patched.body.Data?.[0]).toMatchObject({ CreationAcknowledged: '2026-01-02T03:04:05.000Z', Status: 'applied' });
  });

  it('rules JSON Schema cannot state are in the descriptions of the 400 and 409 answers', () => {
    const create = document.paths['/v0/workload-instances']!.post!.responses;
    expect(create['400']!.description).toMatch(/WorkloadDefinitionID \(WorkloadDefinition\)/);
    expect(create['409']!.description).toMatch(/already has this Name/);
    const remove = document.paths['/v0/workload-definitions/{id}']!.delete!.responses;
    expect(remove['409']!.description).toMatch(/WorkloadInstance\.WorkloadDefinitionID/);
    expect(schema('WorkloadInstanceInput').properties?.WorkloadDefinitionID?.description).toMatch(/must exist/);
  });
});
