/**
 * Gateways and domain names end to end on the test bed's cluster b: the real helm installing the
 * real support-service charts (Envoy Gateway with the Gateway API CRDs, cert-manager,
 * external-dns) from the shared chart repository served on loopback as the one chart mirror,
 * moto as Route53, the controllers and the control plane's agent in this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_INSTANCE_LABEL } from '../../src/controllers/gateway/gateway-instance.ts';
import { DependencyWalker, explain } from '../../src/cli/operations/why.ts';
import { describeText, gatherDescription } from '../../src/cli/output/describe.ts';
import { registry } from '../../src/model/registry.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import type { ObjectOf } from '../../src/model/object-types.ts';
import { GATEWAY_CLASS, supportServices } from '../../src/model/support-services.ts';
import { Helm } from '../../src/platform/helm/index.ts';
import { readKubeconfig } from '../../src/platform/kubernetes/kubeconfig.ts';
import { eventually } from '../support/eventually.ts';
import { cleanAws, kubeconfig, serveSharedCharts, toolPath } from '../support/peers.ts';
import { webApp } from '../support/manifests.ts';
import { uniqueName } from '../support/samples.ts';
import { deleteEvery, startWorkloadPlane } from '../workloads/support/workload-plane.ts';

const LONG = { timeout: 300_000 };
const ACME = 'https://acme.test.invalid/directory';


type GatewayInstance = ObjectOf<'GatewayInstance'>;

describe('gateways and domain names', async () => {
  const aws = await cleanAws();
  // The SDK's standard configuration, as the control plane would read it from its environment.
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  const work = mkdtempSync(join(tmpdir(), 'threeport-gateways-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const charts = await serveSharedCharts();
  afterAll(() => charts.close());
  const helm = new Helm({ binary: toolPath('helm'), home: join(work, 'helm-home'), timeoutMs: 150_000, mirror: { url: charts.url } });
  const { path: kubeconfigPath, context: kubeContext } = kubeconfig('b');
  const connection = readKubeconfig(kubeconfigPath, kubeContext).credentials;
  await removeLeftoverSupportServices(helm, connection);

  const plane = await startWorkloadPlane({
    database: 'pglite',
    auth: true,
    groups: ['workload', 'kubernetes-runtime', 'helm-workload', 'gateway', 'application'],
    // Applications look at their parts often here, so a test sees their status move.
    settings: { helm: () => Promise.resolve(helm), gateway: { issuer: { kind: 'acme', server: ACME } }, application: { pollIntervalMs: 250 } },
  });
  const { client } = plane;
  const runtime = await plane.registerCluster('b');
  const kube = await plane.kube('b');
  await client.kind('AwsAccount').create({ Name: uniqueName('account'), AccountID: '123456789012', DefaultAccount: true, DefaultRegion: aws.region, AccessKeyID: aws.credentials.accessKeyId, SecretAccessKey: aws.credentials.secretAccessKey });
  afterAll(async () => {
    // What uses the support services first (applications, which would make their parts again; then what
    // would install them again), then the services: they
    // stay after their last gateway, and are removed here so the next run starts clean.
    await deleteEvery(client, ['Application', 'GatewayInstance', 'DomainNameInstance'], 120_000);
    for (const instance of await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })) await client.kind('HelmWorkloadInstance').delete(instance.ID).catch(() => undefined);
    await eventually('support services uninstalled', async () => (await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).length === 0, 180_000);
  }, 240_000);

  const statusOf = async (id: number): Promise<string> => String((await client.kind('GatewayInstance').get(id)).Status ?? '');
  const waitForGateway = (id: number, prefix: string, timeoutMs = 240_000): Promise<void> =>
    eventually(`gateway instance ${id} ${prefix}`, async () => (await statusOf(id)).startsWith(prefix) || `Status: ${await statusOf(id)}`, timeoutMs, 250);
  const gatewayObjects = async (gateway: GatewayInstance, namespace: string): Promise<Manifest[]> => {
    const selector = `${GATEWAY_INSTANCE_LABEL}=${gateway.ID}`;
    const kinds: [string, string][] = [['gateway.networking.k8s.io/v1', 'Gateway'], ['gateway.networking.k8s.io/v1', 'HTTPRoute'], ['gateway.networking.k8s.io/v1alpha2', 'TCPRoute'], ['cert-manager.io/v1', 'Issuer'], ['cert-manager.io/v1', 'Certificate']];
    const lists = await Promise.all(kinds.map(([apiVersion, kind]) => kube.list(apiVersion, kind, { namespace, labelSelector: selector })));
    return lists.flatMap((list) => list.items);
  };
  const namespaceOfService = async (workloadInstanceId: number, service: string): Promise<string> => {
    const records = await client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workloadInstanceId });
    const record = records.find((candidate) => (candidate.JSONDefinition as Manifest).kind === 'Service' && (candidate.JSONDefinition as Manifest).metadata.name === service);
    return String((record?.JSONDefinition as Manifest).metadata.namespace);
  };
  const supportServiceInstances = () => client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID });

  const domain = `${uniqueName('shop')}.example.com`;
  let first: { workloadId: number; gateway: GatewayInstance; namespace: string };

  it('a workload with a gateway on 80 and 443 and a domain: support services installed, Gateway, routes, Certificate and DNS zone in place', LONG, async () => {
    const name = uniqueName('web');
    const { instance: workload } = await plane.deploy(name, webApp(name), runtime.ID);
    await plane.waitForStatus(workload.ID, 'Healthy');
    const domainDefinition = await client.kind('DomainNameDefinition').create({ Name: uniqueName('domain'), Domain: domain, Zone: 'Public', AdminEmail: 'admin@example.com' });
    const domainName = await client.kind('DomainNameInstance').create({ Name: uniqueName('dns'), DomainNameDefinitionID: domainDefinition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const definition = await client.kind('GatewayDefinition').create({
      Name: uniqueName('gateway'),
      HttpPorts: [{ Port: 80, HTTPSRedirect: true }, { Port: 443, TLSEnabled: true }],
      DomainNameDefinitionID: domainDefinition.ID,
      SubDomain: 'blog',
    });
    const gateway = await client.kind('GatewayInstance').create({ Name: uniqueName('gw'), GatewayDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });

    // No cert-manager runs on a simulated cluster: the status says which part is missing.
    await waitForGateway(gateway.ID, 'CertificateNotReady');
    expect(await statusOf(gateway.ID)).toContain(`certificate for blog.${domain} is not issued yet`);
    expect(await statusOf(gateway.ID)).toContain(`https://blog.${domain}/`);
    // tptctl why names the gateway (or what it runs on) as what keeps the workload from being all there.
    const answer = explain(await new DependencyWalker(client).walk(registry.get('WorkloadInstance'), await client.kind('WorkloadInstance').get(workload.ID)));
    expect(answer).toMatch(new RegExp(`^workload instance ${name} is not ready because`));
    expect(answer).toContain(`gateway instance ${gateway.Name}: CertificateNotReady: certificate for blog.${domain} is not issued yet`);

    // The class (and its EnvoyProxy, which merges every Gateway onto one proxy) came with the Envoy Gateway release.
    expect((await kube.get({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', name: GATEWAY_CLASS }))?.spec).toMatchObject({ controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' });
    expect((await kube.get({ apiVersion: 'gateway.envoyproxy.io/v1alpha1', kind: 'EnvoyProxy', namespace: supportServices.gateway.namespace, name: GATEWAY_CLASS }))?.spec).toMatchObject({ mergeGateways: true });

    const namespace = await namespaceOfService(workload.ID, name);
    const objects = await gatewayObjects(gateway, namespace);
    const byKind = (kind: string): Manifest[] => objects.filter((object) => object.kind === kind);
    const host = `blog.${domain}`;
    expect(byKind('Gateway')).toHaveLength(1);
    expect(byKind('Gateway')[0]!.spec).toMatchObject({
      gatewayClassName: GATEWAY_CLASS,
      listeners: [
        { name: 'http-80', protocol: 'HTTP', port: 80, hostname: host },
        { name: 'https-443', protocol: 'HTTPS', port: 443, hostname: host, tls: { mode: 'Terminate', certificateRefs: [{ name: `${byKind('Gateway')[0]!.metadata.name}-tls` }] } },
      ],
    });
    const routes = Object.fromEntries(byKind('HTTPRoute').map((route) => [route.metadata.name, route.spec as Record<string, unknown>]));
    const gatewayName = byKind('Gateway')[0]!.metadata.name;
    expect(routes[`${gatewayName}-80`]).toMatchObject({ hostnames: [host], rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }] });
    expect(routes[`${gatewayName}-443`]).toMatchObject({ hostnames: [host], rules: [{ backendRefs: [{ name, port: 80 }] }] });
    expect(byKind('Issuer')[0]!.spec).toMatchObject({ acme: { server: ACME, email: 'admin@example.com', solvers: [{ http01: { gatewayHTTPRoute: { parentRefs: [{ name: gatewayName, sectionName: 'http-80' }] } } }] } });
    expect(byKind('Certificate')[0]!.spec).toMatchObject({ dnsNames: [host], secretName: `${gatewayName}-tls`, issuerRef: { name: gatewayName } });

    // DNS: the hosted zone in Route53 (moto), external-dns publishing exactly this runtime's domains.
    await eventually('domain name published', async () => String((await client.kind('DomainNameInstance').get(domainName.ID)).Status ?? '').startsWith('Published') || String((await client.kind('DomainNameInstance').get(domainName.ID)).Status), 240_000, 250);
    const services = await supportServiceInstances();
    expect(services.map((service) => service.ReleaseNamespace).sort()).toEqual([supportServices['cert-manager'].namespace, supportServices['external-dns'].namespace, supportServices.gateway.namespace]);
    for (const service of services) expect(await helm.release(connection, String(service.Name), String(service.ReleaseNamespace))).toMatchObject({ status: 'deployed' });
    const route53 = new Route53Client({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
    const zones = await route53.send(new ListHostedZonesByNameCommand({ DNSName: `${domain}.` }));
    const zone = zones.HostedZones?.filter((candidate) => candidate.Name === `${domain}.`) ?? [];
    expect(zone).toHaveLength(1);
    const externalDns = services.find((service) => service.ReleaseNamespace === supportServices['external-dns'].namespace)!;
    const values = (await client.kind('HelmWorkloadInstance').get(externalDns.ID)).ValuesDocument;
    expect(values).toContain(`- ${domain}`);
    expect(values).toMatch(/txtOwnerId: threeport-[0-9a-f]{8}-\d+/);
    expect(values).toContain(`--zone-id-filter=${String(zone[0]!.Id).replace('/hostedzone/', '')}`);
    expect(values).not.toContain(aws.credentials.secretAccessKey);
    expect(await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: supportServices['external-dns'].namespace, name: 'threeport-external-dns-aws' })).toBeDefined();

    // tptctl describe shows the URL on the workload, the support services on the runtime.
    const described = describeText(await gatherDescription(client, registry.get('WorkloadInstance'), await client.kind('WorkloadInstance').get(workload.ID)));
    expect(described).toContain(`https://blog.${domain}/`);
    const runtimeDescribed = describeText(await gatherDescription(client, registry.get('KubernetesRuntimeInstance'), await client.kind('KubernetesRuntimeInstance').get(runtime.ID)));
    expect(runtimeDescribed).toMatch(/cert-manager\s+cert-manager v1\.21\.1/);
    first = { workloadId: workload.ID, gateway, namespace };
  });

  it('a second workload on the cluster reuses the support services; a port change and a definition edit update the live objects', LONG, async () => {
    const before = await supportServiceInstances();
    const revisions = await Promise.all(before.map(async (service) => (await helm.release(connection, String(service.Name), String(service.ReleaseNamespace)))?.revision));
    const name = uniqueName('api');
    const { instance: workload } = await plane.deploy(name, webApp(name), runtime.ID);
    await plane.waitForStatus(workload.ID, 'Healthy');
    const definition = await client.kind('GatewayDefinition').create({ Name: uniqueName('gateway'), HttpPorts: [{ Port: 80 }] });
    const gateway = await client.kind('GatewayInstance').create({ Name: uniqueName('gw'), GatewayDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    // Nothing programs the gateway on a simulated cluster (no Envoy runs): the status says so.
    await waitForGateway(gateway.ID, 'GatewayNotProgrammed');
    const after = await supportServiceInstances();
    expect(after.map((service) => service.ID).sort()).toEqual(before.map((service) => service.ID).sort());
    expect(await Promise.all(after.map(async (service) => (await helm.release(connection, String(service.Name), String(service.ReleaseNamespace)))?.revision))).toEqual(revisions);

    const namespace = await namespaceOfService(workload.ID, name);
    const [port] = await client.kind('GatewayHttpPort').listAll({ gatewaydefinitionid: definition.ID });
    await client.kind('GatewayHttpPort').update(port!.ID, { Port: 8080, Path: '/api' });
    await eventually('the listener and route moved to 8080', async () => {
      const objects = await gatewayObjects(gateway, namespace);
      const listeners = (objects.find((object) => object.kind === 'Gateway')?.spec as { listeners: { port: number }[] } | undefined)?.listeners ?? [];
      const routes = objects.filter((object) => object.kind === 'HTTPRoute').map((route) => route.metadata.name);
      return (listeners.length === 1 && listeners[0]!.port === 8080 && routes.length === 1 && routes[0]!.endsWith('-8080')) || `listeners ${JSON.stringify(listeners)}, routes ${routes.join(',')}`;
    }, 120_000);
    const route = (await gatewayObjects(gateway, namespace)).find((object) => object.kind === 'HTTPRoute')!;
    expect(route.spec).toMatchObject({ rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name, port: 80 }] }] });

    // The first gateway's definition: a new subdomain reaches its listeners and certificate.
    const firstDefinition = await client.kind('GatewayDefinition').get(first.gateway.GatewayDefinitionID);
    await client.kind('GatewayDefinition').update(firstDefinition.ID, { SubDomain: 'www' });
    await eventually('the first gateway serves www', async () => {
      const certificate = (await gatewayObjects(first.gateway, first.namespace)).find((object) => object.kind === 'Certificate');
      return JSON.stringify((certificate?.spec as { dnsNames?: string[] } | undefined)?.dnsNames) === JSON.stringify([`www.${domain}`]) || JSON.stringify(certificate?.spec);
    }, 120_000);
  });

  it('deleting a gateway removes exactly what it added; the workload keeps running', LONG, async () => {
    const { gateway, namespace, workloadId } = first;
    await client.kind('GatewayInstance').delete(gateway.ID);
    await eventually('the gateway instance gone', async () => (await client.kind('GatewayInstance').findByName(String(gateway.Name))) === undefined, 120_000);
    expect(await gatewayObjects(gateway, namespace)).toEqual([]);
    const workload = await client.kind('WorkloadInstance').get(workloadId);
    const name = String(workload.Name);
    expect(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name })).toBeDefined();
    expect(await kube.get({ apiVersion: 'v1', kind: 'Service', namespace, name })).toBeDefined();
    const records = await client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workloadId });
    expect(records.filter((record) => (record.JSONDefinition as Manifest).metadata.labels?.[GATEWAY_INSTANCE_LABEL])).toEqual([]);
    await plane.waitForStatus(workloadId, 'Healthy');

    // The runtime's last domain name gone: external-dns uninstalled, the account's keys with its namespace.
    const [domainName] = await client.kind('DomainNameInstance').listAll({ workloadinstanceid: workloadId });
    await client.kind('DomainNameInstance').delete(domainName!.ID);
    await eventually('external-dns uninstalled', async () => (await supportServiceInstances()).every((service) => service.ReleaseNamespace !== supportServices['external-dns'].namespace), 120_000);
    await eventually('its namespace and the keys gone', async () => {
      const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: supportServices['external-dns'].namespace, name: 'threeport-external-dns-aws' });
      const namespace = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: supportServices['external-dns'].namespace });
      return (secret === undefined && (namespace === undefined || Boolean(namespace.metadata.deletionTimestamp))) || 'still there';
    }, 60_000);
  });

  it('an application with a domain and a gateway makes them in order on its workload, with its profile’s issuer and domain settings; its status and why name the certificate; delete removes them', LONG, async () => {
    const name = uniqueName('store');
    // Operations' choices for the support services: a self-signed issuer (over the control plane's ACME one) and the domain's zone and contact.
    const profile = await client.kind('Profile').create({ Name: uniqueName('internal'), Gateway: { CertificateIssuer: 'self-signed' }, DomainName: { Zone: 'Public', AdminEmail: 'ops@example.com' } });
    const application = await client.kind('Application').create({
      Name: name,
      Profile: profile.Name,
      Runtime: { Name: runtime.Name },
      YAMLDocument: webApp(name),
      DomainName: { Domain: `${name}.example.com` },
      Gateway: { HttpPorts: [{ Port: 80, HTTPSRedirect: true }, { Port: 443, TLSEnabled: true }], ServiceName: name, SubDomain: 'www' },
    });
    // No cert-manager runs on a simulated cluster: the one status names the gateway and why.
    const status = async () => String((await client.kind('Application').get(application.ID)).Status ?? '');
    await eventually('application waits on the certificate', async () => (await status()).includes(`GatewayInstance ${name}-gateway: CertificateNotReady: certificate for www.${name}.example.com is not issued yet`) || status(), 240_000, 250);
    const children = (await client.kind('Application').get(application.ID)).Children as { Role: string; Kind: string; ID: number; Name: string; Made: boolean }[];
    expect(children.map((child) => `${child.Role} ${child.Kind} ${child.Name}`)).toEqual([
      `runtime KubernetesRuntimeInstance ${runtime.Name}`,
      `workload-definition WorkloadDefinition ${name}`,
      `workload WorkloadInstance ${name}`,
      `domain-name-definition DomainNameDefinition ${name}-domain`,
      `domain-name DomainNameInstance ${name}-${name}-domain`,
      `gateway-definition GatewayDefinition ${name}-gateway`,
      `gateway GatewayInstance ${name}-gateway`,
    ]);
    // The gateway is on the application's domain and workload, without an ID in the declaration.
    const gateway = await client.kind('GatewayInstance').get(children.at(-1)!.ID);
    expect(gateway.WorkloadInstanceID).toBe(children[2]!.ID);
    const gatewayDefinition = await client.kind('GatewayDefinition').get(Number(gateway.GatewayDefinitionID));
    expect(gatewayDefinition).toMatchObject({ DomainNameDefinitionID: children[3]!.ID, CertificateIssuer: 'self-signed' });
    expect(await client.kind('DomainNameDefinition').get(children[3]!.ID)).toMatchObject({ Zone: 'Public', AdminEmail: 'ops@example.com' });
    const issuers = (await gatewayObjects(gateway, await namespaceOfService(gateway.WorkloadInstanceID, name))).filter((object) => object.kind === 'Issuer');
    expect(issuers.map((issuer) => issuer.spec)).toEqual([{ selfSigned: {} }]);
    const answer = explain(await new DependencyWalker(client).walk(registry.get('Application'), await client.kind('Application').get(application.ID)));
    expect(answer).toMatch(new RegExp(`^application ${name} is not ready because`));
    expect(answer).toContain(`gateway instance ${name}-gateway: CertificateNotReady`);
    const described = describeText(await gatherDescription(client, registry.get('Application'), await client.kind('Application').get(application.ID)));
    expect(described).toMatch(new RegExp(`\\* Parts:\\nPART\\s+KIND\\s+NAME\\s+MADE\\s+STATUS\\nruntime\\s+KubernetesRuntimeInstance\\s+${runtime.Name}\\s+used\\s+Ready`));

    await client.kind('Application').delete(application.ID);
    await eventually('application and its parts gone', async () => (await client.kind('Application').get(application.ID).then(() => false, () => true)) && (await client.kind('GatewayInstance').get(gateway.ID).then(() => false, () => true)), 180_000, 250);
    for (const child of children.filter((record) => record.Made)) expect(await client.kind(child.Kind).get(child.ID).then(() => 'there', () => 'gone'), `${child.Kind} ${child.Name}`).toBe('gone');
    expect(await client.kind('KubernetesRuntimeInstance').get(runtime.ID)).toBeDefined();
  });

  it('a gateway definition that could never work is Failed with the reason', LONG, async () => {
    const definition = await client.kind('GatewayDefinition').create({ Name: uniqueName('gateway'), HttpPorts: [{ Port: 443, TLSEnabled: true }, { Port: 443 }] });
    await eventually('definition failed', async () => String((await client.kind('GatewayDefinition').get(definition.ID)).Status ?? '').startsWith('Failed') || String((await client.kind('GatewayDefinition').get(definition.ID)).Status));
    const status = String((await client.kind('GatewayDefinition').get(definition.ID)).Status);
    expect(status).toContain('port 443 is given twice');
    expect(status).toContain('TLS needs a domain name');
  });
});

/** Support-service releases a crashed earlier run left in the cluster (another control plane's: refused otherwise). */
async function removeLeftoverSupportServices(helm: Helm, connection: Parameters<Helm['release']>[0]): Promise<void> {
  for (const { namespace } of Object.values(supportServices)) {
    for (const release of await helm.releasesIn(connection, namespace)) await helm.uninstall(connection, release, namespace);
  }
}
