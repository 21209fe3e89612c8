/**
 * WorkloadPlan: what a proposed definition or instance would change in each cluster. Every
 * instance the proposal reaches (all of a definition's) is rendered as the instance reconciler
 * would render it, and each resource server-side-applied with dryRun against its cluster: the
 * cluster's admission and defaulting decide what would be stored, and that is compared with what
 * is there. Nothing is written to any cluster; the plan records the answer and is done.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ApiClient } from '../../client/api-client.ts';
import { RetryableError, TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, Reconciler } from '../../controller/reconciler.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { PlannedChange } from '../../model/kinds/workload.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { KubernetesApiError, labels, refOf, type KubernetesClient } from '../../platform/kubernetes/index.ts';
import { controlPlaneIdOf, readyRuntime } from '../shared/runtime-cluster.ts';
import { parseManifests } from './manifests.ts';
import { renderInstance } from './rendered-instance.ts';

type WorkloadPlan = ObjectOf<'WorkloadPlan'>;
type WorkloadInstance = ObjectOf<'WorkloadInstance'>;

/** One instance the proposal reaches, as it would be. */
interface Target {
  instance: Pick<WorkloadInstance, 'ID' | 'Name' | 'Overrides' | 'Images' | 'Contributions'>;
  runtimeId: number | undefined;
  definitionName: string;
  manifests: { manifest: Manifest }[];
  existing: boolean;
}

export function workloadPlanReconciler(): Reconciler<WorkloadPlan> {
  return {
    kind: 'WorkloadPlan',
    async reconcile(context) {
      if (context.operation === 'Deleted' || context.object.Summary !== undefined) return undefined; // a plan is made once
      const targets = await targetsOf(context.client, context.object);
      const changes: PlannedChange[] = [];
      for (const target of targets) changes.push(...(await planInstance(context, target)));
      await context.update({ Changes: changes, Summary: summaryOf(context.object, targets, changes) });
      return undefined;
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

async function targetsOf(api: ApiClient, plan: WorkloadPlan): Promise<Target[]> {
  const proposed = isRecord(plan.Proposed) ? plan.Proposed : {};
  const proposedManifests = typeof proposed.YAMLDocument === 'string' ? parseManifests(proposed.YAMLDocument).map(({ manifest }) => ({ manifest })) : undefined;
  if (plan.Target === 'WorkloadDefinition') {
    if (!proposedManifests) throw new TerminalError('a plan of a workload definition needs Proposed.YAMLDocument');
    const definition = await api.kind('WorkloadDefinition').findByName(plan.TargetName);
    const instances = definition ? await api.kind('WorkloadInstance').listAll({ workloaddefinitionid: definition.ID }) : [];
    return instances.map((instance) => ({ instance, runtimeId: instance.KubernetesRuntimeInstanceID, definitionName: plan.TargetName, manifests: proposedManifests, existing: true }));
  }
  const existing = await api.kind('WorkloadInstance').findByName(plan.TargetName);
  const definitionId = (proposed.WorkloadDefinitionID ?? existing?.WorkloadDefinitionID) as number | undefined;
  const definition = definitionId !== undefined && definitionId > 0 ? await api.kind('WorkloadDefinition').get(definitionId) : undefined;
  const manifests =
    proposedManifests ??
    (definition ? (await api.kind('WorkloadResourceDefinition').listAll({ workloaddefinitionid: definition.ID })).map((resource) => ({ manifest: resource.JSONDefinition as Manifest })) : undefined);
  if (!manifests) throw new TerminalError(`workload instance ${plan.TargetName}: its definition is neither given (Proposed.YAMLDocument) nor found`);
  const runtimeId = (proposed.KubernetesRuntimeInstanceID ?? existing?.KubernetesRuntimeInstanceID ?? (await api.kind('KubernetesRuntimeInstance').listAll({ defaultruntime: true }))[0]?.ID) as number | undefined;
  const instance = { ID: existing?.ID ?? 0, Name: plan.TargetName, Contributions: existing?.Contributions, Overrides: 'Overrides' in proposed ? proposed.Overrides : existing?.Overrides, Images: 'Images' in proposed ? proposed.Images : existing?.Images };
  return [{ instance, runtimeId, definitionName: definition?.Name ?? String(proposed.DefinitionName ?? plan.TargetName), manifests, existing: existing !== undefined }];
}

async function planInstance(context: ReconcileContext<WorkloadPlan>, target: Target): Promise<PlannedChange[]> {
  const { client: api, signal } = context;
  const name = target.instance.Name;
  if (target.runtimeId === undefined) return [{ Instance: name, Problem: 'no Kubernetes runtime named, and none is the default' }];
  // A runtime not ready is what the plan says, not a reason to retry it.
  const ready = await readyRuntime(api, target.runtimeId, (value) => context.decrypt(value)).catch((error: unknown) =>
    error instanceof RetryableError || error instanceof TerminalError ? { waiting: error.message } : Promise.reject(error),
  );
  if ('waiting' in ready) return [{ Instance: name, Problem: `cannot plan against its runtime: ${ready.waiting}` }];
  const { cluster, runtime } = ready;
  const controlPlaneId = await controlPlaneIdOf(api);
  const records = target.existing ? await api.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: target.instance.ID }) : [];
  let desired;
  try {
    desired = await renderInstance(cluster, { instance: target.instance, definitionName: target.definitionName, manifests: target.manifests, records, controlPlaneId }, signal);
  } catch (error) {
    if (error instanceof TerminalError) return [{ Instance: name, Runtime: runtime.Name, Problem: error.message }];
    throw error;
  }
  const newNamespaces = new Set<string>();
  const changes: PlannedChange[] = [];
  for (const { key, manifest } of desired) {
    const base = { Instance: name, Runtime: runtime.Name, Resource: key };
    const live = await cluster.get(refOf(manifest), signal);
    if (!live && manifest.kind === 'Namespace') newNamespaces.add(manifest.metadata.name);
    if (live && !isOurs(live, target.instance.ID, controlPlaneId, target.existing)) {
      // What is there is not shown: it is not this instance's to show.
      changes.push({ ...base, Problem: 'exists in the cluster and was not made by threeport for this instance: the apply would refuse it' });
      continue;
    }
    changes.push({ ...base, ...(await dryRunApply(cluster, manifest, live, newNamespaces, signal)) });
  }
  const wanted = new Set(desired.map((resource) => resource.key));
  for (const record of records) {
    if (wanted.has(String(record.ResourceKey)) || record.ScheduledForDeletion) continue;
    changes.push({ Instance: name, Runtime: runtime.Name, Resource: String(record.ResourceKey), Action: 'delete', Before: shown(comparable(record.JSONDefinition as Manifest)) });
  }
  return changes;
}

async function dryRunApply(cluster: KubernetesClient, manifest: Manifest, live: Manifest | undefined, newNamespaces: ReadonlySet<string>, signal: AbortSignal): Promise<Partial<PlannedChange>> {
  try {
    const after = comparable(await cluster.apply(manifest, { dryRun: true, force: true, signal }));
    if (!live) return { Action: 'create', After: shown(after) };
    const before = comparable(live);
    return isDeepStrictEqual(before, after) ? { Action: 'unchanged' } : { Action: 'update', Before: shown(before), After: shown(after) };
  } catch (error) {
    // Its namespace is created by the same apply: the cluster cannot check it before.
    if (!live && manifest.metadata.namespace && newNamespaces.has(manifest.metadata.namespace)) return { Action: 'create', After: shown(comparable(manifest)) };
    if (error instanceof KubernetesApiError) return { ...(live ? { Action: 'update' } : { Action: 'create' }), After: shown(comparable(manifest)), Problem: `the cluster would refuse it: ${error.message}` };
    throw error;
  }
}

const isOurs = (live: Manifest, instanceId: number, controlPlaneId: string, existing: boolean): boolean =>
  existing && live.metadata.labels?.[labels.WORKLOAD_INSTANCE] === String(instanceId) && live.metadata.labels[CONTROL_PLANE_LABEL] === controlPlaneId;

const CLUSTER_ANNOTATIONS = new Set(['deployment.kubernetes.io/revision', 'kubectl.kubernetes.io/last-applied-configuration']);

/** A Secret as a plan may show it: which keys, never their values. */
function shown(manifest: Manifest): Manifest {
  if (manifest.kind !== 'Secret') return manifest;
  const redacted = { ...manifest } as Record<string, unknown>;
  for (const key of ['data', 'stringData']) {
    const values = redacted[key];
    if (isRecord(values)) redacted[key] = Object.fromEntries(Object.keys(values).map((name) => [name, '[redacted]']));
  }
  return redacted as Manifest;
}

/** The object without what the cluster keeps for itself (status, bookkeeping), so two states compare as a person reads them. */
function comparable(manifest: Manifest): Manifest {
  const { status: _status, ...rest } = manifest as Manifest & { status?: unknown };
  const { managedFields: _managed, resourceVersion: _version, uid: _uid, generation: _generation, creationTimestamp: _created, ...metadata } = rest.metadata as Manifest['metadata'] & Record<string, unknown>;
  const annotations = Object.fromEntries(Object.entries((metadata.annotations ?? {})).filter(([key]) => !CLUSTER_ANNOTATIONS.has(key)));
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...rest, metadata };
}

function summaryOf(plan: WorkloadPlan, targets: readonly Target[], changes: readonly PlannedChange[]): string {
  if (targets.length === 0) return `no instance of workload definition ${plan.TargetName}: nothing would roll out`;
  const count = (action: string): number => changes.filter((change) => change.Action === action).length;
  const problems = changes.filter((change) => change.Problem).length;
  const touched = new Set(changes.filter((change) => change.Action && change.Action !== 'unchanged').map((change) => change.Instance));
  const resources = [`${count('create')} to create`, `${count('update')} to update`, `${count('delete')} to delete`, `${count('unchanged')} unchanged`].join(', ');
  return `${touched.size} of ${targets.length} instance(s) would change: ${resources}${problems > 0 ? `; ${problems} problem(s)` : ''}`;
}
