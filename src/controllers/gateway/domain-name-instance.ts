/**
 * DomainNameInstance: DNS records for its workload instance's gateways. The domain's hosted zone
 * is found (or, for a public zone, made) in Route53 with the runtime's AWS account, and the
 * runtime's external-dns is installed (on first use) or upgraded to publish every domain its
 * instances use — the original tied one external-dns to the first domain a cluster saw. The
 * records themselves are external-dns's: it makes them from the gateways' routes and removes
 * them when the routes go, touching only records of this runtime's owner id.
 */
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError, RetryableError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { supportServices } from '../../model/support-services.ts';
import type { AwsAccountAccess } from '../../platform/aws/credentials.ts';
import { configuredEndpoint } from '../../platform/aws/endpoints.ts';
import type { HostedZone } from '../../platform/aws/route53.ts';
import { layered, type Values } from '../../platform/helm/index.ts';
import { labels } from '../../platform/kubernetes/index.ts';
import { accessOf, asReconcileError, awsAccountOfRuntime, supportServiceRoleOf } from '../shared/aws-account.ts';
import { controlPlaneIdOf, readyRuntime, type ReadyRuntime } from '../shared/runtime-cluster.ts';
import { deliverAccountKeys } from '../support-services/account-keys.ts';
import { externalDnsValues, otherProviderValues } from '../support-services/service-values.ts';
import { ensureSupportService, removeSupportService, SUPPORT_SERVICE_POLL_MS } from '../support-services/support-services.ts';

export type DomainNameInstance = ObjectOf<'DomainNameInstance'>;
const READY = 'Ready';

/** external-dns's provider: Route53 with the runtime's AWS account (threeport finds or makes the zones), or another, configured by the operator. */
export interface DnsProvider {
  /** An external-dns provider name (aws, cloudflare, google, azure, …). @default aws */
  name: string;
  /** Helm values for external-dns with that provider (its credentials from a Secret the operator put in the cluster). */
  values?: Values;
}

/**
 * The provider for a runtime: its definition's DnsProvider (a profile's choice) when it names one,
 * else the control plane's. A definition may name aws (Route53, with the runtime's AWS account) or
 * the provider the control plane is configured with — another needs credentials it does not have.
 */
export function dnsProviderFor(named: string | undefined, configured: DnsProvider): DnsProvider {
  if (!named || named === configured.name) return configured;
  if (named === 'aws') return { name: 'aws' };
  throw new TerminalError(`its runtime's definition names DNS provider ${named}, which this control plane is not configured for (it has ${configured.name}): name aws or ${configured.name}, or start the controllers with --dns-provider ${named} --dns-provider-values (its credentials)`);
}

async function providerOfRuntime(context: ReconcileContext<DomainNameInstance>, configured: DnsProvider, runtimeId: number): Promise<DnsProvider> {
  const runtime = await context.client.kind('KubernetesRuntimeInstance').get(runtimeId);
  const definition = await context.client.kind('KubernetesRuntimeDefinition').get(runtime.KubernetesRuntimeDefinitionID);
  return dnsProviderFor(definition.DnsProvider || undefined, configured);
}

export function domainNameInstanceReconciler(configured: DnsProvider = { name: 'aws' }): Reconciler<DomainNameInstance> {
  return {
    kind: 'DomainNameInstance',
    statusCondition: READY,
    maxRetryDelayMs: 60_000,
    // The domain definition has no controller of its own: an edit of it (or new account keys) is
    // seen here, at the latest this long after.
    resyncIntervalMs: 60_000,
    async reconcile(context) {
      let provider: DnsProvider;
      try {
        provider = await providerOfRuntime(context, configured, context.object.KubernetesRuntimeInstanceID);
      } catch (error) {
        if (context.operation !== 'Deleted') throw error;
        // Its runtime names a provider this control plane has not: nothing was published with it, and
        // external-dns must not be set up for the runtime's other domains with another provider.
        if (error instanceof TerminalError) return undefined;
        if (!isNotFound(error)) throw error;
        provider = configured; // the runtime is gone: unpublish finds nothing to do there
      }
      return context.operation === 'Deleted' ? unpublish(context, provider) : publish(context, provider);
    },
  };
}

async function publish(context: ReconcileContext<DomainNameInstance>, provider: DnsProvider): Promise<ReconcileOutcome> {
  const { client: api } = context;
  const instance = context.object;
  const domain = await api.kind('DomainNameDefinition').get(instance.DomainNameDefinitionID);
  const workload = await api.kind('WorkloadInstance').get(instance.WorkloadInstanceID);
  if (workload.KubernetesRuntimeInstanceID !== instance.KubernetesRuntimeInstanceID) {
    throw new TerminalError(`its workload instance ${workload.Name} runs on runtime ${workload.KubernetesRuntimeInstanceID}, not on this domain name's runtime ${instance.KubernetesRuntimeInstanceID}`);
  }
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
  if ('waiting' in target) return target;
  const controlPlaneId = await controlPlaneIdOf(api);
  if (provider.name !== 'aws') {
    const installed = await updateExternalDns(context, target, controlPlaneId, { provider });
    if (installed) return installed;
    await context.setCondition({ Type: READY, Status: 'True', Reason: 'Published', Message: `records for ${domain.Domain} are made by the runtime's external-dns with provider ${provider.name} (its zone is the provider account's, not threeport's to make)` });
    return undefined;
  }
  const account = await awsAccountOfRuntime(api, target.runtime);
  if ('waiting' in account) return account;
  const access = accessOf(account, (value) => context.decrypt(value));
  // Found or made with every other domain of the runtime, as external-dns is told of them.
  const zones = new Map<string, HostedZone>();
  const installed = await updateExternalDns(context, target, controlPlaneId, { provider, access, zones });
  if (installed) return installed;
  const zone = zones.get(normalizedDomain(domain.Domain));
  if (!zone) throw new RetryableError(`the hosted zone of ${domain.Domain} was not looked up: trying again`);
  await context.setCondition({ Type: READY, Status: 'True', Reason: 'Published', Message: `records for ${domain.Domain} go into hosted zone ${zone.name} (${zone.id}) in AWS account ${account.Name}, made by the runtime's external-dns` });
  return undefined;
}

const zoneReference = (controlPlaneId: string, domainDefinitionId: number): string => `threeport-${controlPlaneId.slice(0, 8)}-${domainDefinitionId}`;

async function unpublish(context: ReconcileContext<DomainNameInstance>, provider: DnsProvider): Promise<ReconcileOutcome> {
  const { client: api } = context;
  const instance = context.object;
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value)).catch((error: unknown) => {
    if (error instanceof TerminalError) return { waiting: 'its runtime is being deleted' }; // external-dns goes with it
    throw error;
  });
  if ('waiting' in target) return undefined;
  const controlPlaneId = await controlPlaneIdOf(api);
  if (provider.name !== 'aws') return updateExternalDns(context, target, controlPlaneId, { provider });
  const account = await awsAccountOfRuntime(api, target.runtime);
  if ('waiting' in account) return undefined; // no account: external-dns cannot have been installed for it
  return updateExternalDns(context, target, controlPlaneId, { provider, access: accessOf(account, (value) => context.decrypt(value)) });
}

/**
 * external-dns on the runtime publishing exactly the domains of its live domain name instances,
 * re-checked after the write: two instances reconciled at once each write what they saw, and the
 * later one must see the other.
 */
async function updateExternalDns(context: ReconcileContext<DomainNameInstance>, target: ReadyRuntime, controlPlaneId: string, dns: { provider: DnsProvider; access?: AwsAccountAccess; zones?: Map<string, HostedZone> }): Promise<ReconcileOutcome> {
  const domains = await domainsOfRuntime(context, target.runtime.ID);
  if (domains.length === 0) {
    // The last one gone: external-dns is uninstalled, its namespace and the account's keys with it.
    const gone = await removeSupportService(context, target, 'external-dns');
    return gone ? undefined : { waiting: 'external-dns is being uninstalled from the runtime', requeueAfterMs: SUPPORT_SERVICE_POLL_MS };
  }
  const ownerId = `threeport-${controlPlaneId.slice(0, 8)}-${target.runtime.ID}`;
  const { access } = dns;
  let state;
  if (!access) {
    state = await ensureSupportService(context, target, 'external-dns', layered(otherProviderValues({ provider: dns.provider.name, domains: domains.map(({ domain }) => domain), ownerId }), dns.provider.values ?? {}));
  } else {
    // On an EKS cluster threeport made, external-dns assumes the role made for it: no keys go into the cluster.
    const workloadRole = await supportServiceRoleOf(context.client, target.runtime.ID, 'external-dns');
    if (!workloadRole && (!access.accessKeyId || !access.secretAccessKey)) {
      throw new TerminalError(`AWS account ${access.name} has no access keys for external-dns to use on runtime ${target.runtime.Name}: give the account an AccessKeyID and SecretAccessKey (with a RoleArn, external-dns assumes the role from them)`);
    }
    // The SDK's Route53 client, loaded only by a control plane that meets AWS DNS.
    const { ensureHostedZone, route53Of } = await import('../../platform/aws/route53.ts');
    const route53 = route53Of(access);
    const zones = [];
    for (const { domain, type, definitionId } of domains) {
      const zone = await ensureHostedZone(route53, access.name, { domain, type, reference: zoneReference(controlPlaneId, definitionId) }, context.signal).catch(asReconcileError);
      if (zone.created) {
        const delegation = zone.nameServers.length ? `; delegate ${domain} to ${zone.nameServers.join(', ')}` : '';
        await context.recordEvent({ reason: 'HostedZoneCreated', note: `made the ${type.toLowerCase()} hosted zone ${zone.name} (${zone.id}) in AWS account ${access.name}${delegation}` });
      }
      dns.zones?.set(domain, zone);
      zones.push({ domain, zoneId: zone.id });
    }
    const endpoint = configuredEndpoint('ROUTE_53');
    const values = externalDnsValues({
      zones,
      ownerId,
      region: access.region,
      ...(access.roleArn && { role: { arn: access.roleArn, ...(access.externalId && { externalId: access.externalId }) } }),
      ...(workloadRole && { workloadRole }),
      ...(endpoint && { endpoint }),
    });
    state = await ensureSupportService(context, target, 'external-dns', values, workloadRole ? undefined : (release) => deliverAccountKeys(target.cluster, 'external-dns', access, release, controlPlaneId, context.signal));
  }
  if (!('installed' in state)) return state;
  const now = await domainsOfRuntime(context, target.runtime.ID);
  if (JSON.stringify(now) !== JSON.stringify(domains)) throw new RetryableError('the domains of the runtime changed while external-dns was updated: updating it again');
  return undefined;
}

interface RuntimeDomain {
  domain: string;
  type: 'Public' | 'Private';
  definitionId: number;
}

async function domainsOfRuntime(context: ReconcileContext<DomainNameInstance>, runtimeId: number): Promise<RuntimeDomain[]> {
  const instances = await context.client.kind('DomainNameInstance').listAll({ kubernetesruntimeinstanceid: runtimeId });
  const live = instances.filter((instance) => !instance.DeletionScheduled);
  const definitionIds = [...new Set(live.map((instance) => instance.DomainNameDefinitionID))];
  const definitions = await Promise.all(definitionIds.map((id) => context.client.kind('DomainNameDefinition').get(id)));
  const byDomain = new Map<string, RuntimeDomain>();
  for (const definition of definitions.sort((a, b) => a.ID - b.ID)) {
    const domain = normalizedDomain(definition.Domain);
    if (!byDomain.has(domain)) byDomain.set(domain, { domain, type: zoneTypeOf(definition.Zone), definitionId: definition.ID });
  }
  return [...byDomain.values()].sort((a, b) => a.domain.localeCompare(b.domain));
}

const normalizedDomain = (domain: string): string => domain.toLowerCase().replace(/\.$/, '');

const zoneTypeOf = (zone: unknown): 'Public' | 'Private' => (String(zone).toLowerCase() === 'private' ? 'Private' : 'Public');
