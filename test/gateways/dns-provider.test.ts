/**
 * Domain names with a DNS provider other than Route53 (chosen by the operator, its credentials as
 * external-dns values): external-dns installed on the test bed's cluster a with that provider and
 * the runtime's domains, no AWS account needed; uninstalled with the last domain name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { supportServices } from '../../src/model/support-services.ts';
import { Helm } from '../../src/platform/helm/index.ts';
import { readKubeconfig } from '../../src/platform/kubernetes/kubeconfig.ts';
import { eventually } from '../support/eventually.ts';
import { kubeconfig, serveSharedCharts, toolPath } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { startWorkloadPlane } from '../workloads/support/workload-plane.ts';

const LONG = { timeout: 240_000 };
const TOKEN_FROM_SECRET = { env: [{ name: 'CF_API_TOKEN', valueFrom: { secretKeyRef: { name: 'cloudflare-token', key: 'token' } } }] };

describe('domain names with another DNS provider', async () => {
  const work = mkdtempSync(join(tmpdir(), 'threeport-dns-provider-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const charts = await serveSharedCharts();
  const helm = new Helm({ binary: toolPath('helm'), home: join(work, 'helm-home'), timeoutMs: 150_000, mirror: { url: charts.url } });
  const { path, context } = kubeconfig('a');
  const connection = readKubeconfig(path, context).credentials;
  const { namespace } = supportServices['external-dns'];
  for (const release of await helm.releasesIn(connection, namespace)) await helm.uninstall(connection, release, namespace);

  const plane = await startWorkloadPlane({
    database: 'pglite',
    groups: ['workload', 'kubernetes-runtime', 'helm-workload', 'gateway'],
    settings: { helm: () => Promise.resolve(helm), dnsProvider: { name: 'cloudflare', values: TOKEN_FROM_SECRET } },
  });
  const { client } = plane;
  const runtime = await plane.registerCluster('a');

  it('installs external-dns with that provider and the domains, without an AWS account; uninstalls it with the last domain name', LONG, async () => {
    const name = uniqueName('site');
    const { instance: workload } = await plane.deploy(name, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\ndata: {}\n', runtime.ID);
    await plane.waitForStatus(workload.ID, 'Healthy');
    const domain = `${uniqueName('cf')}.example.org`;
    const definition = await client.kind('DomainNameDefinition').create({ Name: uniqueName('domain'), Domain: domain, Zone: 'Public', AdminEmail: 'ops@example.org' });
    const domainName = await client.kind('DomainNameInstance').create({ Name: uniqueName('dns'), DomainNameDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const statusOf = async (): Promise<string> => String((await client.kind('DomainNameInstance').get(domainName.ID)).Status ?? '');
    await eventually('published', async () => (await statusOf()).startsWith('Published') || (await statusOf()), 180_000, 250);
    expect(await statusOf()).toContain('provider cloudflare');

    const [externalDns] = await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID });
    expect(externalDns?.ReleaseNamespace).toBe(namespace);
    const values = String(externalDns?.ValuesDocument);
    expect(values).toContain('name: cloudflare');
    expect(values).toContain(`- ${domain}`);
    expect(values).toContain('CF_API_TOKEN');
    expect(await helm.release(connection, String(externalDns?.Name), namespace)).toMatchObject({ status: 'deployed' });

    await client.kind('DomainNameInstance').delete(domainName.ID);
    await eventually('external-dns uninstalled', async () => (await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).length === 0, 120_000);
    expect(await helm.release(connection, String(externalDns?.Name), namespace)).toBeUndefined();
  });

  it('a runtime whose definition names a provider the control plane has no credentials for: its domain names fail, saying what to do, and nothing is installed', LONG, async () => {
    await eventually('the earlier domain name gone', async () => (await client.kind('DomainNameInstance').listAll()).length === 0, 60_000);
    // As a profile's Runtime.DnsProvider would have it.
    await client.kind('KubernetesRuntimeDefinition').update(runtime.KubernetesRuntimeDefinitionID, { DnsProvider: 'google' });
    const { instance: workload } = await plane.deploy(uniqueName('elsewhere'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\ndata: {}\n', runtime.ID);
    const definition = await client.kind('DomainNameDefinition').create({ Name: uniqueName('domain'), Domain: `${uniqueName('g')}.example.org`, Zone: 'Public', AdminEmail: 'ops@example.org' });
    const domainName = await client.kind('DomainNameInstance').create({ Name: uniqueName('dns'), DomainNameDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const statusOf = async (): Promise<string> => String((await client.kind('DomainNameInstance').get(domainName.ID)).Status ?? '');
    await eventually('failed, naming the provider', async () => (await statusOf()).startsWith("Failed: its runtime's definition names DNS provider google, which this control plane is not configured for (it has cloudflare)") || (await statusOf()), 60_000, 250);
    expect(await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).toEqual([]);
    await client.kind('DomainNameInstance').delete(domainName.ID);
    await eventually('domain name gone', async () => (await client.kind('DomainNameInstance').listAll({ name: String(domainName.Name) })).length === 0, 60_000);
    await client.kind('KubernetesRuntimeDefinition').update(runtime.KubernetesRuntimeDefinitionID, { DnsProvider: null } as never);
  });
});
