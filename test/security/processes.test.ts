/**
 * Controllers run apart from the API (`threeport controller`, on NATS) with auth on: they reach the
 * API with a token made for their group and the CA from a file, reconcile as that identity, and
 * are refused what their group may not write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken } from '../../src/auth/identities.ts';
import { ApiClient } from '../../src/client/api-client.ts';
import { startApi, tempDir, type ApiHarness } from '../support/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { startNats } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { spawnController, type Spawned } from '../workloads/support/processes.ts';

let api: ApiHarness;
const controllerToken = { token: '', name: '' };
let controller: Spawned | undefined;

// Spawned in beforeAll, where the support's own clean-up hook does not take: stopped here.
afterAll(async () => {
  await controller?.kill();
});

async function token(role: string): Promise<{ token: string; name: string }> {
  const { token, hash } = newToken();
  const name = uniqueName(role.replace(/:/g, '-'));
  await api.client.kind('ApiToken').create({ Name: name, Role: role, TokenHash: hash, ExpiresAt: new Date(Date.now() + 3_600_000).toISOString() });
  return { token, name };
}

beforeAll(async () => {
  const nats = await startNats();
  api = await startApi({ database: 'postgres', natsUrl: nats.url, auth: true });
  const caFile = join(tempDir('ca'), 'ca.pem');
  writeFileSync(caFile, api.server.auth!.caCertificate);
  const workload = await token('controller:workload');
  controller = await spawnController({ apiUrl: api.url, natsUrl: nats.url, encryptionKey: api.encryptionKey, groups: ['workload'], env: { THREEPORT_API_CA: caFile, THREEPORT_API_TOKEN: workload.token } });
  Object.assign(controllerToken, workload);
}, 120_000);

describe('controllers apart from the API, with auth on', () => {
  it('the workload group reconciles a definition with its own token: the revisions name it', async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: production\n';
    const definition = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('wd'), YAMLDocument: manifest });
    await eventually('the definition is reconciled', async () => (await api.client.kind('WorkloadDefinition').get(Number(definition.ID))).Reconciled === true);
    const resources = await api.client.kind('WorkloadResourceDefinition').listAll({ workloaddefinitionid: Number(definition.ID) });
    expect(resources).toHaveLength(1);
    const writers = await api.server.db.query<{ actor: string }>('SELECT DISTINCT actor FROM threeport_revisions WHERE object_id = ANY($1)', [[definition.ID, resources[0]!.ID]]);
    expect(writers.map((row) => row.actor).sort()).toEqual([`token:${controllerToken.name} via threeport-controller`, 'test-admin via threeport-client'].sort());
  });

  it("the workload group's token is refused what other groups own; a client without credentials gets 401", async () => {
    const runtime = await api.client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('rd'), InfraProvider: 'kind' });
    const asWorkload = new ApiClient({ baseUrl: api.url, tls: { ca: api.server.auth!.caCertificate }, token: controllerToken.token });
    await expect(asWorkload.kind('KubernetesRuntimeDefinition').update(Number(runtime.ID), { Status: 'Ready' })).rejects.toThrow(
      `token:${controllerToken.name} (controller:workload) may not update KubernetesRuntimeDefinition objects: that needs the admin or platform role`,
    );
    const anonymous = new ApiClient({ baseUrl: api.url, tls: { ca: api.server.auth!.caCertificate } });
    await expect(anonymous.kind('WorkloadDefinition').list()).rejects.toThrow(/authentication required/);
  });
});
