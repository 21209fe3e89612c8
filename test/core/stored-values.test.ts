/**
 * Every value the API accepts comes back unchanged, on both engines; what it cannot keep exactly
 * is refused at write; and a stored value the read path cannot return (written behind the API's
 * back) costs that field, never the list.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/model/registry.ts';
import { reportUnreadableValuesTo, type UnreadableValue } from '../../src/store/kind-table.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample } from '../support/samples.ts';

interface Answer {
  status: number;
  body: { Data?: Record<string, unknown>[] | null; Status?: { error: string } };
}

describe.each(['pglite', 'postgres'] as const)('stored values on %s', (database) => {
  let api: ApiHarness;
  const send = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  };
  /** The object as the list (always read from the database) returns it. */
  const listed = async (path: string, id: unknown): Promise<Record<string, unknown> | undefined> => {
    const answer = await send('GET', `${path}?size=1000`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.Data?.find((object) => object.ID === id);
  };

  beforeAll(async () => {
    api = await startApi({ database });
  });

  it('timestamps at the edges of years 1 and 9999 come back exactly as stored', async () => {
    const definition = await createSample(api.client, registry.get('HelmWorkloadDefinition'));
    const path = `/v0/helm-workload-definitions/${definition.ID}`;
    const cases: [string, string][] = [
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
      ['0001-01-01T00:00:00-05:00', '0001-01-01T05:00:00.000Z'],
      ['0013-06-15T12:34:56.789Z', '0013-06-15T12:34:56.789Z'],
      ['0099-12-31T23:59:59.999+00:00', '0099-12-31T23:59:59.999Z'],
      ['2024-02-29T12:00:00.123456+02:00', '2024-02-29T10:00:00.123Z'],
      ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
      ['9999-12-31T23:00:00+05:30', '9999-12-31T17:30:00.000Z'],
    ];
    for (const [sent, stored] of cases) {
      const patched = await send('PATCH', path, { CreationAcknowledged: sent });
      expect(patched.status, `${sent}: ${JSON.stringify(patched.body)}`).toBe(200);
      expect(patched.body.Data?.[0]?.CreationAcknowledged, sent).toBe(stored);
      expect((await listed('/v0/helm-workload-definitions', definition.ID))?.CreationAcknowledged, sent).toBe(stored);
    }
  });

  it('timestamps the store cannot keep exactly are refused, and the list keeps working', async () => {
    const definition = await createSample(api.client, registry.get('HelmWorkloadDefinition'));
    const path = `/v0/helm-workload-definitions/${definition.ID}`;
    for (const value of [
      '9999-12-31T23:59:59-01:00', // year 10000 in UTC
      '0001-01-01T00:30:00+01:00', // year 0 in UTC
      '0000-06-01T00:00:00Z',
      '10000-01-01T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2016-12-31T23:59:60Z',
      '2024-01-01T00:00:00+24:00',
      '2024-01-01 00:00:00Z',
    ]) {
      const refused = await send('PATCH', path, { DeletionScheduled: value });
      expect(refused.status, `${value}: ${JSON.stringify(refused.body)}`).toBe(400);
      expect(refused.body.Status?.error, value).toMatch(/^DeletionScheduled must be an RFC 3339 timestamp between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z/);
    }
    expect(await listed('/v0/helm-workload-definitions', definition.ID)).toMatchObject({ Version: 1 });
    expect((await send('DELETE', path)).status).toBe(200);
  });

  it('integers within ±(2^53 - 1) are kept exactly, larger ones refused', async () => {
    const tier = await createSample(api.client, registry.get('Tier'));
    const path = `/v0/tiers/${tier.ID}`;
    for (const value of [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
      expect((await send('PATCH', path, { Criticality: value })).status).toBe(200);
      expect((await listed('/v0/tiers', tier.ID))?.Criticality).toBe(value);
    }
    for (const raw of ['9007199254740992', '-9007199254740992', '9223372036854775807', '1e300']) {
      const refused = await send('PATCH', path, `{"Criticality": ${raw}}`);
      expect(refused.status, raw).toBe(400);
      expect(refused.body.Status?.error, raw).toMatch(/Criticality must be an integer/);
    }
  });

  it('strings PostgreSQL cannot store as sent are refused: NUL and unpaired surrogates, in text and in JSON', async () => {
    const definition = await createSample(api.client, registry.get('HelmWorkloadDefinition'));
    const path = `/v0/helm-workload-definitions/${definition.ID}`;
    for (const body of ['{"ChartVersion": "a\\u0000b"}', '{"ChartVersion": "a\\ud800b"}', '{"AdditionalResources": [{"kind": "x\\udc00"}]}', '{"AdditionalResources": {"a\\u0000": 1}}']) {
      const refused = await send('PATCH', path, body);
      expect(refused.status, body).toBe(400);
      expect(refused.body.Status?.error, body).toMatch(/^(ChartVersion|AdditionalResources)( keys)? must not contain (NUL characters|unpaired UTF-16 surrogates)$/);
    }
    const kept = await send('PATCH', path, { ChartVersion: 'v1 😀 ünïcode', AdditionalResources: [{ kind: '😀' }] });
    expect(kept.status).toBe(200);
    expect(await listed('/v0/helm-workload-definitions', definition.ID)).toMatchObject({ ChartVersion: 'v1 😀 ünïcode', AdditionalResources: [{ kind: '😀' }] });
  });

  it('a stored value the read path cannot return is left out and reported once; lists, reads and deletes go on', async () => {
    const reports: UnreadableValue[] = [];
    reportUnreadableValuesTo((value) => reports.push(value));
    const definition = await createSample(api.client, registry.get('HelmWorkloadDefinition'), { ChartVersion: '1.0.0' });
    const tier = await createSample(api.client, registry.get('Tier'));
    // Values no API write can produce, as an older version or another writer might have left them.
    await api.server.db.query("UPDATE v0_helm_workload_definitions SET creation_acknowledged = '12345-06-07 00:00:00+00' WHERE id = $1", [definition.ID]);
    await api.server.db.query('UPDATE v0_tiers SET criticality = 9007199254740993 WHERE id = $1', [tier.ID]);

    for (let round = 0; round < 2; round++) {
      const object = await listed('/v0/helm-workload-definitions', definition.ID);
      expect(object).toMatchObject({ ID: definition.ID, ChartVersion: '1.0.0' });
      expect(object).not.toHaveProperty('CreationAcknowledged');
      const listedTier = await listed('/v0/tiers', tier.ID);
      expect(listedTier).toMatchObject({ ID: tier.ID, Name: tier.Name });
      expect(listedTier).not.toHaveProperty('Criticality');
    }
    expect(reports).toEqual([
      { kind: 'HelmWorkloadDefinition', id: definition.ID, field: 'CreationAcknowledged', reason: expect.stringContaining('12345-06-07') },
      { kind: 'Tier', id: tier.ID, field: 'Criticality', reason: expect.stringContaining('2^53') },
    ]);
    expect((await send('DELETE', `/v0/helm-workload-definitions/${definition.ID}`)).status).toBe(200);
    expect((await send('DELETE', `/v0/tiers/${tier.ID}`)).status).toBe(200);
  });
});
