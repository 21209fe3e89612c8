/**
 * DomainNameInstance: DNS records for its workload instance's gateways. The domain's hosted zone
 * is found (or, for a public zone, made) in Route53 with the runtime's AWS account, and the
 * runtime's external-dns is installed (on first use) or upgraded to publish every domain its
 * instances use — the original tied one external-dns to the first domain a cluster saw. The
 * records themselves are external-dns's: it makes them from the gateways' routes and removes
 * them when the routes go, touching only records of this runtime's owner id.
 */
import { TerminalError, RetryableError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { supportServices } from '../../model/support-services.ts';
import { AwsProblem, ensureHostedZone, route53Endpoint, route53Of, type AwsAccountAccess } from '../../platform/aws/index.ts';
import { accessOf, awsAccountOfRuntime } from '../shared/aws-account.ts';
import { controlPlaneIdOf, readyRuntime, type ReadyRuntime } from '../shared/runtime-cluster.ts';
import { EXTERNAL_DNS_CREDENTIALS_SECRET, externalDnsValues } from '../support-services/service-values.ts';
import { ensureSupportService } from '../support-services/support-services.ts';

export type DomainNameInstance = ObjectOf<'DomainNameInstance'>;
const READY = 'Ready';

export function domainNameInstanceReconciler(): Reconciler<DomainNameInstance> {
  return {
    kind: 'DomainNameInstance',
    statusCondition: READY,
    maxRetryDelayMs: 60_000,
    async reconcile(context) {
      return context.operation === 'Deleted' ? unpublish(context) : publish(context);
    },
  };
}

async function publish(context: ReconcileContext<DomainNameInstance>): Promise<ReconcileOutcome> {
  const { client: api, signal } = context;
  const instance = context.object;
  const domain = await api.kind('DomainNameDefinition').get(instance.DomainNameDefinitionID);
  const workload = await api.kind('WorkloadInstance').get(instance.WorkloadInstanceID);
  if (workload.KubernetesRuntimeInstanceID !== instance.KubernetesRuntimeInstanceID) {
    throw new TerminalError(`its workload instance ${workload.Name} runs on runtime ${workload.KubernetesRuntimeInstanceID}, not on this domain name's runtime ${instance.KubernetesRuntimeInstanceID}`);
  }
  const zoneType = String(domain.Zone).toLowerCase() === 'private' ? 'Private' : 'Public';
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
  if ('waiting' in target) return target;
  const account = await awsAccountOfRuntime(api, target.runtime);
  if ('waiting' in account) return account;
  const access = accessOf(account, (value) => context.decrypt(value));
  const controlPlaneId = await controlPlaneIdOf(api);

  const zone = await ensureHostedZone(route53Of(access), account.Name, { domain: domain.Domain, type: zoneType, reference: `threeport-${controlPlaneId.slice(0, 8)}-${domain.ID}` }, signal).catch(asReconcileError);
  if (zone.created) {
    await context.recordEvent({ reason: 'HostedZoneCreated', note: `made the ${zoneType.toLowerCase()} hosted zone ${zone.name} (${zone.id}) in AWS account ${account.Name}${zone.nameServers.length ? `; delegate ${domain.Domain} to ${zone.nameServers.join(', ')}` : ''}` });
  }
  const installed = await updateExternalDns(context, target, access, controlPlaneId);
  if (installed) return installed;
  await context.setCondition({ Type: READY, Status: 'True', Reason: 'Published', Message: `records for ${domain.Domain} go into hosted zone ${zone.name} (${zone.id}) in AWS account ${account.Name}, made by the runtime's external-dns` });
  return undefined;
}

async function unpublish(context: ReconcileContext<DomainNameInstance>): Promise<ReconcileOutcome> {
  const { client: api } = context;
  const instance = context.object;
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value)).catch((error: unknown) => {
    if (error instanceof TerminalError) return { waiting: 'its runtime is being deleted' }; // external-dns goes with it
    throw error;
  });
  if ('waiting' in target) return undefined;
  const account = await awsAccountOfRuntime(api, target.runtime);
  if ('waiting' in account) return undefined; // no account: external-dns cannot have been installed for it
  return updateExternalDns(context, target, accessOf(account, (value) => context.decrypt(value)), await controlPlaneIdOf(api));
}

/**
 * external-dns on the runtime publishing exactly the domains of its live domain name instances,
 * re-checked after the write: two instances reconciled at once each write what they saw, and the
 * later one must see the other.
 */
async function updateExternalDns(context: ReconcileContext<DomainNameInstance>, target: ReadyRuntime, access: AwsAccountAccess, controlPlaneId: string): Promise<ReconcileOutcome> {
  const domains = await domainsOfRuntime(context, target.runtime.ID);
  if (domains.length === 0) return undefined; // the last one gone: external-dns stays, publishing nothing new (its records went with the routes)
  await applyCredentials(context, target, access);
  const endpoint = route53Endpoint();
  const values = externalDnsValues({ domains, ownerId: `threeport-${controlPlaneId.slice(0, 8)}-${target.runtime.ID}`, region: access.region, ...(endpoint && { endpoint }) });
  const state = await ensureSupportService(context, target, 'external-dns', values);
  if (!('installed' in state)) return state;
  const now = await domainsOfRuntime(context, target.runtime.ID);
  if (now.join(',') !== domains.join(',')) throw new RetryableError('the domains of the runtime changed while external-dns was updated: updating it again');
  return undefined;
}

async function domainsOfRuntime(context: ReconcileContext<DomainNameInstance>, runtimeId: number): Promise<string[]> {
  const instances = await context.client.kind('DomainNameInstance').listAll({ kubernetesruntimeinstanceid: runtimeId });
  const live = instances.filter((instance) => !instance.DeletionScheduled);
  const definitionIds = [...new Set(live.map((instance) => instance.DomainNameDefinitionID))];
  const definitions = await Promise.all(definitionIds.map((id) => context.client.kind('DomainNameDefinition').get(id)));
  return [...new Set(definitions.map((definition) => definition.Domain.toLowerCase().replace(/\.$/, '')))].sort();
}

/**
 * The account's keys, as the Secret external-dns reads them from: written straight into the
 * cluster (never into an API object, where a read would return them).
 */
async function applyCredentials(context: ReconcileContext<DomainNameInstance>, target: ReadyRuntime, access: AwsAccountAccess): Promise<void> {
  if (!access.accessKeyId || !access.secretAccessKey) {
    throw new TerminalError(`AWS account ${access.name} has no access keys for external-dns to use on runtime ${target.runtime.Name}: give the account an AccessKeyID and SecretAccessKey (a role needs a workload identity in the cluster, which EKS runtimes get)`);
  }
  const { namespace } = supportServices['external-dns'];
  const { signal } = context;
  const labels = { 'app.kubernetes.io/managed-by': 'threeport' };
  if (!(await target.cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace }, signal))) {
    await target.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } }, { signal });
  }
  await target.cluster.apply(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: EXTERNAL_DNS_CREDENTIALS_SECRET, namespace, labels }, type: 'Opaque', stringData: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey } },
    { signal, force: true },
  );
}

function asReconcileError(error: unknown): never {
  if (error instanceof AwsProblem) throw error.permanent ? new TerminalError(error.message) : new RetryableError(error.message);
  throw error;
}
