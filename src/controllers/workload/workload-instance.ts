/**
 * WorkloadInstance: its definition's resources on its runtime's cluster, and kept there.
 *
 * Each reconcile records the resources it will apply (WorkloadResourceInstances, the inventory —
 * before touching the cluster, so a crash half-way leaves nothing unaccounted for), applies what
 * is new or changed in dependency order with server-side apply, tells the agent what to watch
 * (the ThreeportWorkload), and — when everything applied — prunes what the definition no longer
 * has. Resources other controllers add to the instance's inventory are applied with it, and
 * removed when they schedule them for deletion; what they contribute to the instance's own resources
 * (an environment variable, an annotation) is applied with them. A new generation of the instance applies
 * everything; otherwise what is unchanged in the inventory is only looked at: what nobody touched
 * since threeport last saw it is left alone, what was changed or deleted is restored
 * (DriftCorrected) — or, with DriftPolicy DetectOnly, reported (DriftDetected) and left as it is.
 * Objects threeport did not make are never adopted, changed or deleted. Deleting the instance
 * removes every resource in reverse order and the objects attached to it.
 */
import { isDeepStrictEqual as sameJson } from 'node:util';
import { isBeingDeleted, isNotFound, type ApiClient } from '../../client/api-client.ts';
import { isStaleObjectError, RetryableError, TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { errorMessage } from '../../controller/redact.ts';
import { updateWithVersion } from '../../controller/write-back.ts';
import { mapConcurrently, SharedLoads } from '../../concurrency.ts';
import { API_VERSION } from '../../model/kind.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { parseResourceKey } from '../../model/resource-key.ts';
import { CONTROL_PLANE_LABEL, watchedResource } from '../../model/threeport-workload.ts';
import {
  applyAll,
  deleteAll,
  describeResource,
  FIELD_MANAGER,
  KubernetesApiError,
  labels,
  refOf,
  type ApplyResult,
  type DeleteResult,
  type KubernetesClient,
  type Ownership,
  type ResourceRef,
} from '../../platform/kubernetes/index.ts';
import { contributionsOf, type Contributions } from '../shared/contributions.ts';
import { clusterOf, controlPlaneIdOf, readyRuntime } from '../shared/runtime-cluster.ts';
import { stopTellingAgent, tellAgent } from '../shared/watch-list.ts';
import type { DesiredResource } from './desired-resources.ts';
import { DriftDamper } from './drift-damper.ts';
import { isThreeportNamespace, renderInstance } from './rendered-instance.ts';
import { VerifiedResources } from './verified-resources.ts';

export type WorkloadInstance = ObjectOf<'WorkloadInstance'>;
type ResourceInstance = ObjectOf<'WorkloadResourceInstance'>;

export const HEALTHY = 'Healthy';

export interface WorkloadSettings {
  /** How often every instance is re-verified against its cluster. @default 60000 */
  driftIntervalMs?: number;
}

/** What one reconciler (one controller replica) remembers between reconciles: nothing another replica needs. */
interface Memory {
  /** What threeport last saw of each resource: unchanged ones need no apply on re-verification. */
  verified: VerifiedResources;
  /** Per instance and resource: how often threeport had to correct it lately. */
  damper: DriftDamper;
  /**
   * A definition's resource definitions, read once per version of the definition: its reconciler
   * changes them before it marks the definition reconciled (a new version), and a thousand
   * instances of one definition need not read them a thousand times.
   */
  resourceDefinitions: SharedLoads<ObjectOf<'WorkloadResourceDefinition'>[]>;
}

export function workloadInstanceReconciler(settings: WorkloadSettings = {}): Reconciler<WorkloadInstance> {
  const memory: Memory = { verified: new VerifiedResources(), damper: new DriftDamper(), resourceDefinitions: new SharedLoads({ keep: true }) };
  return {
    kind: 'WorkloadInstance',
    statusCondition: HEALTHY,
    resyncIntervalMs: settings.driftIntervalMs ?? 60_000,
    maxRetryDelayMs: 60_000,
    async reconcile(context) {
      return context.operation === 'Deleted' ? remove(context, memory) : deploy(context, memory);
    },
  };
}

async function deploy(context: ReconcileContext<WorkloadInstance>, memory: Memory): Promise<ReconcileOutcome> {
  const { client: api, signal } = context;
  const instance = context.object;
  const definition = await api.kind('WorkloadDefinition').get(instance.WorkloadDefinitionID);
  if (definition.Reconciled !== true || definition.ObservedGeneration !== definition.Generation) {
    return { waiting: `workload definition ${definition.Name} is not reconciled yet${definition.Status ? ` (${definition.Status})` : ''}` };
  }
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
  if ('waiting' in target) return target;
  const { cluster } = target;
  const controlPlaneId = await controlPlaneIdOf(api);
  const isOurs = madeFor(instance.ID, controlPlaneId);

  const records = await api.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: instance.ID });
  const resourceDefinitions = await resourceDefinitionsOf(api, definition, memory.resourceDefinitions);
  const manifests = resourceDefinitions.map((resource) => ({ resourceDefinitionId: resource.ID, manifest: resource.JSONDefinition as Manifest }));
  const desired = await renderInstance(cluster, { instance, definitionName: definition.Name, manifests, records, controlPlaneId }, signal);
  await checkNamespaces(cluster, desired, instance, controlPlaneId, signal);

  const inventory = await recordInventory(api, instance, desired, records);
  const settled = (resource: DesiredResource): boolean => inventory.byKey.get(resource.key)?.Reconciled === true;

  // A new generation of the instance applies everything. Otherwise what the inventory has new or
  // changed (a definition edit, a resource another controller added) is applied as such, and
  // the rest is checked for drift.
  const newGeneration = instance.ObservedGeneration !== instance.Generation;
  const toApply = newGeneration ? desired : desired.filter((resource) => !settled(resource));
  const toVerify = newGeneration ? [] : desired.filter(settled);
  const results: VerifyResult[] = [
    ...(await applyAll(cluster, toApply.map((resource) => ({ key: resource.key, manifest: resource.manifest, owned: settled(resource) })), { signal, isOurs })),
    ...(await reverify(context, memory, cluster, toVerify, isOurs)),
  ];
  for (const result of results) {
    if (result.outcome === 'applied') memory.verified.remember(instance.ID, result.key, desired.find((resource) => resource.key === result.key)!.manifest, result.live);
  }
  await markApplied(api, results, inventory.byKey);
  // After the apply, so its generation stamps the agent's health; before the prune, so removals are not taken for drift.
  await applyThreeportWorkload(cluster, instance, desired, inventory.byKey, controlPlaneId, signal);

  // Drift left in place on purpose was reported as an event; it is not a failure.
  const failures = results.filter((result) => result.outcome === 'failed' || result.outcome === 'skipped');
  if (failures.length > 0) throw applyFailure(failures);
  // Only once everything applied: what replaces a removed resource may not be there yet.
  await prune(context, cluster, inventory.stale, records, isOurs);
  if (toApply.length > 0) await tellContributors(context, contributionsOf(instance));
  return undefined;
}

/** Whoever contributed to the resources just applied (`<Kind>/<ID>` keys) is told, so it need not poll to see its part is in. */
async function tellContributors(context: ReconcileContext<WorkloadInstance>, contributions: Contributions): Promise<void> {
  for (const key of Object.keys(contributions)) {
    const [kind, id] = key.split('/');
    if (!kind || !context.client.registry.find(kind)?.controller || !Number.isSafeInteger(Number(id))) continue;
    await context.requestReconcile(kind, Number(id), `workload instance ${context.object.Name} applied what it contributes`);
  }
}

/** An object threeport made for this instance: it carries the instance's and this control plane's labels. */
const madeFor =
  (instanceId: number, controlPlaneId: string): Ownership =>
  (live) =>
    live.metadata.labels?.[labels.WORKLOAD_INSTANCE] === String(instanceId) && live.metadata.labels[CONTROL_PLANE_LABEL] === controlPlaneId;

/** What became of each resource: applied, failed or skipped — or, on purpose, left as it is in the cluster. */
type VerifyResult = ApplyResult | { key: string; outcome: 'kept' };

function resourceDefinitionsOf(api: ApiClient, definition: ObjectOf<'WorkloadDefinition'>, cache: Memory['resourceDefinitions']): Promise<ObjectOf<'WorkloadResourceDefinition'>[]> {
  const key = `${api.baseUrl}|${definition.ID}|${definition.Version}`;
  return cache.get(key, () => api.unbound().kind('WorkloadResourceDefinition').listAll({ workloaddefinitionid: definition.ID }), api.signal);
}

/**
 * Namespaces the manifests bring are this instance's alone (one instance per runtime), and never
 * one threeport did not make. (The one threeport names for the instance is checked as any other
 * resource is, when it is applied.)
 */
async function checkNamespaces(cluster: KubernetesClient, desired: readonly DesiredResource[], instance: WorkloadInstance, controlPlaneId: string, signal: AbortSignal): Promise<void> {
  for (const { manifest, resourceDefinitionId } of desired) {
    if (manifest.kind !== 'Namespace' || resourceDefinitionId === undefined) continue;
    const live = await cluster.get(refOf(manifest), signal);
    if (!live) continue;
    const owner = live.metadata.labels?.[labels.WORKLOAD_INSTANCE];
    const ownerPlane = live.metadata.labels?.[CONTROL_PLANE_LABEL];
    if (owner === String(instance.ID) && ownerPlane === controlPlaneId) continue;
    if (owner === undefined) {
      throw new TerminalError(`namespace ${manifest.metadata.name} already exists and was not made by threeport; remove the Namespace from the manifests to deploy into it (set metadata.namespace on the resources), or choose another name`);
    }
    throw new TerminalError(
      `namespace ${manifest.metadata.name} on this runtime already belongs to workload instance ${owner}${ownerPlane === controlPlaneId ? '' : ' of another control plane'}: a definition that brings its own namespace can have one instance per runtime`,
    );
  }
}

interface Inventory {
  /** The instance's resource records for what is desired, by resource key. */
  byKey: Map<string, ResourceInstance>;
  /** Records of resources that are no longer desired. */
  stale: ResourceInstance[];
}

/**
 * The WorkloadResourceInstances for `desired`, created or updated before the cluster is touched:
 * a record whose manifest changed is not Reconciled until it is applied again. The instance's other
 * records are stale: no longer in the definition, scheduled for deletion by the controller that
 * added them, or a namespace threeport no longer needs.
 */
async function recordInventory(api: ApiClient, instance: WorkloadInstance, desired: readonly DesiredResource[], records: readonly ResourceInstance[]): Promise<Inventory> {
  const writes = api.kind('WorkloadResourceInstance');
  const existing = new Map<string, ResourceInstance>();
  for (const record of records) existing.set(String(record.ResourceKey), record);
  const byKey = new Map<string, ResourceInstance>();
  await mapConcurrently(desired, 8, async (resource) => {
    const record = existing.get(resource.key);
    if (record && resource.addedByOthers) {
      byKey.set(resource.key, record);
      return;
    }
    const fields = {
      JSONDefinition: resource.manifest,
      WorkloadInstanceID: instance.ID,
      ...(resource.resourceDefinitionId !== undefined && { WorkloadResourceDefinitionID: resource.resourceDefinitionId }),
    };
    const unchanged = record && sameJson(record.JSONDefinition, resource.manifest) && record.WorkloadResourceDefinitionID === resource.resourceDefinitionId;
    if (record && unchanged) {
      byKey.set(resource.key, record);
      return;
    }
    // Written straight away (the list just said what exists); a race with another writer of the
    // same key (a 409) falls back to create-or-update by the natural key.
    const write = record ? writes.update(record.ID, { ...fields, Reconciled: false }, { version: record.Version }) : writes.create(fields);
    const stored = await write.catch(async (error: unknown) => {
      if (!isRetryableWrite(error)) throw error;
      return (await writes.apply({ workloadinstanceid: instance.ID, resourcekey: resource.key }, { ...fields, Reconciled: false })).object;
    });
    byKey.set(resource.key, stored);
  });
  const wanted = new Set(desired.map((resource) => resource.key));
  const stale = records.filter((record) => !wanted.has(String(record.ResourceKey)));
  return { byKey, stale };
}

const isRetryableWrite = (error: unknown): boolean => error instanceof Error && 'status' in error && (error as { status: number }).status === 409;

/** The ThreeportWorkload that tells the agent what to watch, current with the inventory, stamped with the generation applied. */
async function applyThreeportWorkload(
  cluster: KubernetesClient,
  instance: WorkloadInstance,
  desired: readonly DesiredResource[],
  byKey: ReadonlyMap<string, ResourceInstance>,
  controlPlaneId: string,
  signal: AbortSignal,
): Promise<void> {
  const resources = desired.map((resource) => watchedResource(resource.manifest, byKey.get(resource.key)?.ID ?? 0));
  await tellAgent(cluster, { workloadType: 'WorkloadInstance', workloadInstanceId: instance.ID, workloadResourceInstances: resources }, controlPlaneId, instance.Generation, signal);
}

/**
 * Looks at resources applied before, and acts only on what changed since threeport last saw it:
 * restores it (DriftCorrected) — unless it keeps being changed back (DriftLoop: corrections wait
 * a while) — or with DriftPolicy DetectOnly reports it (DriftDetected).
 */
async function reverify(context: ReconcileContext<WorkloadInstance>, { verified, damper }: Memory, cluster: KubernetesClient, resources: readonly DesiredResource[], isOurs: Ownership): Promise<VerifyResult[]> {
  const { signal } = context;
  const instanceId = context.object.ID;
  const detectOnly = context.object.DriftPolicy === 'DetectOnly';
  return mapConcurrently(resources, 8, async (resource): Promise<VerifyResult> => {
    const { key, manifest } = resource;
    const what = describeResource(manifest);
    try {
      const live = await cluster.get(refOf(manifest), signal);
      const seen = live ? verified.compare(instanceId, key, manifest, live) : 'unknown';
      if (live && seen === 'current') return { key, outcome: 'applied', live };
      if (live && !isOurs(live) && !lostOurLabels(live)) {
        return { key, outcome: 'failed', error: new KubernetesApiError(409, `${what} was replaced in the cluster by an object threeport did not make; remove it to have threeport's back`, { reason: 'AlreadyExists' }) };
      }
      if (live && seen === 'desired') return { key, outcome: 'applied', live: await cluster.apply(manifest, { force: true, signal }) };
      if (detectOnly) {
        if (!live) {
          await context.recordEvent({ reason: 'DriftDetected', type: 'Warning', note: `${what} was deleted from the cluster; DriftPolicy is DetectOnly, so it stays deleted` });
          return { key, outcome: 'kept' };
        }
        const wouldBe = await cluster.apply(manifest, { force: true, dryRun: true, signal });
        const drift = changes(live, wouldBe);
        if (drift.length === 0) return { key, outcome: 'applied', live };
        await context.recordEvent({ reason: 'DriftDetected', type: 'Warning', note: `${what} was changed in the cluster (${drift.join(', ')}); DriftPolicy is DetectOnly, so it stays as it is` });
        return { key, outcome: 'kept' };
      }
      const damperKey = `${instanceId}|${key}`;
      if (damper.pausedFor(damperKey) > 0) return { key, outcome: 'kept' };
      const applied = await cluster.apply(manifest, { force: true, signal });
      const drift = live ? changes(live, applied) : ['deleted'];
      if (drift.length === 0) return { key, outcome: 'applied', live: applied };
      await context.recordEvent({
        reason: 'DriftCorrected',
        note: live ? `${what} was changed in the cluster (${drift.join(', ')}); threeport restored it` : `${what} was deleted from the cluster; threeport created it again`,
      });
      if (damper.corrected(damperKey)) {
        await context.recordEvent({
          reason: 'DriftLoop',
          type: 'Warning',
          note: `${what} keeps being changed in the cluster (${drift.join(', ')}): something else (an autoscaler, an operator) manages it too. threeport now restores it at most every few minutes; leave those fields out of the manifest, or set DriftPolicy DetectOnly`,
        });
      }
      return { key, outcome: 'applied', live: applied };
    } catch (error) {
      return { key, outcome: 'failed', error: error as Error };
    }
  });
}

/** Someone took threeport's labels off an object it applied (drift to restore), rather than it being another's object. */
function lostOurLabels(live: Manifest): boolean {
  const own = live.metadata.labels ?? {};
  const claimedByOthers = own[labels.WORKLOAD_INSTANCE] !== undefined || own[CONTROL_PLANE_LABEL] !== undefined;
  const appliedByThreeport = (live.metadata.managedFields as { manager?: string; operation?: string }[] | undefined)?.some((entry) => entry.manager === FIELD_MANAGER && entry.operation === 'Apply');
  return !claimedByOthers && appliedByThreeport === true;
}

/** What an apply changed in `before`, in a few words: spec (its generation moved), labels, annotations, or the object itself. */
function changes(before: Manifest, after: Manifest): string[] {
  const found: string[] = [];
  const generation = (object: Manifest) => object.metadata.generation;
  if (generation(before) !== undefined) {
    if (generation(before) !== generation(after)) found.push('spec');
  // A dry run answers with the live resourceVersion, so content is compared, not versions.
  } else if (!sameJson(strip(before), strip(after))) found.push('content');
  if (!sameJson(before.metadata.labels ?? {}, after.metadata.labels ?? {})) found.push('labels');
  if (!sameJson(before.metadata.annotations ?? {}, after.metadata.annotations ?? {})) found.push('annotations');
  return found;
}

/** The object without what the server changes by itself, and without labels and annotations (compared apart). */
const strip = (object: Manifest): unknown => {
  const { metadata, status: _status, ...rest } = object;
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, labels: _l, annotations: _a, ...meta } = metadata;
  return { ...rest, metadata: meta };
};

async function markApplied(api: ApiClient, results: readonly VerifyResult[], byKey: ReadonlyMap<string, ResourceInstance>): Promise<void> {
  const records = api.kind('WorkloadResourceInstance');
  const pending = results.filter((result) => result.outcome === 'applied' && byKey.get(result.key)?.Reconciled !== true);
  await mapConcurrently(pending, 8, async (result) => {
    const record = byKey.get(result.key)!;
    // Only for the manifest applied: a record given a new one since stays to be applied (the agent's status writes meanwhile do not count).
    const unchanged = (current: ResourceInstance): boolean => sameJson(current.JSONDefinition, record.JSONDefinition);
    await updateWithVersion(records, record, (current) => (current.Reconciled !== true && unchanged(current) ? { Reconciled: true } : undefined)).catch((error: unknown) =>
      isNotFound(error) || isStaleObjectError(error) ? undefined : Promise.reject(error),
    );
  });
}

/** Removes from the cluster what the instance no longer has (reverse order), then its records; objects not threeport's are left alone. */
async function prune(context: ReconcileContext<WorkloadInstance>, cluster: KubernetesClient, stale: readonly ResourceInstance[], all: readonly ResourceInstance[], isOurs: Ownership): Promise<void> {
  if (stale.length === 0) return;
  const results = await deleteAll(cluster, placedRefs(stale, all), { signal: context.signal, isOurs });
  await noteForeign(context, results);
  const failed = results.filter((result) => result.outcome === 'failed');
  if (failed.length > 0) throw new RetryableError(`cannot remove what the instance no longer has: ${failed.map((result) => errorMessage(result.error)).join('; ')}`);
  const records = context.client.kind('WorkloadResourceInstance');
  await mapConcurrently(stale, 8, (record) => records.delete(record.ID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error))));
}

/** Objects of a removed resource's name that threeport did not make stay, and the instance says so. */
async function noteForeign(context: ReconcileContext<WorkloadInstance>, results: readonly DeleteResult[]): Promise<void> {
  const foreign = results.filter((result) => result.outcome === 'foreign');
  if (foreign.length === 0) return;
  const names = foreign.map((result) => `${result.ref.kind} ${result.ref.namespace ? `${result.ref.namespace}/` : ''}${result.ref.name}`).join(', ');
  await context.recordEvent({ reason: 'LeftInPlace', type: 'Warning', note: `not deleted, threeport did not make them (another owner's objects under the same name): ${names}` });
}

/**
 * Where a recorded resource is in the cluster. Records threeport writes hold the manifest as
 * placed; one another controller added may leave out its namespace, and then it went where the
 * instance's resources go (the namespace the definition brings, else the one threeport made).
 * A namespace on a cluster-scoped kind is ignored.
 */
function placedRefs(records: readonly ResourceInstance[], all: readonly ResourceInstance[] = records): ResourceRef[] {
  const namespaces = all.filter((record) => parseResourceKey(String(record.ResourceKey)).kind === 'Namespace');
  const home = (namespaces.find((record) => record.WorkloadResourceDefinitionID !== undefined) ?? namespaces[0])?.ResourceKey;
  const homeName = home === undefined ? undefined : parseResourceKey(String(home)).name;
  return records.map((record) => {
    const ref = refOf(record.JSONDefinition as Manifest);
    return ref.namespace || !homeName || ref.kind === 'Namespace' ? ref : { ...ref, namespace: homeName };
  });
}

async function remove(context: ReconcileContext<WorkloadInstance>, memory: Memory): Promise<ReconcileOutcome> {
  const { client: api, signal } = context;
  const instance = context.object;
  const runtime = await api.kind('KubernetesRuntimeInstance').get(instance.KubernetesRuntimeInstanceID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  const forced = Boolean(runtime?.DeletionScheduled && runtime.ForceDelete);
  const cluster = runtime ? await clusterOf(runtime, (value) => context.decrypt(value)) : undefined;
  const records = await api.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: instance.ID });
  if (cluster) {
    const problems: string[] = [];
    // The agent stops watching first, so the deletions below are not reported as drift.
    await stopTellingAgent(cluster, 'WorkloadInstance', instance.ID, signal).catch((error: unknown) => problems.push(errorMessage(error)));
    const results = await deleteAll(cluster, placedRefs(records), { signal, isOurs: madeFor(instance.ID, await controlPlaneIdOf(api)) });
    await noteForeign(context, results);
    problems.push(...results.filter((result) => result.outcome === 'failed').map((result) => errorMessage(result.error)));
    if (problems.length > 0) {
      if (!forced) throw new RetryableError(`cannot remove the instance's resources from the cluster: ${problems.join('; ')}`);
      await context.recordEvent({ reason: 'CleanupSkipped', type: 'Warning', note: `its runtime is being force-deleted; left in the cluster: ${problems.join('; ')}` });
    }
  } else if (records.length > 0 && !forced) {
    throw new RetryableError(`cannot reach Kubernetes runtime ${runtime?.Name ?? instance.KubernetesRuntimeInstanceID} to remove the instance's resources`);
  }
  await deleteAttached(api, instance.ID);
  memory.verified.forget(instance.ID);
  memory.damper.forget(`${instance.ID}|`);
  // Its resource records, events and references go with its row (the store removes what belongs to it).
  return undefined;
}

/** Objects other controllers attached to the instance (a gateway, a database) are deleted with it, as in the original. */
async function deleteAttached(api: ApiClient, instanceId: number): Promise<void> {
  const references = await api.kind('AttachedObjectReference').listAll({ objecttype: `${API_VERSION}.WorkloadInstance`, objectid: instanceId });
  for (const reference of references) {
    const type = String(reference.AttachedObjectType).replace(`${API_VERSION}.`, '');
    if (type === 'Event' || !api.registry.find(type)) continue;
    try {
      await api.kind(type).delete(Number(reference.AttachedObjectID));
    } catch (error) {
      if (!isNotFound(error) && !isBeingDeleted(error)) throw error;
    }
  }
}

/** One error for every resource that failed: terminal when each was refused for its content (invalid manifests). */
function applyFailure(failures: readonly VerifyResult[]): Error {
  const messages = failures.map((failure) => {
    if (failure.outcome === 'failed') return errorMessage(failure.error);
    const { kind, name } = parseResourceKey(failure.key);
    return `${kind} ${name}: ${failure.outcome === 'skipped' ? failure.reason : failure.outcome}`;
  });
  const invalid = failures.every((failure) => failure.outcome === 'failed' && failure.error instanceof KubernetesApiError && (failure.error.status === 400 || failure.error.status === 422));
  const message = `${failures.length} resource(s) not applied: ${messages.join('; ')}`;
  return invalid ? new TerminalError(message) : new RetryableError(message);
}

