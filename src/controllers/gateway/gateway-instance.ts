/**
 * GatewayInstance: makes its workload instance reachable. On first use per runtime the support
 * services are installed (the Gateway API and Envoy Gateway; cert-manager when a port has TLS);
 * then the Gateway, its routes to the workload's Service and, for TLS, the Issuer and Certificate
 * are added to the workload instance, which applies and watches them like its own. An edit of the
 * gateway (ports, path, domain) changes exactly those objects; deleting it removes exactly them,
 * and the workload keeps running. Status says what is still missing, and the URL once served.
 */
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { certificateIssuerNamed, LETS_ENCRYPT, type CertificateIssuer } from '../../model/certificate-issuer.ts';
import { gatewayAddresses, hostOf } from '../../model/gateway-addresses.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { type Adder, addResources, removeAddedResources, type ResourceRecord } from '../shared/added-resources.ts';
import { readyRuntime } from '../shared/runtime-cluster.ts';
import { ensureSupportServices, SUPPORT_SERVICE_POLL_MS } from '../support-services/support-services.ts';
import { gatewayPortsOf } from '../shared/gateway-ports.ts';
import { checkPorts } from './gateway-definition.ts';
import { gatewayObjectName, GatewayProblem, gatewayResources, type ServicePort } from './gateway-resources.ts';

export type GatewayInstance = ObjectOf<'GatewayInstance'>;

/** Marks what a gateway instance added to its workload instance. */
export const GATEWAY_INSTANCE_LABEL = 'control-plane.threeport.io/gateway-instance';
const READY = 'Ready';

export interface GatewaySettings {
  /** Where TLS certificates come from. @default ACME at Let's Encrypt's production directory */
  issuer?: CertificateIssuer;
  /** How often a gateway's live state (certificate, address) is looked at again. @default 60000 */
  checkIntervalMs?: number;
}


export function gatewayInstanceReconciler(settings: GatewaySettings = {}): Reconciler<GatewayInstance> {
  const issuer = settings.issuer ?? { kind: 'acme', server: LETS_ENCRYPT };
  return {
    kind: 'GatewayInstance',
    statusCondition: READY,
    resyncIntervalMs: settings.checkIntervalMs ?? 60_000,
    maxRetryDelayMs: 60_000,
    async reconcile(context) {
      return context.operation === 'Deleted' ? remove(context) : serve(context, issuer);
    },
  };
}

const adderOf = (instance: GatewayInstance): Adder => ({ label: GATEWAY_INSTANCE_LABEL, value: String(instance.ID), description: `gateway instance ${instance.Name}` });

async function serve(context: ReconcileContext<GatewayInstance>, defaultIssuer: CertificateIssuer): Promise<ReconcileOutcome> {
  const { client: api } = context;
  const instance = context.object;
  const definition = await api.kind('GatewayDefinition').get(instance.GatewayDefinitionID);
  // The definition's own issuer (a profile's choice) over the control plane's.
  const issuer = (definition.CertificateIssuer ? certificateIssuerNamed(definition.CertificateIssuer) : undefined) ?? defaultIssuer;
  if (definition.Reconciled !== true || definition.ObservedGeneration !== definition.Generation) {
    return { waiting: `gateway definition ${definition.Name} is not reconciled yet${definition.Status ? ` (${definition.Status})` : ''}` };
  }
  const workload = await api.kind('WorkloadInstance').get(instance.WorkloadInstanceID);
  if (workload.DeletionScheduled) throw new TerminalError(`its workload instance ${workload.Name} is being deleted`);
  if (workload.KubernetesRuntimeInstanceID !== instance.KubernetesRuntimeInstanceID) {
    throw new TerminalError(`its workload instance ${workload.Name} runs on runtime ${workload.KubernetesRuntimeInstanceID}, not on this gateway's runtime ${instance.KubernetesRuntimeInstanceID}: give both the same runtime`);
  }
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
  if ('waiting' in target) return target;

  // Checked here too: a port row edited directly is seen by the instance's check, not the definition's.
  const { httpPorts, tcpPorts } = await gatewayPortsOf(api, definition.ID);
  checkPorts(definition, { httpPorts, tcpPorts });
  const domain = definition.DomainNameDefinitionID ? await api.kind('DomainNameDefinition').get(definition.DomainNameDefinitionID) : undefined;
  const host = domain ? hostOf(definition.SubDomain, domain.Domain) : undefined;
  const tls = httpPorts.some((port) => port.tls) || tcpPorts.some((port) => port.tls);
  const pending = await ensureSupportServices(context, target, [{ service: 'gateway' }, ...(tls ? [{ service: 'cert-manager' as const }] : [])]);
  if (pending) return pending;

  const records = await api.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workload.ID });
  const service = serviceOf(records, definition.ServiceName, adderOf(instance));
  // Soon while the workload has not been deployed once (its records come then), else less often.
  if ('waiting' in service) return { ...service, requeueAfterMs: workload.ObservedGeneration === undefined ? SUPPORT_SERVICE_POLL_MS : 15_000 };
  const name = gatewayObjectName({ id: instance.ID, name: String(instance.Name) });
  let manifests: Manifest[];
  try {
    manifests = gatewayResources({
      name,
      namespace: service.namespace,
      ...(host && { host }),
      httpPorts,
      tcpPorts,
      service,
      issuer,
      ...(domain?.AdminEmail && { adminEmail: domain.AdminEmail }),
      labels: {},
    });
  } catch (error) {
    if (error instanceof GatewayProblem) throw new TerminalError(error.message);
    throw error;
  }
  const added = await addResources(context, workload.ID, adderOf(instance), manifests);
  if (!added.settled) {
    const now = await api.kind('WorkloadInstance').get(workload.ID);
    return { waiting: `workload instance ${workload.Name} is applying the gateway's objects${now.Status ? ` (${String(now.Status)})` : ''}`, requeueAfterMs: SUPPORT_SERVICE_POLL_MS };
  }

  const live = (kind: string): Manifest | undefined => [...added.records.values()].find((record) => (record.JSONDefinition as Manifest).kind === kind)?.RuntimeDefinition as Manifest | undefined;
  const gateway = live('Gateway');
  const address = gatewayAddress(gateway);
  const served = gatewayAddresses(host ?? address ?? '<gateway address>', httpPorts, tcpPorts).join(', ');
  const certificate = tls ? readiness(live('Certificate')) : undefined;
  const programmed = readiness(gateway, 'Programmed');
  const conflicts = listenerProblems(gateway);
  const dns = host && domain ? await dnsNote(context, domain.ID, workload.ID) : '';
  if (conflicts) {
    await context.setCondition({ Type: READY, Status: 'False', Reason: 'ListenerConflict', Message: `${conflicts}: another gateway on this cluster serves the same port${host ? ' and host' : ''}; change the port or the host` });
  } else if (certificate && !certificate.ready) {
    await context.setCondition({ Type: READY, Status: 'False', Reason: 'CertificateNotReady', Message: `certificate for ${host} is not issued yet (${certificate.message}); will serve ${served}${dns}` });
  } else if (!programmed.ready) {
    await context.setCondition({ Type: READY, Status: 'False', Reason: 'GatewayNotProgrammed', Message: `Envoy Gateway has not programmed the gateway yet (${programmed.message}); will serve ${served}${dns}` });
  } else if (!address && !host) {
    await context.setCondition({ Type: READY, Status: 'False', Reason: 'AddressPending', Message: 'the gateway has no address yet' });
  } else {
    await context.setCondition({ Type: READY, Status: 'True', Reason: 'Serving', Message: `${served}${dns}` });
  }
  return undefined;
}

async function remove(context: ReconcileContext<GatewayInstance>): Promise<ReconcileOutcome> {
  const instance = context.object;
  const gone = await removeAddedResources(context, instance.WorkloadInstanceID, adderOf(instance)).catch((error: unknown) => (isNotFound(error) ? true : Promise.reject(error)));
  return gone ? undefined : { waiting: `workload instance ${instance.WorkloadInstanceID} is removing the gateway's objects`, requeueAfterMs: SUPPORT_SERVICE_POLL_MS };
}

/** The Service the gateway routes to: the one named, or the workload's only Service (never one a gateway added). */
function serviceOf(records: readonly ResourceRecord[], serviceName: string | undefined, adder: Adder): { name: string; namespace: string; ports: ServicePort[] } | { waiting: string } {
  const services = records
    .map((record) => record.JSONDefinition as Manifest)
    .filter((manifest) => manifest.kind === 'Service' && manifest.metadata.labels?.[adder.label] === undefined);
  const named = serviceName ? services.filter((manifest) => manifest.metadata.name === serviceName) : services;
  if (named.length === 0) {
    return { waiting: serviceName ? `the workload instance has no Service ${serviceName}` : 'the workload instance has no Service to route to: add one to its definition' };
  }
  if (named.length > 1) {
    return { waiting: `the workload instance has ${named.length} Services (${named.map((manifest) => manifest.metadata.name).join(', ')}): set the gateway definition's ServiceName to the one to route to` };
  }
  const service = named[0]!;
  if (!service.metadata.namespace) return { waiting: `Service ${service.metadata.name} has not been placed in a namespace yet` };
  const ports = ((service.spec as { ports?: { port: number; name?: string }[] } | undefined)?.ports ?? []).map((port) => ({ port: Number(port.port), ...(port.name && { name: port.name }) }));
  return { name: service.metadata.name, namespace: service.metadata.namespace, ports };
}

/** Listeners the Gateway API implementation reports in conflict (with another gateway's on the merged proxy). */
function listenerProblems(gateway: Manifest | undefined): string | undefined {
  const listeners = (gateway?.status as { listeners?: { name: string; conditions?: { type: string; status: string; message?: string }[] }[] } | undefined)?.listeners ?? [];
  const conflicted = listeners.filter((listener) => listener.conditions?.some((condition) => condition.type === 'Conflicted' && condition.status === 'True'));
  return conflicted.length > 0 ? `listener${conflicted.length > 1 ? 's' : ''} ${conflicted.map((listener) => listener.name).join(', ')} in conflict` : undefined;
}

/** Says so when no domain name instance publishes the gateway's domain for its workload (the records are then the user's to make). */
async function dnsNote(context: ReconcileContext<GatewayInstance>, domainDefinitionId: number, workloadInstanceId: number): Promise<string> {
  const published = await context.client.kind('DomainNameInstance').list({ domainnamedefinitionid: domainDefinitionId, workloadinstanceid: workloadInstanceId }, { size: 1 });
  return published.objects.length > 0 ? '' : ' (no domain name instance publishes its DNS records: create one, or make them yourself)';
}

function gatewayAddress(gateway: Manifest | undefined): string | undefined {
  const addresses = (gateway?.status as { addresses?: { value?: string }[] } | undefined)?.addresses ?? [];
  return addresses.find((address) => address.value)?.value;
}

/** A cert-manager or Gateway API condition, as a user reads it. */
function readiness(object: Manifest | undefined, type = 'Ready'): { ready: boolean; message: string } {
  const conditions = (object?.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] } | undefined)?.conditions ?? [];
  const condition = conditions.find((candidate) => candidate.type === type);
  if (!condition) return { ready: false, message: object ? 'nothing has reported on it yet' : 'not seen in the cluster yet' };
  return { ready: condition.status === 'True', message: [condition.reason, condition.message].filter(Boolean).join(': ') || condition.status };
}
