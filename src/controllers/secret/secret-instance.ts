/**
 * SecretInstance: a definition's values as a Kubernetes Secret named after the instance, in the
 * namespace of the workload (or Helm workload) it is for. With the direct backend the control
 * plane writes that Secret itself; with aws-secrets-manager the External Secrets Operator syncs it
 * (external-secrets.ts). Where it goes is recorded before anything is written, so a retry, a move
 * (renamed, another workload, runtime or backend) or a delete always knows what to remove; a new
 * revision of the values is recorded as a restart due before it is delivered, so the restart the
 * workloads asked for happens even after a crash. Deleting the instance removes only its objects.
 */
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { backendOf, type SecretBackend } from '../../model/kinds/secret.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import type { KubernetesClient } from '../../platform/kubernetes/index.ts';
import { deliverSecret, withdrawSecret, type Deliverer } from '../shared/delivered-secret.ts';
import { clusterOf, controlPlaneIdOf, readyRuntime } from '../shared/runtime-cluster.ts';
import { helmReleaseNamespace, workloadNamespaceOf } from '../shared/workload-namespace.ts';
import { storeOf, type Store } from './secret-definition.ts';
import { deliverThroughOperator, ensureOperator, operatorCredentials, syncState, withdrawFromOperator, type OperatorCredentials } from './external-secrets.ts';
import { restartReaders } from './restarts.ts';
import { holdsValues, valuesOf } from './values.ts';

export type SecretInstance = ObjectOf<'SecretInstance'>;

/** The label on every object a secret instance puts into a cluster. */
export const SECRET_INSTANCE_LABEL = 'control-plane.threeport.io/secret-instance';
const READY = 'Ready';

/** Where the instance's values go (never the values). */
export interface Delivery {
  Backend: SecretBackend;
  KubernetesRuntimeInstanceID: number;
  Namespace: string;
  SecretName: string;
  /** What reads it: "WorkloadInstance web". */
  Workload: string;
  /** The definition's revision (`<ID>.<Generation>`) delivered. */
  Revision?: string;
  /** The values changed; the workloads that asked are restarted once the Secret holds the new ones. */
  RestartDue?: boolean;
}

export interface SecretInstanceSettings {
  /** How often a delivery waiting for the operator (or a workload) looks again. @default 5000 */
  pollIntervalMs?: number;
}

export function secretInstanceReconciler(settings: SecretInstanceSettings = {}): Reconciler<SecretInstance> {
  const pollMs = settings.pollIntervalMs ?? 5000;
  return {
    kind: 'SecretInstance',
    statusCondition: READY,
    async reconcile(context) {
      return context.operation === 'Deleted' ? withdraw(context) : deliver(context, pollMs);
    },
  };
}

const deliveryOf = (instance: SecretInstance): Delivery | undefined => (instance.Delivery as Delivery | null | undefined) ?? undefined;

const samePlace = (a: Delivery, b: Delivery): boolean =>
  a.Backend === b.Backend && a.KubernetesRuntimeInstanceID === b.KubernetesRuntimeInstanceID && a.Namespace === b.Namespace && a.SecretName === b.SecretName;

const delivererOf = (instance: SecretInstance, controlPlaneId: string): Deliverer => ({ label: SECRET_INSTANCE_LABEL, value: String(instance.ID), description: `secret instance ${instance.Name}`, controlPlaneId });

async function deliver(context: ReconcileContext<SecretInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const { client: api, signal } = context;
  const instance = context.object;
  const definition = await api.kind('SecretDefinition').get(instance.SecretDefinitionID);
  if (definition.Reconciled !== true || definition.ObservedGeneration !== definition.Generation) {
    return { waiting: `secret definition ${definition.Name} is not stored yet${definition.Status ? ` (${definition.Status})` : ''}`, requeueAfterMs: pollMs };
  }
  const values = valuesOf(definition, context.decrypt);
  const controlPlaneId = await controlPlaneIdOf(api);
  const by = delivererOf(instance, controlPlaneId);
  const reader = await readerOf(context, controlPlaneId);
  if ('waiting' in reader) return { ...reader, requeueAfterMs: pollMs };
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
  if ('waiting' in target) return { ...target, requeueAfterMs: pollMs };

  const backend = backendOf(definition);
  // Through the operator: where the definition keeps the values, and the operator itself first (a workload keeps its Secret while the operator cannot be installed).
  let operator: { store: Store; credentials: OperatorCredentials } | undefined;
  if (backend === 'aws-secrets-manager') {
    const store = storeOf(definition);
    if (!store) return { waiting: `secret definition ${definition.Name} has not recorded where its values are kept yet`, requeueAfterMs: pollMs };
    const credentials = await operatorCredentials(context, target);
    if ('waiting' in credentials) return credentials;
    const installed = await ensureOperator(context, target, credentials, controlPlaneId);
    if (!('installed' in installed)) return installed;
    operator = { store, credentials };
  }
  const place = { namespace: reader.namespace, name: String(instance.Name) };
  const revision = `${definition.ID}.${definition.Generation ?? 1}`;
  const previous = deliveryOf(instance);
  const next: Delivery = { Backend: backend, KubernetesRuntimeInstanceID: target.runtime.ID, Namespace: place.namespace, SecretName: place.name, Workload: reader.description, Revision: revision };
  if (previous && !samePlace(previous, next)) await withdrawDelivery(context, previous, by);
  // New values (a new revision of the definition) restart the workloads that asked, once the Secret holds them.
  else if (previous?.RestartDue || (previous?.Revision !== undefined && previous.Revision !== revision)) next.RestartDue = true;
  await recordDelivery(context, next);

  let synced: { note?: string } = {};
  if (!operator) {
    await deliverSecret(target.cluster, { ...place, data: values }, by, signal);
  } else {
    await deliverThroughOperator(context, target, operator.credentials, place, operator.store, revision, by);
    const state = await syncState(target, place, signal);
    if (!state.synced) return { waiting: state.why, requeueAfterMs: pollMs };
    synced = state;
  }
  if (next.RestartDue) {
    const now = await target.cluster.get({ apiVersion: 'v1', kind: 'Secret', ...place }, signal);
    if (!holdsValues(now, values)) return { waiting: `Secret ${place.namespace}/${place.name} does not hold the new values yet; the workloads that asked are restarted after`, requeueAfterMs: pollMs };
    const restarted = await restartReaders(target.cluster, place.namespace, place.name, signal);
    if (restarted.length > 0) await context.recordEvent({ reason: 'Restarted', note: `new values: restarted ${restarted.join(', ')} (annotated secrets.threeport.io/restart-on-change)` });
    delete next.RestartDue;
    await recordDelivery(context, next);
  }
  await context.setCondition({
    Type: READY,
    Status: 'True',
    Reason: backend === 'direct' ? 'Delivered' : 'Synced',
    Message: `${reader.description} reads Secret ${place.namespace}/${place.name} on runtime ${target.runtime.Name}${backend === 'direct' ? ', written by the control plane' : `, synced from AWS Secrets Manager (${definition.Name}) by the External Secrets Operator${synced.note ? ` (${synced.note})` : ''}`}`,
  });
  return undefined;
}

async function recordDelivery(context: ReconcileContext<SecretInstance>, delivery: Delivery): Promise<void> {
  await context.update((current) => (JSON.stringify(current.Delivery) === JSON.stringify(delivery) ? undefined : { Delivery: delivery }));
}

async function withdraw(context: ReconcileContext<SecretInstance>): Promise<ReconcileOutcome> {
  const delivery = deliveryOf(context.object);
  if (delivery) await withdrawDelivery(context, delivery, delivererOf(context.object, await controlPlaneIdOf(context.client)));
  return undefined;
}

/** Removes what a delivery put into its runtime's cluster; a runtime that is gone (or going) takes it with it. */
async function withdrawDelivery(context: ReconcileContext<SecretInstance>, delivery: Delivery, by: Deliverer): Promise<void> {
  const runtime = await context.client.kind('KubernetesRuntimeInstance').get(delivery.KubernetesRuntimeInstanceID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (!runtime || runtime.DeletionScheduled) return;
  const cluster: KubernetesClient | undefined = await clusterOf(runtime, (value) => context.decrypt(value));
  if (!cluster) return;
  const place = { namespace: delivery.Namespace, name: delivery.SecretName };
  if (delivery.Backend === 'direct') await withdrawSecret(cluster, place, by, context.signal);
  else await withdrawFromOperator(cluster, place, by, context.signal);
}

/** The workload the instance is for, and the namespace its Secret goes into. */
async function readerOf(context: ReconcileContext<SecretInstance>, controlPlaneId: string): Promise<{ namespace: string; description: string } | { waiting: string }> {
  const api = context.client;
  const instance = context.object;
  const missing = (what: string) => (error: unknown) => {
    if (isNotFound(error)) throw new TerminalError(`${what} does not exist: point the secret instance at an existing one`);
    throw error;
  };
  if (instance.WorkloadInstanceID) {
    const workload = await api.kind('WorkloadInstance').get(instance.WorkloadInstanceID).catch(missing(`workload instance ${instance.WorkloadInstanceID}`));
    sameRuntime(instance, workload, `workload instance ${workload.Name}`);
    const namespace = await workloadNamespaceOf(api, workload);
    if (!namespace) return { waiting: `workload instance ${workload.Name} is not deployed yet: its Secret goes into its namespace` };
    return { namespace, description: `WorkloadInstance ${workload.Name}` };
  }
  const helmWorkload = await api.kind('HelmWorkloadInstance').get(Number(instance.HelmWorkloadInstanceID)).catch(missing(`Helm workload instance ${instance.HelmWorkloadInstanceID}`));
  sameRuntime(instance, helmWorkload, `Helm workload instance ${helmWorkload.Name}`);
  // Its namespace exists once the release was installed.
  if (helmWorkload.ObservedGeneration === undefined) return { waiting: `Helm workload instance ${helmWorkload.Name} is not installed yet: its Secret goes into its namespace` };
  return { namespace: helmReleaseNamespace(helmWorkload, controlPlaneId), description: `HelmWorkloadInstance ${helmWorkload.Name}` };
}

function sameRuntime(instance: SecretInstance, workload: { KubernetesRuntimeInstanceID: number }, what: string): void {
  if (workload.KubernetesRuntimeInstanceID !== instance.KubernetesRuntimeInstanceID) {
    throw new TerminalError(`${what} runs on runtime ${workload.KubernetesRuntimeInstanceID}, not on the secret instance's runtime ${instance.KubernetesRuntimeInstanceID}: set KubernetesRuntimeInstanceID to the workload's`);
  }
}
