/**
 * Requests shaped like those of the original's Go client (net/http): every request, GET and DELETE
 * included, carries `Content-Type: application/json`, and those without a body send Content-Length 0.
 */
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/model/registry.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';

let api: ApiHarness;

interface Answer {
  status: number;
  body: { Data?: Record<string, unknown>[] | null; Status?: { error: string } };
}

/** One request exactly as Go sends it; `body` undefined means an empty body. */
function goRequest(method: string, path: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${api.url}${path}`,
      {
        method,
        headers: {
          'User-Agent': 'Go-http-client/1.1',
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(payload)),
          'Accept-Encoding': 'gzip',
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

beforeAll(async () => {
  api = await startApi({ database: 'pglite' });
});

describe('requests from the original Go client', () => {
  it('GET with an empty JSON body reads the list and the object', async () => {
    const tier = await createSample(api.client, registry.get('Tier'));
    expect((await goRequest('GET', '/v0/tiers')).status).toBe(200);
    const one = await goRequest('GET', `/v0/tiers/${tier.ID}`);
    expect(one.status).toBe(200);
    expect(one.body.Data?.[0]?.ID).toBe(tier.ID);
  });

  it('DELETE with an empty JSON body deletes an object of a plain kind', async () => {
    const tier = await createSample(api.client, registry.get('Tier'));
    const deleted = await goRequest('DELETE', `/v0/tiers/${tier.ID}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect((await goRequest('GET', `/v0/tiers/${tier.ID}`)).status).toBe(404);
  });

  it('DELETE with an empty JSON body runs the two-phase delete of a reconcilable kind', async () => {
    const definition = await createSample(api.client, registry.get('WorkloadDefinition'));
    const path = `/v0/workload-definitions/${definition.ID}`;
    const scheduled = await goRequest('DELETE', path);
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(200);
    expect(scheduled.body.Data?.[0]?.DeletionScheduled).toEqual(expect.any(String));
    expect((await goRequest('DELETE', path)).status).toBe(409);
    // The controller confirms, as the Go controllers do: a PATCH with a JSON body.
    expect((await goRequest('PATCH', path, { DeletionConfirmed: new Date().toISOString() })).status).toBe(200);
    expect((await goRequest('DELETE', path)).status).toBe(200);
    expect((await goRequest('GET', path)).status).toBe(404);
  });

  it('DELETE /v0/workload-events with an empty JSON body removes the events', async () => {
    const instance = await createSample(api.client, registry.get('WorkloadInstance'));
    await api.client.kind('WorkloadEvent').create({
      RuntimeEventUID: uniqueName('uid'), Type: 'Normal', Reason: 'Pulled', Message: 'pulled', Timestamp: new Date().toISOString(), WorkloadInstanceID: Number(instance.ID),
    });
    const deleted = await goRequest('DELETE', `/v0/workload-events?workloadinstanceid=${instance.ID}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body.Data).toHaveLength(1);
  });

  it('POST, PUT and PATCH with an empty JSON body stay a clear 400', async () => {
    const tier = await createSample(api.client, registry.get('Tier'));
    for (const [method, path] of [['POST', '/v0/tiers'], ['PUT', `/v0/tiers/${tier.ID}`], ['PATCH', `/v0/tiers/${tier.ID}`]] as const) {
      const answer = await goRequest(method, path);
      expect(answer.status, method).toBe(400);
      expect(answer.body.Status?.error, method).toBe('JSON payload is empty');
    }
    expect((await api.client.kind('Tier').get(Number(tier.ID))).Version).toBe(1);
  });
});
