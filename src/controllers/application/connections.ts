/**
 * How an application's workload reaches the applications it depends on: each dependency's first
 * Service (as its workload controller recorded it deployed) as <NAME>_HOST and <NAME>_PORT on
 * every container, NAME being the dependency's name in upper case. A database's or bucket's
 * connection reaches the workload through their own controllers (a Secret, a variable).
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { Manifest } from '../../model/manifest.ts';
import { parseResourceKey } from '../../model/resource-key.ts';
import type { Contribution, EnvVar } from '../shared/contributions.ts';

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

/** The variables naming each dependency's address, as one contribution. */
export function dependencyContribution(applicationName: string, addresses: readonly { name: string; host: string; port?: number }[]): Contribution | undefined {
  if (addresses.length === 0) return undefined;
  const env: EnvVar[] = addresses.flatMap(({ name, host, port }) => [{ name: `${envName(name)}_HOST`, value: host }, ...(port !== undefined ? [{ name: `${envName(name)}_PORT`, value: String(port) }] : [])]);
  return { description: `application ${applicationName}'s dependencies`, env };
}
