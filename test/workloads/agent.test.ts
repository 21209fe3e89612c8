/**
 * The agent's reports, with the agent run in this process (the runtime's AgentLocation is
 * External, so no other agent reports for it): what of a live object reaches the API.
 */
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.ts';
import { ApiClient } from '../../src/client/api-client.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import { cleanUp } from '../support/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from './support/manifests.ts';
import { namespaceOf, resourceRecords, startWorkloadPlane, testLogger } from './support/workload-plane.ts';

describe('the agent, run in this process', async () => {
  const plane = await startWorkloadPlane();
  const { client } = plane;
  const runtime = await plane.registerCluster('a', { AgentLocation: 'External' });
  const kube = await plane.kube('a');
  const { controlPlaneId } = await client.info();
  const stop = new AbortController();
  const agent = new Agent({ api: new ApiClient({ baseUrl: plane.api.url }), cluster: kube, controlPlaneId: controlPlaneId!, logger: testLogger(), flushIntervalMs: 200 });
  const running = agent.run(stop.signal);
  cleanUp(async () => {
    stop.abort();
    await running;
  });

  it('a Secret is reported without its values: the keys only', async () => {
    const password = `pw-${uniqueName('secret')}`;
    const token = `tk-${uniqueName('secret')}`;
    const encoded = Buffer.from(password).toString('base64');
    const secret = `apiVersion: v1
kind: Secret
metadata: { name: web-credentials }
type: Opaque
data: { password: ${encoded} }
stringData: { token: ${token} }
`;
    const { instance } = await plane.deploy(uniqueName('secret'), web({ extra: secret }), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    // The cluster has the values (the API server folds stringData into data)…
    const inCluster = await kube.get({ apiVersion: 'v1', kind: 'Secret', name: 'web-credentials', namespace });
    expect(inCluster?.data).toEqual({ password: encoded, token: Buffer.from(token).toString('base64') });

    // …the live object the agent reports has the Secret's keys and none of its values.
    let reported: Manifest | undefined;
    await eventually('the Secret’s live object reported', async () => {
      const records = await resourceRecords(client, instance.ID);
      reported = records.get(`/Secret/${namespace}/web-credentials`)?.RuntimeDefinition as Manifest | undefined;
      return reported?.metadata?.uid === inCluster?.metadata.uid || `reported: ${JSON.stringify(reported?.metadata)}`;
    });
    expect(reported?.data).toEqual({ password: '', token: '' });
    expect(reported?.stringData).toBeUndefined();
    const everything = JSON.stringify([...(await resourceRecords(client, instance.ID)).values()].map((record) => record.RuntimeDefinition));
    for (const value of [password, encoded, token, Buffer.from(token).toString('base64')]) expect(everything).not.toContain(value);
  });
});
