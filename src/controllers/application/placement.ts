/**
 * Where an application's workload runs when it names requirements instead of a runtime: an
 * existing runtime that meets them (ready ones first, then the default runtime, then the one
 * fewest applications are placed on, so applications spread), or — when none does — one provisioned from
 * the requirements (EKS, through the AWS controller; a local simulated cluster for Location Local). A placement is kept while its runtime
 * still meets the requirements: a new runtime never moves running workloads.
 */
import { createHash } from 'node:crypto';
import type { ApiClient } from '../../client/api-client.ts';
import type { RuntimeRequirements } from '../../model/application-spec.ts';
import type { ApiObject } from '../../model/kind.ts';
import { locations } from '../../model/kinds/kubernetes-runtime.ts';
import { unreadiness } from '../../model/readiness.ts';
import { registry } from '../../model/registry.ts';

export interface Placement {
  KubernetesRuntimeInstanceID: number;
  Name: string;
  Reason: string;
  Provisioned: boolean;
}

export type PlacementDecision = { runtime: ApiObject; reason: string } | { provision: RuntimeRequirements; reason: string } | { none: string };

const requirementKeys = ['Location', 'InfraProvider', 'NodeSize', 'NodeProfile', 'HighAvailability', 'DnsProvider'] as const;

/** The requirements as a person reads them. */
export const describeRequirements = (requirements: RuntimeRequirements): string =>
  [...requirementKeys.filter((key) => requirements[key] !== undefined).map((key) => `${key} ${String(requirements[key])}`), ...(requirements.NodeMaximum !== undefined ? [`NodeMaximum ≥ ${requirements.NodeMaximum}`] : [])].join(', ') || 'none';

/** Which requirements the runtime (with its definition) does not meet. */
export function unmet(requirements: RuntimeRequirements, runtime: ApiObject, definition: ApiObject | undefined): string[] {
  // A DnsProvider requirement is met by a runtime whose definition names that provider (an unnamed one is whatever the control plane's is).
  const actual: Record<string, unknown> = { Location: runtime.Location, InfraProvider: definition?.InfraProvider, NodeSize: definition?.NodeSize, NodeProfile: definition?.NodeProfile, HighAvailability: definition?.HighAvailability ?? false, DnsProvider: definition?.DnsProvider };
  const misses: string[] = requirementKeys.filter((key) => requirements[key] !== undefined && actual[key] !== requirements[key]);
  if (requirements.NodeMaximum !== undefined && Number(definition?.NodeMaximum ?? 0) < requirements.NodeMaximum) misses.push('NodeMaximum');
  return misses;
}

const isRequirement = (requirements: RuntimeRequirements): boolean => requirementKeys.some((key) => requirements[key] !== undefined) || requirements.NodeMaximum !== undefined;

/** How many applications are placed on the runtime (placed ones may not have made their workloads yet): counted by the API, not listed. */
async function applicationsOn(client: ApiClient, runtimeId: number): Promise<number> {
  return (await client.kind('Application').list({ placementruntimeid: runtimeId }, { size: 1 })).total;
}

/**
 * `fromProfile`: the requirements come from a profile, which is operations' consent to provision
 * (an application alone never makes a runtime: developers do not own runtimes).
 */
export async function placeWorkload(client: ApiClient, applicationName: string, requirements: RuntimeRequirements, current: Placement | undefined, fromProfile: boolean): Promise<PlacementDecision> {
  const runtimes = (await client.kind('KubernetesRuntimeInstance').listAll()).filter((runtime) => !runtime.DeletionScheduled);
  const definitions = new Map((await client.kind('KubernetesRuntimeDefinition').listAll()).map((definition) => [definition.ID, definition]));
  const definitionOf = (runtime: ApiObject) => definitions.get(Number(runtime.KubernetesRuntimeDefinitionID));
  const kept = current && runtimes.find((runtime) => runtime.ID === current.KubernetesRuntimeInstanceID);
  if (kept && unmet(requirements, kept, definitionOf(kept)).length === 0) return { runtime: kept, reason: current.Reason };

  if (!isRequirement(requirements)) {
    const fallback = runtimes.find((runtime) => runtime.DefaultRuntime === true);
    return fallback ? { runtime: fallback, reason: 'the default runtime (the application names no runtime and no requirements)' } : { none: 'the application names no runtime or requirements and there is no default runtime: name one (Runtime: {Name}), give requirements, or register a default runtime' };
  }
  const kind = registry.get('KubernetesRuntimeInstance');
  // Ties go a different way for each application, so applications placed at once spread too.
  const tieBreak = (runtime: ApiObject) => createHash('sha256').update(`${applicationName}/${String(runtime.ID)}`).digest().readUInt32BE(0);
  const meeting = runtimes.filter((runtime) => unmet(requirements, runtime, definitionOf(runtime)).length === 0);
  const candidates = (await Promise.all(meeting.map(async (runtime) => ({ runtime, ready: unreadiness(kind, runtime) === undefined, default: runtime.DefaultRuntime === true, load: await applicationsOn(client, Number(runtime.ID)) }))))
    .sort((a, b) => Number(b.ready) - Number(a.ready) || Number(b.default) - Number(a.default) || a.load - b.load || tieBreak(a.runtime) - tieBreak(b.runtime));
  const wanted = describeRequirements(requirements);
  const best = candidates[0];
  if (best) {
    const why = [best.ready ? 'ready' : 'not ready yet, but no ready runtime meets them', ...(best.default ? ['the default runtime'] : []), `${best.load} application${best.load === 1 ? '' : 's'} placed on it`];
    return { runtime: best.runtime, reason: `meets the requirements (${wanted}) of ${candidates.length} runtime${candidates.length === 1 ? '' : 's'} that do: ${why.join(', ')}` };
  }
  if (!fromProfile) {
    return { none: `no runtime meets the requirements (${wanted}); threeport provisions runtimes only from a profile (operations' defaults): register a matching runtime, or name a profile (or tier) whose Runtime has InfraProvider eks (or Location Local)` };
  }
  // The original's Location Local is a cluster on the control plane's machine.
  const provider = requirements.InfraProvider ?? (requirements.Location === 'Local' ? 'kind' : undefined);
  if (provider === 'kind') {
    if (requirements.Location !== 'Local') return { none: `no runtime meets the requirements (${wanted}); threeport provisions kind runtimes only as local simulated clusters: set Location Local, or register a matching runtime` };
    return { provision: { ...requirements, InfraProvider: 'kind' }, reason: `no runtime met the requirements (${wanted}): provisioned a local simulated cluster on the control plane's machine` };
  }
  if (provider !== 'eks') {
    return { none: `no runtime meets the requirements (${wanted}), and threeport provisions EKS runtimes and local simulated ones only: register a matching runtime, or set InfraProvider eks (or Location Local) in the profile's Runtime` };
  }
  if (!requirements.Location || !locations[requirements.Location]) {
    return { none: `no runtime meets the requirements (${wanted}); provisioning one on EKS needs a Location with an AWS region (e.g. NorthAmerica:NewYork)` };
  }
  return { provision: requirements, reason: `no runtime met the requirements (${wanted}): provisioned one on EKS in ${requirements.Location}` };
}
