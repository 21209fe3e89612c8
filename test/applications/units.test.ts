/**
 * The pieces of applications that need no cluster: what a declaration may say, cycles, profiles,
 * placement's matching, and a delivery environment's tier (against the API on PGlite).
 */
import { describe, expect, it } from 'vitest';
import { publicAddress } from '../../src/controllers/application/connections.ts';
import { describeRequirements, unmet } from '../../src/controllers/application/placement.ts';
import { withTierMembers } from '../../src/controllers/delivery/members.ts';
import { dnsProviderFor } from '../../src/controllers/gateway/domain-name-instance.ts';
import { applicationFields, cycleThrough, dependencyEdges, parseApplication } from '../../src/model/application-spec.ts';
import { profileProblem, withProfile } from '../../src/model/profiles.ts';
import { startApi } from '../support/control-plane.ts';

const manifests = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n';

describe('application declarations', () => {
  it('are refused with where and why', () => {
    const problem = (value: Record<string, unknown>) => {
      try {
        parseApplication(value);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problem({ Name: 'a' })).toBe('Application: declare the workload: YAMLDocument (its manifests) or Helm {Repo, Chart, ChartVersion, ValuesDocument, InstanceValuesDocument} — one of them');
    expect(problem({ Name: 'A b', YAMLDocument: manifests })).toMatch(/^Application.Name: "A b" is not a valid name/);
    expect(problem({ Name: 'a', YAMLDocument: manifests, Runtime: { Name: 'r', Location: 'Local' } })).toBe('Application.Runtime: give either Name (an existing runtime) or requirements, not both');
    expect(problem({ Name: 'a', YAMLDocument: manifests, Runtime: { Location: 'Mars' } })).toMatch(/^Application.Runtime.Location: "Mars" is not a threeport location/);
    expect(problem({ Name: 'a', YAMLDocument: manifests, Colour: 'red' })).toMatch(/^Application.Colour: unknown field; use Name, Tier/);
    expect(problem({ Name: 'a', Helm: { Chart: 'c' }, AwsRelationalDatabase: { Engine: 'postgres' } })).toBe('Application.AwsRelationalDatabase: is for manifest workloads only (a Helm workload’s chart makes its own)');
    expect(problem({ Name: 'a', YAMLDocument: manifests, Secret: { Backend: 'direct' } })).toMatch(/^Application.SecretData: is required to make the secret/);
    expect(problem({ Name: 'a', YAMLDocument: manifests, SecretData: { k: 1 } })).toBe('Application.SecretData.k: must be a string (quote numbers and booleans in YAML)');
    expect(problem({ Name: 'a', YAMLDocument: manifests, Dependencies: [{ Name: 'b', YAMLDocument: manifests, SecretData: { k: 'v' } }] })).toMatch(/^Application.Dependencies\[0\].SecretData: secret values go only in the top-level application/);
    expect(problem({ Name: 'a', YAMLDocument: manifests, Dependencies: [{ Name: 'b', YAMLDocument: manifests, Dependencies: [{ Name: 'a', YAMLDocument: manifests }] }] })).toBe('Application.Dependencies[0].Dependencies[0].Name: a is declared twice in this application');
    expect(problem({ Name: 'a', YAMLDocument: manifests, Dependencies: [{ Application: 'a' }] })).toBe('Application.Dependencies[0]: a cannot depend on itself');
    expect(problem({ Name: 'a', YAMLDocument: manifests, Observability: { Enabled: 'yes' } })).toBe('Application.Observability.Enabled: must be true or false');
    expect(problem({ Name: 'a', YAMLDocument: manifests, Observability: { Tracing: true } })).toMatch(/^Application.Observability.Tracing: unknown field; use Enabled, MetricsEnabled, LoggingEnabled/);
    expect(problem({ Name: 'a', YAMLDocument: manifests, Gateway: { CertificateIssuer: 'self-signed', HttpPorts: [{ Port: 443, TLSEnabled: true }] }, Observability: { LoggingEnabled: false } })).toBeUndefined();
    expect(problem({ Name: 'a', YAMLDocument: manifests, Secret: { Name: 'shared' }, Dependencies: [{ Application: 'b' }] })).toBeUndefined();
  });

  it('render a nested application back as the fields it is made with', () => {
    const spec = parseApplication({ Name: 'a', YAMLDocument: manifests, Dependencies: [{ Name: 'b', Helm: { Chart: 'c' }, Dependencies: [{ Application: 'z' }] }] });
    const nested = spec.Dependencies[0]!;
    expect('Nested' in nested && applicationFields(nested.Nested)).toEqual({ Helm: { Chart: 'c' }, Dependencies: [{ Application: 'z' }] });
  });

  it('find a cycle through named and nested applications, naming it', () => {
    const spec = parseApplication({ Name: 'a', YAMLDocument: manifests, Dependencies: [{ Name: 'b', YAMLDocument: manifests, Dependencies: [{ Application: 'c' }] }] });
    const edges = dependencyEdges(spec);
    edges.set('c', ['a']);
    expect(cycleThrough('a', (name) => edges.get(name) ?? [])).toEqual(['a', 'b', 'c', 'a']);
    edges.set('c', ['d']);
    expect(cycleThrough('a', (name) => edges.get(name) ?? [])).toBeUndefined();
  });
});

describe('profiles', () => {
  const profile = { Name: 'small', Runtime: { InfraProvider: 'eks', NodeSize: 'Small', NodeMaximum: 10 }, Overridable: ['Runtime.NodeMaximum'] };

  it('fill what the application leaves out, let it change what they allow, refuse the rest', () => {
    expect(withProfile('Runtime', { Location: 'Local' }, profile)).toEqual({ InfraProvider: 'eks', NodeSize: 'Small', NodeMaximum: 10, Location: 'Local' });
    expect(withProfile('Runtime', { NodeMaximum: 20 }, profile)).toMatchObject({ NodeMaximum: 20 });
    expect(withProfile('Runtime', { NodeSize: 'Small' }, profile)).toMatchObject({ NodeSize: 'Small' });
    expect(() => withProfile('Runtime', { NodeSize: 'Large' }, profile)).toThrow('profile small sets Runtime.NodeSize to "Small" and does not let applications change it');
    expect(withProfile('AwsRelationalDatabase', { Engine: 'mysql' }, profile)).toEqual({ Engine: 'mysql' });
    expect(withProfile('Runtime', undefined, undefined)).toBeUndefined();
  });

  it('cover support services: the gateway’s issuer, the domain, observability on or off — checked when the profile is written', () => {
    const operations = { Name: 'prod', Gateway: { CertificateIssuer: 'letsencrypt' }, Observability: { Enabled: true }, Overridable: ['Observability.LoggingEnabled'] };
    expect(withProfile('Gateway', { ServiceName: 'web' }, operations)).toEqual({ CertificateIssuer: 'letsencrypt', ServiceName: 'web' });
    expect(() => withProfile('Gateway', { CertificateIssuer: 'self-signed' }, operations)).toThrow('profile prod sets Gateway.CertificateIssuer to "letsencrypt"');
    expect(withProfile('Observability', undefined, operations)).toEqual({ Enabled: true });
    expect(withProfile('Observability', { LoggingEnabled: false }, operations)).toEqual({ Enabled: true, LoggingEnabled: false });
    expect(() => withProfile('Observability', { Enabled: false }, operations)).toThrow('profile prod sets Observability.Enabled to true and does not let applications change it');
    expect(profileProblem({ Name: 'x', Observability: true })).toBe('Observability must be a mapping of field to value');
    expect(profileProblem({ Name: 'x', Overridable: ['Tracing.Enabled'] })).toMatch(/^Overridable: "Tracing.Enabled" is not Section.Field with a section of Runtime, .*Observability/);
  });
});

describe('placement', () => {
  it('says which requirements a runtime misses', () => {
    const runtime = { Location: 'Local' };
    const definition = { InfraProvider: 'kind', NodeSize: 'Medium', NodeMaximum: 5 };
    expect(unmet({ Location: 'Local', InfraProvider: 'kind' }, runtime, definition)).toEqual([]);
    expect(unmet({ Location: 'NorthAmerica:NewYork', InfraProvider: 'eks', NodeMaximum: 10 }, runtime, definition)).toEqual(['Location', 'InfraProvider', 'NodeMaximum']);
    expect(unmet({ HighAvailability: true }, runtime, definition)).toEqual(['HighAvailability']);
    expect(unmet({ HighAvailability: false }, runtime, definition)).toEqual([]);
    expect(unmet({ DnsProvider: 'aws' }, runtime, definition)).toEqual(['DnsProvider']);
    expect(unmet({ DnsProvider: 'aws' }, runtime, { ...definition, DnsProvider: 'aws' })).toEqual([]);
    expect(dnsProviderFor(undefined, { name: 'cloudflare' })).toEqual({ name: 'cloudflare' });
    expect(dnsProviderFor('aws', { name: 'cloudflare', values: {} })).toEqual({ name: 'aws' });
    expect(() => dnsProviderFor('google', { name: 'aws' })).toThrow('its runtime\'s definition names DNS provider google, which this control plane is not configured for (it has aws)');
    expect(describeRequirements({ Location: 'Local', NodeMaximum: 3 })).toBe('Location Local, NodeMaximum ≥ 3');
    expect(describeRequirements({})).toBe('none');
  });
});

describe('a delivery environment naming a tier', () => {
  it('gets the workloads of the tier’s applications, each instance in one environment only', async () => {
    const api = await startApi({ database: 'pglite' });
    const applications = api.client.kind('Application');
    const made = async (name: string, tier: string, kind = 'WorkloadInstance') => {
      const application = await applications.create({ Name: name, Tier: tier, YAMLDocument: manifests });
      // As the application controller records what it made.
      await applications.update(application.ID, { Children: [{ Role: 'workload', Kind: kind, ID: 1, Name: name, Made: true }] });
    };
    await made('shop', 'dev');
    await made('chart', 'dev', 'HelmWorkloadInstance');
    await made('listed', 'dev');
    await made('live', 'prod');
    const environments = await withTierMembers(api.client, [
      { Name: 'staging', WorkloadInstances: ['listed'] },
      { Name: 'dev', Tier: 'dev' },
      { Name: 'prod', Tier: 'prod', WorkloadInstances: ['other'] },
    ]);
    expect(environments).toEqual([
      { Name: 'staging', WorkloadInstances: ['listed'] },
      { Name: 'dev', Tier: 'dev', WorkloadInstances: ['shop'], HelmWorkloadInstances: ['chart'] },
      { Name: 'prod', Tier: 'prod', WorkloadInstances: ['other', 'live'], HelmWorkloadInstances: [] },
    ]);
  });
});

describe('a definition naming a profile', () => {
  it('gets the profile’s values for what it leaves out, may change only what the profile allows, on create, PATCH and PUT', async () => {
    const api = await startApi({ database: 'pglite' });
    const refused = (write: Promise<unknown>) => write.then(() => 'written', (error: unknown) => `${(error as { status?: number }).status}: ${(error as Error).message}`);
    const profile = await api.client.kind('Profile').create({
      Name: 'standard',
      Runtime: { InfraProvider: 'eks', Location: 'NorthAmerica:NewYork', NodeSize: 'Small', NodeMaximum: 10 },
      Gateway: { CertificateIssuer: 'self-signed' },
      Overridable: ['Runtime.NodeMaximum'],
    });
    const runtimes = api.client.kind('KubernetesRuntimeDefinition');
    const filled = await runtimes.create({ Name: 'filled', ProfileID: profile.ID });
    expect(filled).toMatchObject({ InfraProvider: 'eks', NodeSize: 'Small', NodeMaximum: 10 });
    expect(await runtimes.create({ Name: 'bigger', ProfileID: profile.ID, NodeMaximum: 20 })).toMatchObject({ NodeSize: 'Small', NodeMaximum: 20 });
    expect(await refused(runtimes.create({ Name: 'large', ProfileID: profile.ID, NodeSize: 'Large' }))).toMatch(/^400: profile standard sets Runtime.NodeSize to "Small" and does not let definitions change it/);
    expect(await runtimes.findByName('large')).toBeUndefined();
    expect(await refused(runtimes.update(filled.ID, { NodeSize: 'Large' }))).toMatch(/^400: profile standard sets Runtime.NodeSize/);
    expect(await runtimes.update(filled.ID, { NodeMaximum: 30 })).toMatchObject({ NodeSize: 'Small', NodeMaximum: 30 });
    expect(await refused(runtimes.replace(filled.ID, { Name: 'filled', ProfileID: profile.ID, InfraProvider: 'eks', NodeSize: 'Medium' }))).toMatch(/^400: profile standard sets Runtime.NodeSize/);
    const bare = await api.client.kind('Profile').create({ Name: 'bare' });
    expect(await refused(runtimes.create({ Name: 'unset', ProfileID: bare.ID }))).toBe('400: Missing required field(s) : InfraProvider (neither given nor set by the profile)');
    // A PATCH naming another profile is held to it for every value the definition has; a PUT without one has none.
    const loose = await api.client.kind('Profile').create({ Name: 'loose', Runtime: { NodeSize: 'Large' } });
    expect(await refused(runtimes.update(filled.ID, { ProfileID: loose.ID }))).toMatch(/^400: profile loose sets Runtime.NodeSize to "Large" and does not let definitions change it/);
    expect(await runtimes.replace(filled.ID, { Name: 'filled', InfraProvider: 'eks', NodeSize: 'Medium' })).toMatchObject({ NodeSize: 'Medium' });
    expect(await refused(api.client.kind('Profile').create({ Name: 'odd', Gateway: { CertificateIssuer: 'my-ca' } }))).toMatch(/^400: Gateway.CertificateIssuer "my-ca" names no issuer/);
    // Without a profile, nothing is filled or fixed.
    expect(await runtimes.create({ Name: 'free', InfraProvider: 'kind', NodeSize: 'Large' })).toMatchObject({ NodeSize: 'Large' });

    const gateways = api.client.kind('GatewayDefinition');
    expect(await gateways.create({ Name: 'web', ProfileID: profile.ID, ServiceName: 'web' })).toMatchObject({ CertificateIssuer: 'self-signed' });
    expect(await refused(gateways.create({ Name: 'odd', CertificateIssuer: 'my-ca' }))).toMatch(/^400: CertificateIssuer "my-ca" names no issuer: use letsencrypt, letsencrypt-staging, self-signed/);
  });
});

describe('a dependency on another runtime', () => {
  it('is reached at its gateway’s host and first served port; without a gateway on a domain it has no public address', async () => {
    const api = await startApi({ database: 'pglite' });
    const domain = await api.client.kind('DomainNameDefinition').create({ Name: 'shop-domain', Domain: 'example.com', Zone: 'Public', AdminEmail: 'ops@example.com' });
    const gateway = await api.client.kind('GatewayDefinition').create({
      Name: 'api-gateway',
      SubDomain: 'api',
      DomainNameDefinitionID: domain.ID,
      HttpPorts: [{ Port: 80, HTTPSRedirect: true }, { Port: 443, TLSEnabled: true }],
    });
    const dependency = { Name: 'api', Children: [{ Role: 'gateway-definition', Kind: 'GatewayDefinition', ID: gateway.ID, Name: 'api-gateway', Made: true }] };
    expect(await publicAddress(api.client, dependency)).toEqual({ host: 'api.example.com', port: 443 });
    const internal = await api.client.kind('GatewayDefinition').create({ Name: 'internal', HttpPorts: [{ Port: 80 }] });
    expect(await publicAddress(api.client, { Name: 'x', Children: [{ Role: 'gateway-definition', Kind: 'GatewayDefinition', ID: internal.ID, Name: 'internal', Made: true }] })).toBeUndefined();
    expect(await publicAddress(api.client, { Name: 'y', Children: [] })).toBeUndefined();
  });
});
