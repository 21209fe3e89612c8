/**
 * HelmWorkloadInstance: a release of its definition's chart on its runtime, with the definition's
 * values and its own on top. Installed or upgraded with the real helm (rolled back when it fails:
 * never half-installed), its objects labelled as threeport's and listed for the agent, which
 * reports their live state, events and health into the instance as it does for workloads.
 * Deleting the instance uninstalls the release, and removes its namespace when threeport made it.
 */
import { pinnedValuesOverlay, repositoriesInValues } from '../../model/container-images.ts';
import { canonicalPins } from '../../model/image-pins.ts';
import { recordImageUses } from '../shared/image-uses.ts';
import { isNotFound } from '../../client/api-client.ts';
import { RetryableError, TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { errorMessage } from '../../controller/redact.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { CONTROL_PLANE_LABEL, watchedResource } from '../../model/threeport-workload.ts';
import { ChartSourceError, HelmError, layered, type Helm } from '../../platform/helm/index.ts';
import { isKubernetesNotFound, labels, type KubernetesClient } from '../../platform/kubernetes/index.ts';
import { clusterOf, connectionOf, controlPlaneIdOf, readyRuntime } from '../shared/runtime-cluster.ts';
import { stopTellingAgent, tellAgent } from '../shared/watch-list.ts';
import { ensureNamespace, valuesOrTerminal } from '../shared/kubernetes-helpers.ts';
import { helmReleaseNamespace } from '../shared/workload-namespace.ts';
import { additionalResourcesOf, checkDefinition } from './helm-workload-definition.ts';

export type HelmWorkloadInstance = ObjectOf<'HelmWorkloadInstance'>;

/** The label that says which Helm workload instance an object (or a namespace) is for. */
export const HELM_INSTANCE_LABEL = labels.HELM_WORKLOAD_INSTANCE;
const HEALTHY = 'Healthy';

export interface HelmWorkloadSettings {
  /** The helm runner (its binary found or installed on first use). */
  helm: () => Promise<Helm>;
  /** How long one install or upgrade may take, its wait for ready resources included. @default 300000 */
  releaseTimeoutMs?: number;
}

export function helmWorkloadInstanceReconciler(settings: HelmWorkloadSettings): Reconciler<HelmWorkloadInstance> {
  const releaseTimeoutMs = settings.releaseTimeoutMs ?? 300_000;
  return {
    kind: 'HelmWorkloadInstance',
    statusCondition: HEALTHY,
    // helm's own wait, its rollback, then what follows.
    timeoutMs: releaseTimeoutMs * 2 + 60_000,
    maxRetryDelayMs: 120_000,
    async reconcile(context) {
      const helm = await settings.helm().catch((error: unknown) => {
        throw new RetryableError(`helm is not available: ${errorMessage(error)}`);
      });
      return context.operation === 'Deleted' ? uninstall(context, helm) : install(context, helm, releaseTimeoutMs);
    },
  };
}

async function install(context: ReconcileContext<HelmWorkloadInstance>, helm: Helm, timeoutMs: number): Promise<ReconcileOutcome> {
  const { client: api, signal } = context;
  const instance = context.object;
  const definition = await api.kind('HelmWorkloadDefinition').get(instance.HelmWorkloadDefinitionID);
  if (definition.Reconciled !== true || definition.ObservedGeneration !== definition.Generation) {
    return { waiting: `helm workload definition ${definition.Name} is not reconciled yet${definition.Status ? ` (${definition.Status})` : ''}` };
  }
  checkDefinition(definition);
  const release = releaseName(instance);
  const given = valuesOf(definition.ValuesDocument, instance.ValuesDocument);
  // Delivered images: the chart's image objects of a pinned repository get its tag and digest.
  const values = layered(given, pinnedValuesOverlay(given, canonicalPins(instance.Images)));
  await recordImageUses(api, { HelmWorkloadInstanceID: instance.ID }, repositoriesInValues(valuesOrTerminal(instance.ValuesDocument, "the instance's ValuesDocument")));
  const additional = additionalResourcesOf(definition.AdditionalResources, instance.AdditionalResources);
  const target = await readyRuntime(api, instance.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
  if ('waiting' in target) return target;
  const { cluster, connection } = target;
  const controlPlaneId = await controlPlaneIdOf(api);
  const releaseLabels = { [HELM_INSTANCE_LABEL]: String(instance.ID), [CONTROL_PLANE_LABEL]: controlPlaneId };

  const namespace = helmReleaseNamespace(instance, controlPlaneId);
  await ensureNamespace(cluster, namespace, releaseLabels, signal);
  let made: Manifest[];
  try {
    ({ manifests: made } = await helm.apply(
      connection,
      { name: release, namespace, source: { repository: definition.Repo, chart: definition.Chart, ...(definition.ChartVersion && { version: definition.ChartVersion }) }, values, labels: releaseLabels, additional },
      { signal, timeoutMs, accept: (current) => refuseForeignRelease(current, release, namespace, instance) },
    ));
  } catch (error) {
    if (error instanceof ChartSourceError) throw new TerminalError(error.message);
    if (error instanceof HelmError) throw new RetryableError(`helm could not install or upgrade release ${release}: ${error.message}`);
    throw error;
  }
  const watched = await Promise.all(made.map(async (manifest) => watchedResource(await placed(cluster, manifest, namespace, signal), 0)));
  await tellAgent(cluster, { workloadType: 'HelmWorkloadInstance', workloadInstanceId: instance.ID, workloadResourceInstances: watched }, controlPlaneId, instance.Generation, signal);
  return undefined;
}

async function uninstall(context: ReconcileContext<HelmWorkloadInstance>, helm: Helm): Promise<ReconcileOutcome> {
  const { client: api, signal } = context;
  const instance = context.object;
  if (!isReleaseName(String(instance.Name))) return undefined; // never installed: no release can have that name
  const runtime = await api.kind('KubernetesRuntimeInstance').get(instance.KubernetesRuntimeInstanceID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (!runtime) return undefined; // nothing can be left in a cluster that is gone
  const forced = Boolean(runtime.DeletionScheduled && runtime.ForceDelete);
  try {
    // Whatever the runtime's state (being deleted too, say): only a way in is needed.
    const decrypt = (value: unknown): unknown => context.decrypt(value);
    const connection = connectionOf(runtime, decrypt);
    const cluster = await clusterOf(runtime, decrypt);
    if (!connection || !cluster) {
      if (instance.ObservedGeneration === undefined) return undefined; // never installed anywhere
      throw new RetryableError(`Kubernetes runtime ${runtime.Name} has no connection details to uninstall the release with`);
    }
    const controlPlaneId = await controlPlaneIdOf(api);
    const namespace = helmReleaseNamespace(instance, controlPlaneId);
    await stopTellingAgent(cluster, 'HelmWorkloadInstance', instance.ID, signal);
    await helm.uninstall(connection, releaseName(instance), namespace, { signal }).catch((error: unknown) => {
      throw error instanceof HelmError ? new RetryableError(`helm could not uninstall release ${releaseName(instance)}: ${error.message}`) : error;
    });
    // The namespace goes only when threeport made it for this instance and nothing else lives there.
    const live = await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace }, signal);
    const ours = live?.metadata.labels?.[HELM_INSTANCE_LABEL] === String(instance.ID) && live.metadata.labels[CONTROL_PLANE_LABEL] === controlPlaneId;
    const others = live && ours ? await helm.releasesIn(connection, namespace, { signal }) : [];
    if (others.length > 0) await context.recordEvent({ reason: 'NamespaceKept', type: 'Normal', note: `namespace ${namespace} still holds release(s) ${others.join(', ')}; it stays` });
    else if (live && ours) await cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace }, signal, live.metadata.uid ? { uid: live.metadata.uid } : {});
  } catch (error) {
    if (!forced) throw error;
    await context.recordEvent({ reason: 'CleanupSkipped', type: 'Warning', note: `its runtime is being force-deleted; the release may be left in the cluster: ${errorMessage(error)}` });
  }
  return undefined;
}

const isReleaseName = (name: string): boolean => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 53;

/**
 * A release of that name already in the namespace that this instance did not install (a user's
 * own, another control plane's) is refused, never taken over.
 */
function refuseForeignRelease(made: readonly Manifest[], release: string, namespace: string, instance: HelmWorkloadInstance): void {
  const foreign = made.find((object) => object.metadata.labels?.[HELM_INSTANCE_LABEL] !== String(instance.ID));
  if (foreign) throw new TerminalError(`namespace ${namespace} already has a Helm release ${release} that this instance did not install (its ${foreign.kind} ${foreign.metadata.name} is not labelled ${HELM_INSTANCE_LABEL}=${instance.ID}): choose another name or ReleaseNamespace`);
}

/** The release's name: the instance's, which helm must accept (a DNS label of at most 53 characters). */
function releaseName(instance: HelmWorkloadInstance): string {
  const name = String(instance.Name);
  if (!isReleaseName(name)) {
    throw new TerminalError(`"${name}" cannot name a Helm release: use lower-case letters, digits and '-', at most 53 characters`);
  }
  return name;
}

/** A rendered object as it is placed: helm puts namespaced objects without a namespace into the release's. */
async function placed(cluster: KubernetesClient, manifest: Manifest, namespace: string, signal: AbortSignal): Promise<Manifest> {
  if (manifest.metadata.namespace) return manifest;
  try {
    const mapping = await cluster.mapper.mappingFor(manifest.apiVersion, manifest.kind, signal);
    return mapping.namespaced ? { ...manifest, metadata: { ...manifest.metadata, namespace } } : manifest;
  } catch (error) {
    if (isKubernetesNotFound(error)) return manifest;
    throw error;
  }
}

function valuesOf(definitionValues: string | undefined, instanceValues: string | undefined): Record<string, unknown> {
  return layered(valuesOrTerminal(definitionValues, "the definition's ValuesDocument"), valuesOrTerminal(instanceValues, "the instance's ValuesDocument"));
}

