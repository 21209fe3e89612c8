import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/model/registry.ts';
import { ID_BLOCK_SIZE } from '../../src/store/schema.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';

// Writes that insert several objects in one transaction take their IDs before it opens: a block
// refill inside it would wait forever for the connection the transaction holds (PGlite has one).
describe.each(['pglite', 'postgres'] as const)('writes spanning ID blocks on %s', (database) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ database });
  });

  it('a batch larger than a block of IDs', async () => {
    const definition = await createSample(api.client, registry.get('WorkloadDefinition'));
    const batch = Array.from({ length: ID_BLOCK_SIZE + 10 }, (_, i) => ({ JSONDefinition: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `config-${i}` } }, WorkloadDefinitionID: definition.ID }));
    const response = await fetch(`${api.url}/v0/workload-resource-definition-sets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch),
      signal: AbortSignal.timeout(20_000),
    });
    expect(response.status).toBe(201);
    const ids = ((await response.json()) as { Data: { ID: number }[] }).Data.map((d) => d.ID);
    expect(new Set(ids).size).toBe(batch.length);
  });

  it('nested children beyond a block, on create and on update', async () => {
    const ports = (from: number) => Array.from({ length: ID_BLOCK_SIZE + 5 }, (_, i) => ({ Port: from + i }));
    const gateway = await api.client.kind('GatewayDefinition').create({ Name: uniqueName('gw'), HttpPorts: ports(1000) });
    await api.client.kind('GatewayDefinition').update(Number(gateway.ID), { TcpPorts: ports(5000) });
    expect((await api.client.kind('GatewayHttpPort').list({ gatewaydefinitionid: Number(gateway.ID) })).total).toBe(ID_BLOCK_SIZE + 5);
    expect((await api.client.kind('GatewayTcpPort').list({ gatewaydefinitionid: Number(gateway.ID) })).total).toBe(ID_BLOCK_SIZE + 5);
  });
});
