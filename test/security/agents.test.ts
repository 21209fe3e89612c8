/**
 * Agents in clusters with auth on: when the runtime controller installs one, the API issues it an
 * identity of its own — the role agent, for that runtime only — which reaches the cluster in the
 * agent's Secret, is kept while good, and reports live state there and nowhere else.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiRequestError } from '../../src/client/api-client.ts';
import { agentCredentialsName } from '../../src/controllers/kubernetes-runtime/compute-space.ts';
import { COMPUTE_SPACE_NAMESPACE } from '../../src/model/threeport-workload.ts';
import { eventually } from '../support/eventually.ts';
import { startWorkloadPlane, type WorkloadPlane } from '../workloads/support/workload-plane.ts';
import { uniqueName } from '../support/samples.ts';

let plane: WorkloadPlane;

const configMap = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  mode: test\n`;

beforeAll(async () => {
  plane = await startWorkloadPlane({ database: 'pglite', auth: true });
  // IDs as long as they get (the sequence starts at a random point): every check must read them.
  await plane.api.server.db.query("SELECT setval('threeport_object_ids', $1, false)", [4_000_000_000_000_001]);
}, 120_000);

async function heldToken(controlPlaneId: string): Promise<string | undefined> {
  const secret = await (await plane.kube('a')).get({ apiVersion: 'v1', kind: 'Secret', name: agentCredentialsName(controlPlaneId), namespace: COMPUTE_SPACE_NAMESPACE });
  const token = (secret?.data as Record<string, string> | undefined)?.token;
  return token ? Buffer.from(token, 'base64').toString('utf8') : undefined;
}

describe('agents in clusters, with auth on', () => {
  it('get a token of their own for their runtime, kept while good, that reports live state there only', async () => {
    const runtime = await plane.registerCluster('a', { AgentLocation: 'Cluster' });
    const { controlPlaneId } = await plane.client.info();
    const token = await heldToken(String(controlPlaneId));
    expect(token).toMatch(/^tpt_/);
    const agent = new ApiClient({ baseUrl: plane.api.url, tls: { ca: plane.api.server.auth!.caCertificate }, token: token! });
    expect(await agent.request('GET', '/v0/whoami')).toMatchObject({ Name: `token:agent-${runtime.ID}`, Roles: ['agent'] });

    // Its own runtime's instance: live state yes; another runtime's: no.
    const { instance } = await plane.deploy(uniqueName('app'), configMap(uniqueName('settings')), runtime.ID);
    await agent.kind('WorkloadInstance').update(instance.ID, { Status: 'Healthy: reported by the agent' });
    const elsewhere = await plane.client.kind('KubernetesRuntimeInstance').create({ Name: uniqueName('elsewhere'), Location: 'Local', KubernetesRuntimeDefinitionID: runtime.KubernetesRuntimeDefinitionID });
    const definition = await plane.client.kind('WorkloadDefinition').create({ Name: uniqueName('other'), YAMLDocument: configMap(uniqueName('other')) });
    const other = await plane.client.kind('WorkloadInstance').create({ Name: uniqueName('other'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: elsewhere.ID });
    const refused = await agent.kind('WorkloadInstance').update(other.ID, { Status: 'forged' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiRequestError);
    expect((refused as ApiRequestError).status).toBe(403);

    // Only the runtime controller (or an admin) issues agents' tokens.
    const refusedIssue = await agent.request('POST', `/v0/kubernetes-runtime-instances/${runtime.ID}/agent-token`, {}).catch((error: unknown) => error);
    expect((refusedIssue as ApiRequestError).status).toBe(403);

    // What each check of the runtime asks: a token still good is kept; one the API no longer knows is replaced, in the cluster too.
    const path = `/v0/kubernetes-runtime-instances/${runtime.ID}/agent-token`;
    const kept = await plane.client.request('POST', path, { CurrentTokenHash: createHash('sha256').update(token!).digest('hex') });
    expect(kept.Data?.[0]?.Token).toBeUndefined();
    const tokens = await plane.client.kind('ApiToken').listAll({ name: `agent-${runtime.ID}` });
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ Role: 'agent', Runtimes: [runtime.Name] });
    await plane.client.kind('ApiToken').delete(Number(tokens[0]!.ID));
    await plane.client.kind('KubernetesRuntimeInstance').requestReconcile(runtime.ID, 'test');
    await eventually('the agent holds a new token', async () => ((await heldToken(String(controlPlaneId))) ?? token) !== token || 'still the revoked one');

  }, 120_000);
});
