/**
 * SecretInstance: a definition's values as a Kubernetes Secret named after the instance, in the
 * namespace of the workload (or Helm workload) it is for. With the direct backend the control
 * plane writes that Secret itself (server-side apply, labelled as this instance's); with
 * aws-secrets-manager the External Secrets Operator, installed once per runtime as a support
 * service, syncs it from the store through a SecretStore and an ExternalSecret of the instance's.
 * New values are delivered again (the operator told to sync at once), and the workloads that
 * asked for it are restarted once the Secret holds them. Deleting the instance removes only its
 * own objects; the operator stays for the runtime's other secrets.
 */
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { backendOf, type SecretBackend } from '../../model/kinds/secret.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { secretsManagerEndpoint } from '../../platform/aws/index.ts';
import type { KubernetesClient, ResourceRef } from '../../platform/kubernetes/index.ts';
import { supportServiceRoleOf, accessOf } from '../shared/aws-account.ts';
import { deliverSecret, withdrawSecret, type SecretDelivery } from '../shared/delivered-secret.ts';
import { clusterOf, controlPlaneIdOf, readyRuntime, type ReadyRuntime } from '../shared/runtime-cluster.ts';
import { helmReleaseNamespace, workloadNamespaceOf } from '../shared/workload-namespace.ts';
import { ensureSupportService, SUPPORT_SERVICE_POLL_MS } from '../support-services/support-services.ts';
import { externalSecretsValues } from '../support-services/service-values.ts';
import { ACCESS_KEY_ID, EXTERNAL_SECRETS_API, externalSecret, SECRET_ACCESS_KEY, secretStore, type StoreAccess } from './external-secrets.ts';
import { restartReaders } from './restarts.ts';
import { holdsValues, valuesOf } from './values.ts';

export type SecretInstance = ObjectOf<'SecretInstance'>;
type SecretDefinition = ObjectOf<'SecretDefinition'>;

/** The label on every object a secret instance puts into a cluster. */
export const SECRET_INSTANCE_LABEL = 'control-plane.threeport.io/secret-instance';
const READY = 'Ready';

/** What the instance records of where its values went (never the values). */
export interface Delivery {
  Backend: SecretBackend;
  KubernetesRuntimeInstanceID: number;
  Namespace: string;
  SecretName: string;
  /** What reads it: "WorkloadInstance web". */
  Workload: string;
  /** New values were delivered; the workloads that asked are restarted once the Secret holds them. */
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

const deliveryOf = (instance: SecretInstance): Delivery | undefined => (instance.Delivery as Delivery | undefined) ?? undefined;

async function deliver(context: ReconcileContext<SecretInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const { client: api, signal } = context;
  const instance = context.object;
  const definition = await api.kind('SecretDefinition').get(instance.SecretDefinitionID);
  if (definition.Reconciled !== true || definition.ObservedGeneration !== definition.Generation) {
    return { waiting: `secret definition ${definition.Name} is not stored yet${definition.Status ? ` (${definition.Status})` : ''}`, requeueAfterMs: pollMs };
  }
  const values = valuesOf(definition, context.decrypt);
  const controlPlaneId = await controlPlaneIdOf(api);
  const reader = await readerOf(context, controlPlaneId);
  if ('waiting' in reader) return { ...reader, requeueAfterMs: pollMs };
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
  if ('waiting' in target) return { ...target, requeueAfterMs: pollMs };

  const backend = backendOf(definition);
  const place = { namespace: reader.namespace, name: String(instance.Name) };
  const previous = deliveryOf(instance);
  // Moved (another workload, name, runtime or backend): what it delivered before goes.
  if (previous && !sameDelivery(previous, { Backend: backend, KubernetesRuntimeInstanceID: target.runtime.ID, Namespace: place.namespace, SecretName: place.name })) await withdrawDelivery(context, previous, controlPlaneId);
  const live = await target.cluster.get(secretRef(place), signal);
  const changed = live !== undefined && !holdsValues(live as { data?: Record<string, string> }, values);
  const labels = { 'app.kubernetes.io/managed-by': 'threeport', [SECRET_INSTANCE_LABEL]: String(instance.ID), [CONTROL_PLANE_LABEL]: controlPlaneId };

  if (backend === 'direct') {
    await deliverSecret(target.cluster, { ...place, data: values, owner: ownerOf(instance), controlPlaneId }, signal);
  } else {
    const operator = await ensureSupportService(context, target, 'external-secrets', await operatorValues(context, target));
    if (!('installed' in operator)) return { waiting: operator.waiting, requeueAfterMs: operator.requeueAfterMs };
    const access = await storeAccess(context, definition, target, place, controlPlaneId);
    await target.cluster.apply(secretStore(place.name, place.namespace, access, labels), { force: true, signal });
    await target.cluster.apply(externalSecret(place.name, place.namespace, definition.Name, definition.Generation ?? 1, labels), { force: true, signal });
  }

  const delivery: Delivery = { Backend: backend, KubernetesRuntimeInstanceID: target.runtime.ID, Namespace: place.namespace, SecretName: place.name, Workload: reader.description, ...((changed || previous?.RestartDue) && { RestartDue: true }) };
  if (delivery.RestartDue) {
    const now = await target.cluster.get(secretRef(place), signal);
    if (!holdsValues(now as { data?: Record<string, string> } | undefined, values)) {
      await recordDelivery(context, delivery);
      return { waiting: `the External Secrets Operator has not synced the new values into Secret ${place.namespace}/${place.name} yet; the workloads that asked are restarted after`, requeueAfterMs: pollMs };
    }
    const restarted = await restartReaders(target.cluster, place.namespace, place.name, signal);
    if (restarted.length > 0) await context.recordEvent({ reason: 'Restarted', note: `new values: restarted ${restarted.join(', ')} (annotated secrets.threeport.io/restart-on-change)` });
    delete delivery.RestartDue;
  }
  await recordDelivery(context, delivery);
  await context.setCondition({
    Type: READY,
    Status: 'True',
    Reason: backend === 'direct' ? 'Delivered' : 'Synced',
    Message: `${reader.description} reads Secret ${place.namespace}/${place.name} on runtime ${target.runtime.Name}${backend === 'direct' ? ', written by the control plane' : `, synced from AWS Secrets Manager (${definition.Name}) by the External Secrets Operator`}`,
  });
  return undefined;
}

async function recordDelivery(context: ReconcileContext<SecretInstance>, delivery: Delivery): Promise<void> {
  await context.update((current) => (JSON.stringify(current.Delivery) === JSON.stringify(delivery) ? undefined : { Delivery: delivery }));
}

async function withdraw(context: ReconcileContext<SecretInstance>): Promise<ReconcileOutcome> {
  const delivery = deliveryOf(context.object);
  if (delivery) await withdrawDelivery(context, delivery, await controlPlaneIdOf(context.client));
  return undefined;
}

const sameDelivery = (a: Delivery, b: Omit<Delivery, 'Workload' | 'RestartDue'>): boolean =>
  a.Backend === b.Backend && a.KubernetesRuntimeInstanceID === b.KubernetesRuntimeInstanceID && a.Namespace === b.Namespace && a.SecretName === b.SecretName;

/** Removes what a delivery put into its runtime's cluster; a runtime that is gone (or going) takes it with it. */
async function withdrawDelivery(context: ReconcileContext<SecretInstance>, delivery: Delivery, controlPlaneId: string): Promise<void> {
  const runtime = await context.client.kind('KubernetesRuntimeInstance').get(delivery.KubernetesRuntimeInstanceID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (!runtime || runtime.DeletionScheduled) return;
  const cluster = await clusterOf(runtime, (value) => context.decrypt(value));
  if (cluster) await removeObjects(cluster, delivery, context.object, controlPlaneId, context.signal);
}

/** Removes what the instance put into the cluster for `delivery` (only objects labelled as its own). */
async function removeObjects(cluster: KubernetesClient, delivery: Delivery, instance: SecretInstance, controlPlaneId: string, signal: AbortSignal): Promise<void> {
  const place = { namespace: delivery.Namespace, name: delivery.SecretName };
  if (delivery.Backend === 'direct') {
    await withdrawSecret(cluster, { ...place, owner: ownerOf(instance), controlPlaneId }, signal);
    return;
  }
  // The ExternalSecret owns the Secret it made: deleting it removes that too.
  for (const ref of [
    { apiVersion: EXTERNAL_SECRETS_API, kind: 'ExternalSecret', ...place },
    { apiVersion: EXTERNAL_SECRETS_API, kind: 'SecretStore', ...place },
    secretRef({ ...place, name: keysSecretName(place.name) }),
  ]) {
    const live = await cluster.get(ref, signal).catch(() => undefined);
    if (live?.metadata.labels?.[SECRET_INSTANCE_LABEL] === String(instance.ID) && live.metadata.labels[CONTROL_PLANE_LABEL] === controlPlaneId) {
      await cluster.delete(ref, signal, live.metadata.uid ? { uid: live.metadata.uid } : {});
    }
  }
}

const secretRef = (place: { namespace: string; name: string }): ResourceRef => ({ apiVersion: 'v1', kind: 'Secret', namespace: place.namespace, name: place.name });

const ownerOf = (instance: SecretInstance): SecretDelivery['owner'] => ({ label: SECRET_INSTANCE_LABEL, value: String(instance.ID), description: `secret instance ${instance.Name}` });

const keysSecretName = (name: string): string => `${name.slice(0, 240)}-aws-access`;

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
  return { namespace: helmReleaseNamespace(helmWorkload, controlPlaneId), description: `HelmWorkloadInstance ${helmWorkload.Name}` };
}

function sameRuntime(instance: SecretInstance, workload: { KubernetesRuntimeInstanceID: number }, what: string): void {
  if (workload.KubernetesRuntimeInstanceID !== instance.KubernetesRuntimeInstanceID) {
    throw new TerminalError(`${what} runs on runtime ${workload.KubernetesRuntimeInstanceID}, not on the secret instance's runtime ${instance.KubernetesRuntimeInstanceID}: set KubernetesRuntimeInstanceID to the workload's`);
  }
}

/** The operator's values on this runtime: its service account assumes the runtime's role where threeport made one (EKS). */
async function operatorValues(context: ReconcileContext<SecretInstance>, target: ReadyRuntime) {
  return externalSecretsValues({ workloadRole: await supportServiceRoleOf(context.client, target.runtime.ID, 'external-secrets'), endpoint: secretsManagerEndpoint() });
}

/** How the SecretStore reaches Secrets Manager: through the operator's role, or with the account's keys in a Secret beside it. */
async function storeAccess(context: ReconcileContext<SecretInstance>, definition: SecretDefinition, target: ReadyRuntime, place: { namespace: string; name: string }, controlPlaneId: string): Promise<StoreAccess> {
  const accounts = context.client.kind('AwsAccount');
  const account = definition.AwsAccountID ? await accounts.get(definition.AwsAccountID) : (await accounts.list({ defaultaccount: true }, { size: 1 })).objects[0];
  if (!account) throw new TerminalError(`secret definition ${definition.Name} keeps its values in AWS Secrets Manager but names no AWS account and none is the default`);
  const region = account.DefaultRegion;
  if (await supportServiceRoleOf(context.client, target.runtime.ID, 'external-secrets')) return { region };
  const access = accessOf(account, (value) => context.decrypt(value));
  if (!access.accessKeyId || !access.secretAccessKey) {
    throw new TerminalError(`AWS account ${account.Name} has no access keys for the External Secrets Operator on runtime ${target.runtime.Name} (a cluster threeport did not make in EKS has no role for it): give the account keys`);
  }
  const keysSecret = keysSecretName(place.name);
  await deliverSecret(target.cluster, { namespace: place.namespace, name: keysSecret, data: { [ACCESS_KEY_ID]: access.accessKeyId, [SECRET_ACCESS_KEY]: access.secretAccessKey }, owner: ownerOf(context.object), controlPlaneId }, context.signal);
  return { region, keysSecret, ...(access.roleArn && { role: access.roleArn }), ...(account.ExternalId && access.roleArn && { externalId: account.ExternalId }) };
}
