/**
 * How an application's workload reaches the applications it depends on: each dependency's first
 * Service (as its workload controller recorded it deployed) as <NAME>_HOST and <NAME>_PORT on
 * every container, NAME being the dependency's name in upper case; a dependency on another runtime
 * by its gateway's public address. A database's or bucket's
 * connection reaches the workload through their own controllers (a Secret, a variable).
 */
import type { ApiClient } from '../../client/api-client.ts';
import { childRecordsOf } from '../../model/application-children.ts';
import { hostOf } from '../../model/gateway-addresses.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { Manifest } from '../../model/manifest.ts';
import { parseResourceKey } from '../../model/resource-key.ts';
import type { Contribution, EnvVar } from '../shared/contributions.ts';
import { gatewayPortsOf } from '../shared/gateway-ports.ts';

export const envName = (name: string): string => name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

interface ServicePort {
  port?: number;
}

/** The address of the workload instance's first Service; undefined while it has none deployed. */
export async function serviceAddress(client: ApiClient, workloadInstanceId: number): Promise<{ host: string; port?: number } | undefined> {
  const records = await client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workloadInstanceId });
  const service = records
    .filter((record) => !record.ScheduledForDeletion && parseResourceKey(String(record.ResourceKey)).kind === 'Service')
    .map((record) => record.JSONDefinition as Manifest)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
  if (!service) return undefined;
  const port = ((service.spec as { ports?: ServicePort[] } | undefined)?.ports ?? [])[0]?.port;
  return { host: `${service.metadata.name}.${service.metadata.namespace ?? 'default'}.svc.cluster.local`, ...(port !== undefined && { port }) };
}

/**
 * Where a dependency on another runtime is reached: its gateway's host and first served port,
 * when it has a gateway on a domain (a cluster-local name would not resolve from there).
 */
export async function publicAddress(client: ApiClient, dependency: ApiObject): Promise<{ host: string; port?: number } | undefined> {
  const gateway = childRecordsOf(dependency).find((record) => record.Role === 'gateway-definition');
  if (!gateway) return undefined;
  const definition = await client.kind('GatewayDefinition').get(gateway.ID).catch(() => undefined);
  if (!definition?.DomainNameDefinitionID) return undefined;
  const domain = await client.kind('DomainNameDefinition').get(definition.DomainNameDefinitionID);
  const { httpPorts, tcpPorts } = await gatewayPortsOf(client, definition.ID);
  const port = [...httpPorts.filter((candidate) => !candidate.httpsRedirect), ...tcpPorts][0]?.port;
  return { host: hostOf(definition.SubDomain, domain.Domain), ...(port !== undefined && { port }) };
}

/** The variables naming each dependency's address, as one contribution. */
export function dependencyContribution(applicationName: string, addresses: readonly { name: string; host: string; port?: number }[]): Contribution | undefined {
  if (addresses.length === 0) return undefined;
  const env: EnvVar[] = addresses.flatMap(({ name, host, port }) => [{ name: `${envName(name)}_HOST`, value: host }, ...(port !== undefined ? [{ name: `${envName(name)}_PORT`, value: String(port) }] : [])]);
  return { description: `application ${applicationName}'s dependencies`, env };
}
