import { beforeAll, describe, expect, it } from 'vitest';
import { ApiRequestError } from '../../src/client/api-client.ts';
import { registry } from '../../src/model/registry.ts';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { REDACTED_PLACEHOLDER } from '../../src/model/fields.ts';
import type { Kind } from '../../src/model/kind.ts';
import type { Database } from '../../src/store/database.ts';
import { ObjectStore } from '../../src/store/object-store.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';

const statusOf = (result: PromiseSettledResult<unknown>): number =>
  result.status === 'fulfilled' ? 201 : result.reason instanceof ApiRequestError ? result.reason.status : -1;

/** `db`, except that `before` runs once, ahead of the first statement `matches` picks: a write racing in at that moment. */
function racing(db: Database, matches: (text: string) => boolean, before: () => Promise<unknown>): Database {
  let armed = true;
  return {
    engine: db.engine,
    transaction: (work) => db.transaction(work),
    exec: (sql) => db.exec(sql),
    close: async () => undefined,
    async query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], prepare?: boolean): Promise<Row[]> {
      if (armed && matches(text)) {
        armed = false;
        await before();
      }
      return db.query<Row>(text, params, prepare);
    },
  };
}

/** The single statement that updates an object of `kind` only while its reference to a `target` is live. */
const guardedUpdate = (store: ObjectStore, kind: Kind, target: Kind) => (text: string) =>
  [true, false].some((notify) => text === store.table(kind).statements.guarded('update', notify, [target.table]));

describe.each(['postgres', 'pglite'] as const)('consistency on %s', (database) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ database });
  });

  it('names are unique per kind, enforced by the database: of concurrent creates one wins, the rest get 409', async () => {
    const tiers = api.client.kind('Tier');
    for (let round = 0; round < 5; round++) {
      const name = uniqueName('race');
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => tiers.create({ Name: name, Criticality: i })));
      expect(results.map(statusOf).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      expect((await tiers.list({ name })).total).toBe(1);
    }
    // Names are per kind: a Profile may share a Tier's name.
    const tier = await tiers.create({ Name: uniqueName('shared'), Criticality: 1 });
    expect((await api.client.kind('Profile').create({ Name: tier.Name })).Name).toBe(tier.Name);
  });

  it('a write with a stale version is a 409 and changes nothing; the current version succeeds', async () => {
    const definitions = api.client.kind('WorkloadDefinition');
    const created = await definitions.create({ Name: uniqueName('wd'), YAMLDocument: 'v1' });
    const id = Number(created.ID);
    const updated = await definitions.update(id, { YAMLDocument: 'v2' }, { version: 1 });
    expect(updated.Version).toBe(2);

    for (const stale of [
      () => definitions.update(id, { YAMLDocument: 'lost' }, { version: 1 }),
      () => definitions.replace(id, { Name: created.Name, YAMLDocument: 'lost' }, { version: 1 }),
      () => definitions.delete(id, { version: 1 }),
      () => definitions.update(id, { YAMLDocument: 'lost', Version: 1 }),
    ]) {
      const error = await stale().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiRequestError);
      expect((error as ApiRequestError).status).toBe(409);
      expect((error as ApiRequestError).message).toContain('is at version 2, not 1');
    }
    const current = await definitions.get(id);
    expect(current).toMatchObject({ YAMLDocument: 'v2', Version: 2 });

    const response = await fetch(`${api.url}/v0/workload-definitions/${id}`);
    expect(response.headers.get('etag')).toBe('"2"');
    const patched = await fetch(`${api.url}/v0/workload-definitions/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': '"2"' },
      body: JSON.stringify({ YAMLDocument: 'v3' }),
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"3"');
  });

  it('concurrent writers that name no version never lose each other’s fields', async () => {
    const instances = api.client.kind('WorkloadInstance');
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    const id = Number(instance.ID);
    await Promise.all([
      instances.update(id, { Status: 'running' }),
      instances.update(id, { CreationAcknowledged: '2026-01-01T00:00:00.000Z' }),
      instances.update(id, { Reconciled: true }),
      instances.update(id, { CreationFailed: true }),
    ]);
    expect(await instances.get(id)).toMatchObject({
      Status: 'running',
      CreationAcknowledged: '2026-01-01T00:00:00.000Z',
      Reconciled: true,
      CreationFailed: true,
      Version: 5,
    });
  });

  it('encrypted fields are ciphertext in the database and in answers, and decrypt with the key', async () => {
    const cipher = FieldCipher.fromBase64(api.encryptionKey);
    const accounts = api.client.kind('AwsAccount');
    const account = await accounts.create({
      Name: uniqueName('acct'),
      AccountID: '123456789012',
      DefaultRegion: 'us-east-1',
      AccessKeyID: 'AKIAEXAMPLE',
      SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
    });
    expect(account.ExternalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(account.SecretAccessKey).not.toBe('wJalrXUtnFEMI/K7MDENG');
    expect(cipher.decrypt(String(account.SecretAccessKey))).toBe('wJalrXUtnFEMI/K7MDENG');

    const [row] = await api.server.db.query<Record<string, string>>('SELECT access_key_id, secret_access_key FROM v0_aws_accounts WHERE id = $1', [account.ID]);
    expect(row!.secret_access_key).toBe(account.SecretAccessKey);
    expect(cipher.decrypt(row!.access_key_id!)).toBe('AKIAEXAMPLE');
    const revisions = await api.server.db.query<{ snapshot: unknown }>('SELECT snapshot FROM threeport_revisions WHERE object_id = $1', [account.ID]);
    expect(JSON.stringify(revisions)).not.toContain('wJalrXUtnFEMI');

    // Sending back what was read, or the redaction placeholder, keeps the secret; a new value replaces it.
    const echoed = await accounts.update(Number(account.ID), { SecretAccessKey: account.SecretAccessKey, DefaultRegion: 'eu-west-1' });
    expect(echoed.SecretAccessKey).toBe(account.SecretAccessKey);
    const redacted = await accounts.update(Number(account.ID), { SecretAccessKey: REDACTED_PLACEHOLDER });
    expect(redacted.SecretAccessKey).toBe(account.SecretAccessKey);
    const rotated = await accounts.update(Number(account.ID), { SecretAccessKey: 'rotated-secret' });
    expect(cipher.decrypt(String(rotated.SecretAccessKey))).toBe('rotated-secret');
  });

  it('revisions record every change with its version and time', async () => {
    const tiers = api.client.kind('Tier');
    const tier = await tiers.create({ Name: uniqueName('tier'), Criticality: 1 });
    await tiers.update(Number(tier.ID), { Criticality: 2 });
    await tiers.update(Number(tier.ID), { Criticality: 3 });
    const revisions = await tiers.revisions(Number(tier.ID));
    expect(revisions.map((r) => [r.Version, r.Operation, r.Object.Criticality])).toEqual([
      [1, 'Created', 1],
      [2, 'Updated', 2],
      [3, 'Updated', 3],
    ]);
    expect(Date.parse(revisions[2]!.RecordedAt)).toBeGreaterThanOrEqual(Date.parse(revisions[0]!.RecordedAt));
    const page = await tiers.revisions(Number(tier.ID), { page: 2, size: 2 });
    expect(page.map((r) => r.Version)).toEqual([3]);
  });

  it('IDs are unique across kinds', async () => {
    const ids = [];
    for (const name of ['Tier', 'Profile', 'WorkloadDefinition', 'AwsAccount']) ids.push((await createSample(api.client, registry.get(name))).ID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists page in a stable order, with the total of all matches', async () => {
    const profiles = api.client.kind('Profile');
    const prefix = uniqueName('page');
    for (let i = 0; i < 7; i++) await profiles.create({ Name: `${prefix}-${i}` });
    const all = (await profiles.listAll()).filter((p) => String(p.Name).startsWith(prefix));
    expect(all.map((p) => p.Name)).toEqual(Array.from({ length: 7 }, (_, i) => `${prefix}-${i}`));
    const first = await profiles.list({}, { page: 1, size: 3 });
    const second = await profiles.list({}, { page: 2, size: 3 });
    expect(first.objects).toHaveLength(3);
    expect(first.total).toBe(second.total);
    expect(Number(second.objects[0]!.ID)).toBeGreaterThan(Number(first.objects[2]!.ID));
  });

  describe('a write that changes a reference, in the one statement that checks the reference is live', () => {
    const gateways = registry.get('GatewayDefinition');
    const domains = registry.get('DomainNameDefinition');

    /** A store on the API's database in which `race` runs just before the guarded update of a gateway definition. */
    function storeWithRace(race: (store: ObjectStore) => Promise<unknown>): ObjectStore {
      const store: ObjectStore = new ObjectStore({
        db: racing(api.server.db, guardedUpdate(api.server.store, gateways, domains), () => race(store)),
        registry,
        cipher: FieldCipher.fromBase64(api.encryptionKey),
      });
      return store;
    }

    it('overtaken by another write to the object, is merged onto it and retried — not refused as if the reference were deleted', async () => {
      const gateway = await createSample(api.client, gateways);
      const domain = await createSample(api.client, domains);
      const id = Number(gateway.ID);
      const store = storeWithRace((racer) => racer.update(gateways, id, { SubDomain: 'overtaking' }));
      const written = await store.update(gateways, id, { DomainNameDefinitionID: domain.ID });
      expect(written).toMatchObject({ DomainNameDefinitionID: domain.ID, SubDomain: 'overtaking', Version: 3 });
      expect(await store.get(gateways, id)).toEqual(written);
    });

    it('whose referenced object is deleted meanwhile, is a 400 naming the reference', async () => {
      const gateway = await createSample(api.client, gateways);
      const domain = await createSample(api.client, domains);
      const id = Number(gateway.ID);
      const store = storeWithRace(async (racer) => {
        await racer.update(gateways, id, { SubDomain: 'overtaking' });
        await racer.delete(domains, Number(domain.ID));
      });
      await expect(store.update(gateways, id, { DomainNameDefinitionID: domain.ID })).rejects.toMatchObject({
        status: 400,
        message: `DomainNameDefinitionID: domain name definition with ID ${String(domain.ID)} does not exist`,
      });
      expect(await store.get(gateways, id)).toMatchObject({ SubDomain: 'overtaking', Version: 2 });
      expect((await store.get(gateways, id))?.DomainNameDefinitionID).toBeUndefined();
    });
  });
});
