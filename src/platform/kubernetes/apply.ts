/**
 * Applying a set of manifests to a cluster the way every controller needs it: in dependency order
 * (apply-order.ts), CRDs waited on until established before anything that uses them, server-side
 * apply that takes fields back from other managers only on resources that are ours, and one
 * result per resource saying what happened or why it failed.
 */
import { mapConcurrently, pause } from '../../concurrency.ts';
import { inApplyOrder, inDeleteOrder } from './apply-order.ts';
import { describeResource, refOf, type KubernetesClient, type Manifest, type ResourceRef } from './client.ts';
import { KubernetesApiError, isKubernetesConflict } from './errors.ts';
import { healthOf } from '../../model/resource-health.ts';

export interface DesiredResource {
  /** The caller's key for it (a WorkloadResourceInstance's ResourceKey). */
  key: string;
  manifest: Manifest;
  /** We applied it before (it is in our inventory): fields others took over are taken back. */
  owned: boolean;
}

export type ApplyResult =
  | { key: string; outcome: 'applied'; live: Manifest }
  | { key: string; outcome: 'failed'; error: KubernetesApiError | Error }
  /** Not tried: something it depends on failed first. */
  | { key: string; outcome: 'skipped'; reason: string };

/** Whether an object in the cluster is the caller's (it carries the caller's labels). */
export type Ownership = (live: Manifest) => boolean;

export interface ApplyOptions {
  signal: AbortSignal;
  /**
   * Whether an object found in the cluster that is not `owned` yet may be taken over: one applied
   * by us before a crash lost the record. Any other existing object is refused, never silently
   * adopted. @default nothing is taken over
   */
  isOurs?: Ownership;
  /** Server-side dry run: what would be stored, nothing stored. */
  dryRun?: boolean;
  /** Resources applied at once within a stage. @default 8 */
  concurrency?: number;
  /** How long to wait for CRDs to be established. @default 60000 */
  crdTimeoutMs?: number;
}

/** Stages whose failure leaves later stages without what they need. */
const FOUNDATION_KINDS = new Set(['Namespace', 'CustomResourceDefinition']);

export async function applyAll(client: KubernetesClient, resources: readonly DesiredResource[], options: ApplyOptions): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  // Namespaces this apply created: nothing can be in them that is not ours, so their resources need no look first.
  const created = new Set<string>();
  let blocked: string | undefined;
  for (const stage of inApplyOrder(resources.map((resource) => ({ ...resource, kind: resource.manifest.kind })))) {
    if (blocked) {
      for (const resource of stage) results.push({ key: resource.key, outcome: 'skipped', reason: blocked });
      continue;
    }
    const stageResults = await mapConcurrently(stage, options.concurrency ?? 8, (resource) => applyOne(client, resource, options, created));
    results.push(...stageResults);
    const failed = stageResults.find((result) => result.outcome === 'failed');
    const foundation = stage.some((resource) => FOUNDATION_KINDS.has(resource.manifest.kind));
    if (failed && foundation) blocked = `${describeResource(stage.find((r) => r.key === failed.key)!.manifest)} failed to apply`;
    const crds = stageResults.filter((result): result is Extract<ApplyResult, { outcome: 'applied' }> => result.outcome === 'applied' && result.live.kind === 'CustomResourceDefinition');
    if (crds.length > 0 && !options.dryRun) {
      try {
        await Promise.all(crds.map((crd) => waitEstablished(client, crd.live, options.signal, options.crdTimeoutMs ?? 60_000)));
      } catch (error) {
        blocked = (error as Error).message;
      }
    }
  }
  return results;
}

async function applyOne(client: KubernetesClient, resource: DesiredResource, options: ApplyOptions, createdNamespaces: Set<string>): Promise<ApplyResult> {
  const apply = (force: boolean) => client.apply(resource.manifest, { force, dryRun: options.dryRun ?? false, signal: options.signal });
  const refuse = (live: Manifest): ApplyResult => ({
    key: resource.key,
    outcome: 'failed',
    error: new KubernetesApiError(409, `${describeResource(resource.manifest)} already exists and was not made by this workload instance${ownerNote(live)}: remove it, or rename it in the manifest`, { reason: 'AlreadyExists' }),
  });
  try {
    if (resource.owned) return { key: resource.key, outcome: 'applied', live: await apply(true) };
    // Not applied by us yet: an apply with our field manager would silently adopt an object of the
    // same name, so look first.
    const isOurs = options.isOurs ?? (() => false);
    const { namespace } = resource.manifest.metadata;
    const inFreshNamespace = namespace !== undefined && resource.manifest.kind !== 'Namespace' && createdNamespaces.has(namespace);
    const existing = inFreshNamespace ? undefined : await client.get(refOf(resource.manifest), options.signal);
    if (existing) return isOurs(existing) ? { key: resource.key, outcome: 'applied', live: await apply(true) } : refuse(existing);
    try {
      const live = await apply(false);
      if (live.kind === 'Namespace' && !options.dryRun) createdNamespaces.add(live.metadata.name);
      return { key: resource.key, outcome: 'applied', live };
    } catch (error) {
      if (!isKubernetesConflict(error)) throw error;
      // Created by someone else between the look and the apply.
      const live = await client.get(refOf(resource.manifest), options.signal);
      if (!live) throw error;
      return isOurs(live) ? { key: resource.key, outcome: 'applied', live: await apply(true) } : refuse(live);
    }
  } catch (error) {
    return { key: resource.key, outcome: 'failed', error: error as Error };
  }
}

/** Who made an object, when threeport did: ` (it belongs to workload instance 12)`. */
function ownerNote(live: Manifest): string {
  const entries = Object.entries(live.metadata.labels ?? {}).filter(([key]) => key.startsWith('control-plane.threeport.io/') && key.endsWith('-instance'));
  return entries.length > 0 ? ` (it belongs to ${entries.map(([key, value]) => `${key.slice('control-plane.threeport.io/'.length).replaceAll('-', ' ')} ${value}`).join(', ')})` : '';
}

async function waitEstablished(client: KubernetesClient, crd: Manifest, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ref = refOf(crd);
  let live: Manifest | undefined = crd;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    if (live && healthOf(live).readiness === 'Ready') break;
    if (Date.now() > deadline) throw new Error(`${describeResource(crd)} was not established within ${Math.round(timeoutMs / 1000)}s`);
    if (!(await pause(delay, signal))) throw signal.reason as Error;
    live = await client.get(ref, signal);
  }
  const spec = crd.spec as { group?: string; versions?: { name: string }[] } | undefined;
  for (const version of spec?.versions ?? []) client.mapper.invalidate(`${spec?.group}/${version.name}`);
}

export interface DeleteResult {
  ref: ResourceRef;
  /** `foreign`: the object of that name is not ours (isOurs said no), so it was left alone. */
  outcome: 'deleted' | 'absent' | 'foreign' | 'failed';
  error?: Error;
}

/**
 * Deletes resources in reverse apply order; a failure in one stage does not stop the others.
 * With `isOurs`, each is looked at first and deleted only if it is ours — and only that very
 * object (its UID), not one recreated under the name since.
 */
export async function deleteAll(client: KubernetesClient, refs: readonly ResourceRef[], options: { signal: AbortSignal; isOurs?: Ownership }): Promise<DeleteResult[]> {
  const { signal, isOurs } = options;
  const results: DeleteResult[] = [];
  for (const stage of inDeleteOrder(refs)) {
    results.push(
      ...(await mapConcurrently(stage, 8, async (ref): Promise<DeleteResult> => {
        try {
          if (!isOurs) return { ref, outcome: await client.delete(ref, signal) };
          const live = await client.get(ref, signal).catch((error: unknown) => (error instanceof KubernetesApiError && error.reason === 'NoKindMatch' ? undefined : Promise.reject(error)));
          if (!live) return { ref, outcome: 'absent' };
          if (!isOurs(live)) return { ref, outcome: 'foreign' };
          return { ref, outcome: await client.delete(ref, signal, { ...(live.metadata.uid && { uid: live.metadata.uid }) }) };
        } catch (error) {
          return { ref, outcome: 'failed', error: error as Error };
        }
      })),
    );
  }
  return results;
}

