/**
 * Support services on a runtime, on first use: a HelmWorkloadDefinition per service (its pinned
 * chart and common values, brought up to date with threeport's pins whenever it is used) and a
 * HelmWorkloadInstance per cluster, which the Helm workload controller installs, upgrades and
 * reports on like any other. Whoever needs one (a gateway, a domain name) asks for it here and
 * waits until it is installed at the current generation.
 *
 * Instances are named after the service and the cluster (its kube-system UID), not the runtime:
 * the release keeps its name when the cluster is registered again, so what it left on purpose
 * (cert-manager's CRDs) is its own again.
 */
import { stringify } from 'yaml';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileResult } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { supportServiceDefinitionName, supportServices, type SupportServiceName } from '../../model/support-services.ts';
import { layered, type Values } from '../../platform/helm/index.ts';
import { clusterIdentityOf, isSimulatedCluster, type ReadyRuntime } from '../shared/runtime-cluster.ts';
import { additionalResourcesOf, commonValues, simulatedClusterValues } from './service-values.ts';

type HelmWorkloadInstance = ObjectOf<'HelmWorkloadInstance'>;

/** How often a reconcile waiting for a support service looks again (the install is another controller's). */
export const SUPPORT_SERVICE_POLL_MS = 3000;

type Waiting = Required<Pick<ReconcileResult, 'waiting' | 'requeueAfterMs'>>;
export type SupportServiceState = { installed: HelmWorkloadInstance } | Waiting;

/** The HelmWorkloadInstance of `service` on the runtime's cluster, as it should be (its values for this runtime on top of the common ones). */
export async function ensureSupportService(
  context: ReconcileContext,
  target: ReadyRuntime,
  service: SupportServiceName,
  runtimeValues: Values = {},
  /** Run once the instance exists, before its install is waited for (what the release needs in its namespace: a Secret). */
  prepare?: (instance: HelmWorkloadInstance) => Promise<void>,
): Promise<SupportServiceState> {
  const { client: api, signal } = context;
  const pinned = supportServices[service];
  const { object: definition } = await api.kind('HelmWorkloadDefinition').apply(
    { name: supportServiceDefinitionName(service) },
    {
      Name: supportServiceDefinitionName(service),
      Repo: pinned.repository,
      Chart: pinned.chart,
      ChartVersion: pinned.version,
      ValuesDocument: commonValues[service],
      AdditionalResources: additionalResourcesOf(service),
    },
  );
  const name = await instanceName(target, service, signal);
  const existing = await api.kind('HelmWorkloadInstance').findByName(name);
  if (existing && existing.KubernetesRuntimeInstanceID !== target.runtime.ID) {
    throw new TerminalError(`the cluster of runtime ${target.runtime.Name} already has ${service} through runtime ${existing.KubernetesRuntimeInstanceID} (both runtimes reach the same cluster): use that runtime`);
  }
  const values = layered((await isSimulatedCluster(target.cluster, signal)) ? simulatedClusterValues(service) : {}, runtimeValues);
  const { object: instance } = await api.kind('HelmWorkloadInstance').apply(
    { name },
    {
      Name: name,
      HelmWorkloadDefinitionID: definition.ID,
      KubernetesRuntimeInstanceID: target.runtime.ID,
      ReleaseNamespace: pinned.namespace,
      ValuesDocument: stringify(values),
    },
  );
  if (!instance.DeletionScheduled) await prepare?.(instance);
  if (instance.DeletionScheduled) return { waiting: `support service ${service} on runtime ${target.runtime.Name} is being removed; it is installed again after`, requeueAfterMs: SUPPORT_SERVICE_POLL_MS };
  if (instance.Reconciled === true && instance.ObservedGeneration === instance.Generation && definition.Reconciled === true && definition.ObservedGeneration === definition.Generation) return { installed: instance };
  const status = instance.Status ? ` (${String(instance.Status)})` : '';
  return { waiting: `support service ${service} is being installed on runtime ${target.runtime.Name}${status}`, requeueAfterMs: SUPPORT_SERVICE_POLL_MS };
}

/** Uninstalls `service` from the runtime's cluster (its Helm workload instance deleted); true once it is gone. */
export async function removeSupportService(context: ReconcileContext, target: ReadyRuntime, service: SupportServiceName): Promise<boolean> {
  const instances = context.client.kind('HelmWorkloadInstance');
  const instance = await instances.findByName(await instanceName(target, service, context.signal));
  if (!instance || instance.KubernetesRuntimeInstanceID !== target.runtime.ID) return true;
  if (!instance.DeletionScheduled) await instances.delete(instance.ID);
  return false;
}

/** Waits for every service in turn (each may need the one before: cert-manager's gateway solver the Gateway API). */
export async function ensureSupportServices(context: ReconcileContext, target: ReadyRuntime, wanted: ReadonlyArray<{ service: SupportServiceName; values?: Values }>): Promise<Waiting | undefined> {
  for (const { service, values } of wanted) {
    const state = await ensureSupportService(context, target, service, values);
    if (!('installed' in state)) return state;
  }
  return undefined;
}

async function instanceName(target: ReadyRuntime, service: SupportServiceName, signal: AbortSignal): Promise<string> {
  const identity = await clusterIdentityOf(target.cluster, signal);
  return `${service}-${identity.replace(/[^0-9a-f]/g, '').slice(0, 8)}`;
}
