/**
 * The instances a delivery works on: those of an environment that run the build's repository,
 * found through ImageUse records (one indexed query per repository, one list per definition
 * using it), their health on the delivered image, and their pins.
 */
import { isNotFound, isStaleVersion, type ApiClient } from '../../client/api-client.ts';
import { childRecordsOf } from '../../model/application-children.ts';
import { canonicalRepository } from '../../model/container-images.ts';
import { conditionsOf, findCondition, RECONCILED, TERMINAL_FAILURE_REASON } from '../../model/conditions.ts';
import type { Environment } from '../../model/delivery-policy.ts';
import type { ApiObject } from '../../model/kind.ts';

export type MemberKind = 'WorkloadInstance' | 'HelmWorkloadInstance';

export interface Member {
  Kind: MemberKind;
  ID: number;
  Name: string;
  /** What the instance ran for the repository before this delivery: its pin, or null for the definition's image. */
  Previous: string | null;
  /** This delivery pinned it (from then on, another pin is someone else's). */
  Pinned?: boolean;
}

const memberKey = (kind: MemberKind, name: string): string => `${kind}/${name}`;

/** Every instance running the repository, by `Kind/Name`. */
export async function instancesUsing(api: ApiClient, repository: string): Promise<Map<string, ApiObject & { Kind: MemberKind }>> {
  const found = new Map<string, ApiObject & { Kind: MemberKind }>();
  const add = (kind: MemberKind, instances: readonly ApiObject[]): void => {
    for (const instance of instances) found.set(memberKey(kind, String(instance.Name)), { ...instance, Kind: kind });
  };
  for (const use of await api.kind('ImageUse').listAll({ repository: canonicalRepository(repository) })) {
    if (use.WorkloadDefinitionID !== undefined) add('WorkloadInstance', await api.kind('WorkloadInstance').listAll({ workloaddefinitionid: use.WorkloadDefinitionID }));
    if (use.HelmWorkloadDefinitionID !== undefined) add('HelmWorkloadInstance', await api.kind('HelmWorkloadInstance').listAll({ helmworkloaddefinitionid: use.HelmWorkloadDefinitionID }));
    if (use.HelmWorkloadInstanceID !== undefined) {
      const instance = await api.kind('HelmWorkloadInstance').get(use.HelmWorkloadInstanceID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
      if (instance) add('HelmWorkloadInstance', [instance]);
    }
  }
  return found;
}

/**
 * The environments with each tier's applications' workloads added to the instances they name (an
 * instance already in an earlier environment stays there: one environment per instance).
 */
export async function withTierMembers(api: ApiClient, environments: readonly Environment[]): Promise<Environment[]> {
  const placed = new Set(environments.flatMap((environment) => [...(environment.WorkloadInstances ?? []).map((name) => memberKey('WorkloadInstance', name)), ...(environment.HelmWorkloadInstances ?? []).map((name) => memberKey('HelmWorkloadInstance', name))]));
  const resolved: Environment[] = [];
  for (const environment of environments) {
    if (environment.Tier === undefined) {
      resolved.push(environment);
      continue;
    }
    const lists = { WorkloadInstance: [...(environment.WorkloadInstances ?? [])], HelmWorkloadInstance: [...(environment.HelmWorkloadInstances ?? [])] };
    for (const application of await api.kind('Application').listAll({ tier: environment.Tier })) {
      const workload = childRecordsOf(application).find((child) => child.Role === 'workload');
      if (!workload || (workload.Kind !== 'WorkloadInstance' && workload.Kind !== 'HelmWorkloadInstance')) continue;
      const key = memberKey(workload.Kind, workload.Name);
      if (placed.has(key)) continue;
      placed.add(key);
      lists[workload.Kind].push(workload.Name);
    }
    resolved.push({ ...environment, WorkloadInstances: lists.WorkloadInstance, HelmWorkloadInstances: lists.HelmWorkloadInstance });
  }
  return resolved;
}

/** The environment's instances among those running the repository, in the order the policy names them. */
export function membersOf(environment: Environment, using: ReadonlyMap<string, ApiObject & { Kind: MemberKind }>): (ApiObject & { Kind: MemberKind })[] {
  const named = [
    ...(environment.WorkloadInstances ?? []).map((name) => memberKey('WorkloadInstance', name)),
    ...(environment.HelmWorkloadInstances ?? []).map((name) => memberKey('HelmWorkloadInstance', name)),
  ];
  return named.flatMap((key) => {
    const instance = using.get(key);
    return instance ? [instance] : [];
  });
}

/** The reference the instance runs for the repository, if pinned. */
export function pinOf(instance: ApiObject, repository: string): string | null {
  const images = (instance.Images ?? {}) as Record<string, unknown>;
  const canonical = canonicalRepository(repository);
  const entry = Object.entries(images).find(([key]) => canonicalRepository(key) === canonical);
  return typeof entry?.[1] === 'string' ? entry[1] : null;
}

/**
 * Sets (or with null, removes) the instance's pin for the repository, only while it still runs
 * `expected` (compare and set: another writer's pin is never overwritten). Returns what it runs
 * now: `reference` when set or already so, another pin when someone else's is there, or
 * undefined when the instance is gone.
 */
export async function pin(api: ApiClient, member: Pick<Member, 'Kind' | 'ID'>, repository: string, reference: string | null, expected: string | null): Promise<string | null | undefined> {
  const kind = api.kind(member.Kind);
  for (let attempt = 0; ; attempt++) {
    const instance = await kind.get(member.ID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (!instance) return undefined;
    const current = pinOf(instance, repository);
    if (current === reference || current !== expected) return current;
    const canonical = canonicalRepository(repository);
    const images = Object.fromEntries(Object.entries((instance.Images ?? {}) as Record<string, string>).filter(([key]) => canonicalRepository(key) !== canonical));
    if (reference !== null) images[repository] = reference;
    try {
      await kind.update(member.ID, { Images: images }, { version: Number(instance.Version) });
      return reference;
    } catch (error) {
      if (attempt < 4 && isStaleVersion(error)) continue;
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

/** healthy; pending (not applied or reported yet); unhealthy (reported not Healthy at this generation); failed (will not get better). */
export type MemberHealth = { state: 'healthy' } | { state: 'pending' | 'unhealthy' | 'failed'; why: string };

/**
 * Whether a pinned instance is Healthy on its current generation: its controller applied it, and
 * the agent found every resource ready at that generation. (Whose pin it runs, the caller checks.)
 */
export function healthOf(instance: ApiObject): MemberHealth {
  const name = `${instance.Kind === 'HelmWorkloadInstance' ? 'helm workload instance' : 'workload instance'} ${String(instance.Name)}`;
  const generation = Number(instance.Generation ?? 0);
  const conditions = conditionsOf(instance);
  const reconciled = findCondition(conditions, RECONCILED);
  if (reconciled?.Status === 'False' && reconciled.Reason === TERMINAL_FAILURE_REASON && reconciled.ObservedGeneration === generation) {
    return { state: 'failed', why: `${name} failed: ${reconciled.Message ?? 'its controller gave up'}` };
  }
  if (instance.ObservedGeneration !== generation) return { state: 'pending', why: `${name}: the new image is not applied yet${instance.Status ? ` (${String(instance.Status)})` : ''}` };
  const healthy = findCondition(conditions, 'Healthy');
  if (!healthy || healthy.ObservedGeneration !== generation) return { state: 'pending', why: `${name}: no health report for the new image yet` };
  if (healthy.Status !== 'True') return { state: 'unhealthy', why: `${name} is ${healthy.Reason}${healthy.Message ? `: ${healthy.Message}` : ''}` };
  return { state: 'healthy' };
}
