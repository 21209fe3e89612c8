/**
 * Applying a set of manifests to a cluster the way every controller needs it: in dependency order
 * (apply-order.ts), CRDs waited on until established before anything that uses them, server-side
 * apply that takes fields back from other managers only on resources that are ours, and one
 * result per resource saying what happened or why it failed.
 */
import { mapConcurrently } from '../../concurrency.ts';
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

export interface ApplyOptions {
  signal: AbortSignal;
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
  let blocked: string | undefined;
  for (const stage of inApplyOrder(resources.map((resource) => ({ ...resource, kind: resource.manifest.kind })))) {
    if (blocked) {
      for (const resource of stage) results.push({ key: resource.key, outcome: 'skipped', reason: blocked });
      continue;
    }
    const stageResults = await mapConcurrently(stage, options.concurrency ?? 8, (resource) => applyOne(client, resource, options));
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

async function applyOne(client: KubernetesClient, resource: DesiredResource, options: ApplyOptions): Promise<ApplyResult> {
  const apply = (force: boolean) => client.apply(resource.manifest, { force, dryRun: options.dryRun ?? false, signal: options.signal });
  try {
    return { key: resource.key, outcome: 'applied', live: await apply(resource.owned) };
  } catch (error) {
    if (!resource.owned && isKubernetesConflict(error)) {
      // Not in our inventory, but ours all the same (applied by us before a crash lost the record)?
      const live = await client.get(refOf(resource.manifest), options.signal).catch(() => undefined);
      if (live && ownedBy(live, resource.manifest)) {
        try {
          return { key: resource.key, outcome: 'applied', live: await apply(true) };
        } catch (again) {
          return { key: resource.key, outcome: 'failed', error: again as Error };
        }
      }
      return {
        key: resource.key,
        outcome: 'failed',
        error: new KubernetesApiError(409, `${(error as Error).message}; it exists and was not made by this workload instance — remove it, or rename it in the manifest`, { reason: 'Conflict' }),
      };
    }
    return { key: resource.key, outcome: 'failed', error: error as Error };
  }
}

/** Whether the live object carries the same instance label value as the manifest we apply. */
function ownedBy(live: Manifest, manifest: Manifest): boolean {
  const ours = manifest.metadata.labels ?? {};
  const theirs = live.metadata.labels ?? {};
  const instanceKeys = Object.keys(ours).filter((key) => key.endsWith('-instance') && key.startsWith('control-plane.threeport.io/'));
  return instanceKeys.length > 0 && instanceKeys.every((key) => theirs[key] === ours[key]);
}

async function waitEstablished(client: KubernetesClient, crd: Manifest, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ref = refOf(crd);
  let live: Manifest | undefined = crd;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    if (live && healthOf(live).readiness === 'Ready') break;
    if (Date.now() > deadline) throw new Error(`${describeResource(crd)} was not established within ${Math.round(timeoutMs / 1000)}s`);
    await sleep(delay, signal);
    live = await client.get(ref, signal);
  }
  const spec = crd.spec as { group?: string; versions?: { name: string }[] } | undefined;
  for (const version of spec?.versions ?? []) client.mapper.invalidate(`${spec?.group}/${version.name}`);
}

export interface DeleteResult {
  ref: ResourceRef;
  outcome: 'deleted' | 'absent' | 'failed';
  error?: Error;
}

/** Deletes resources in reverse apply order; a failure in one stage does not stop the others. */
export async function deleteAll(client: KubernetesClient, refs: readonly ResourceRef[], signal: AbortSignal): Promise<DeleteResult[]> {
  const results: DeleteResult[] = [];
  for (const stage of inDeleteOrder(refs)) {
    results.push(
      ...(await mapConcurrently(stage, 8, async (ref): Promise<DeleteResult> => {
        try {
          return { ref, outcome: await client.delete(ref, signal) };
        } catch (error) {
          return { ref, outcome: 'failed', error: error as Error };
        }
      })),
    );
  }
  return results;
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
