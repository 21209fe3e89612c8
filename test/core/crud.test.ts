import { beforeAll, describe, expect, it } from 'vitest';
import { ApiRequestError } from '../../src/client/api-client.ts';
import { registry } from '../../src/model/registry.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { editableStringField, samplePayload } from '../support/samples.ts';

// Kinds only their own route makes (certificates the CA signs) are covered in test/security.
const routedKinds = registry.routed.filter((kind) => !kind.issuedBy).map((kind) => kind.name);

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof ApiRequestError) return error.status;
    throw error;
  }
}

// The last over HTTPS with auth on, as an admin (a token): the same answers.
const setups = [
  { on: 'pglite', database: 'pglite', auth: false },
  { on: 'postgres', database: 'postgres', auth: false },
  { on: 'postgres, auth on', database: 'postgres', auth: true },
] as const;

describe.each(setups)('CRUD of every kind on $on', ({ database, auth }) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ database, auth });
  });

  it.each(routedKinds)('%s: create, read, filter, update, replace, revisions, delete', async (name) => {
    const kind = registry.get(name);
    const objects = api.client.kind(name);
    const payload = await samplePayload(api.client, kind);

    const created = await objects.create(payload);
    expect(created.ID).toBeGreaterThan(0);
    expect(created.Version).toBe(1);
    for (const [fieldName, field] of Object.entries(kind.fields)) {
      const key = kind.jsonKey(fieldName);
      if (field.kind !== 'scalar') continue;
      // Encrypted fields (SecretDefinition.Data too) are stored and returned as ciphertext, never as sent.
      if (field.encrypted) {
        if (key in payload) expect(created[key], `${key} encrypted`).not.toEqual(payload[key]);
        continue;
      }
      if (key in payload) expect(created[key], key).toEqual(payload[key]);
      else if (field.default !== undefined) expect(created[key], `default of ${key}`).toEqual(field.default);
    }

    expect(await objects.get(Number(created.ID))).toEqual(created);

    for (const [queryKey, fieldName] of kind.queryKeys) {
      const value = created[kind.jsonKey(fieldName)];
      if (value === undefined) continue;
      const { objects: found } = await objects.list({ [queryKey]: value as string });
      expect(found.map((o) => o.ID), `filter ${queryKey}=${String(value)}`).toContain(created.ID);
    }

    let version = 1;
    const editable = editableStringField(kind);
    if (editable) {
      const updated = await objects.update(Number(created.ID), { [editable]: 'changed' });
      expect(updated[editable]).toBe('changed');
      expect(updated.Version).toBe(++version);
    }
    const replaced = await objects.replace(Number(created.ID), payload);
    expect(replaced.Version).toBe(++version);
    if (editable && !(editable in payload)) {
      const fieldName = kind.payloadKeys.get(editable.toLowerCase())!;
      expect(replaced[editable], 'PUT resets fields it omits').toEqual(kind.fields[fieldName]?.default);
    }

    const revisions = await objects.revisions(Number(created.ID));
    expect(revisions.map((r) => r.Operation)).toEqual(['Created', ...(editable ? ['Updated'] : []), 'Replaced']);
    expect(revisions.at(-1)?.Object.Version).toBe(version);

    if (kind.controller) {
      const scheduled = await objects.delete(Number(created.ID));
      expect(scheduled.DeletionScheduled).toBeDefined();
      expect(scheduled.Reconciled).toBe(false);
      expect(await status(objects.delete(Number(created.ID))), 'a second DELETE while in progress').toBe(409);
      expect(await status(objects.get(Number(created.ID))), 'still there until confirmed').toBe(200);
      await objects.update(Number(created.ID), { DeletionConfirmed: new Date().toISOString(), Reconciled: true });
    }
    await objects.delete(Number(created.ID));
    expect(await status(objects.get(Number(created.ID)))).toBe(404);
    const history = await objects.revisions(Number(created.ID));
    expect(history.at(-1)?.Operation).toBe('Deleted');
  });
});
