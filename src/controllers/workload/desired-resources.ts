/**
 * What a workload instance should have in its cluster: its definition's manifests, each in a
 * namespace, labelled as the original labels them (plus this control plane's identity), keyed by
 * group/Kind/namespace/name.
 *
 * The namespace policy is the original's, made predictable: a manifest that names its namespace
 * keeps it; the others go into the namespace the manifests bring, or — when they bring none — a
 * namespace threeport makes for the instance, `<instance name>-<10 characters>`, derived from the
 * instance so every retry and replica picks the same one, and kept when the instance is renamed.
 * The instance and control plane labels are always threeport's, whatever a manifest says: they
 * are how threeport tells its objects from others'. A port named `metrics` brings a
 * ServiceMonitor or PodMonitor where the cluster serves them (metrics-monitors.ts).
 */
import { createHash } from 'node:crypto';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { Manifest } from '../../model/manifest.ts';
import { resourceKeyOf } from '../../model/resource-key.ts';
import { KubernetesApiError, labels, withInstanceLabels, type KubernetesClient } from '../../platform/kubernetes/index.ts';
import { metricsMonitorsFor } from './metrics-monitors.ts';

export interface DesiredResource {
  key: string;
  manifest: Manifest;
  /** The resource definition it comes from; absent for the namespace threeport makes and resources others add. */
  resourceDefinitionId?: number;
  /** Added by another controller: its record is that controller's to write. */
  addedByOthers?: true;
}

export interface InstanceIdentity {
  id: number;
  name: string;
  definitionName: string;
  controlPlaneId: string;
  /** The namespace threeport made for it before: kept, whatever the instance is called now. */
  managedNamespace?: string;
}

/** A manifest to deploy: from a resource definition, or from a record another controller added (which keeps its key). */
export interface ResourceSource {
  manifest: Manifest;
  resourceDefinitionId?: number;
  recordKey?: string;
}

/** `<name>-<10 lowercase letters and digits>`, a valid namespace name, the same for every retry. */
export function managedNamespaceName(instance: { id: number; name: string }): string {
  const digest = createHash('sha256').update(`${instance.id}/${instance.name}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const suffix = Array.from(digest.subarray(0, 10), (byte) => alphabet[byte % alphabet.length]).join('');
  const base = instance.name.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 52) || 'workload';
  return `${base}-${suffix}`;
}

const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease', 'threeport-control-plane']);

/**
 * Whether each kind is namespaced: the cluster says for what it serves; for custom resources of
 * CRDs in the same set, the CRD's scope says (the cluster does not serve them yet).
 */
async function scopes(cluster: KubernetesClient, manifests: readonly Manifest[], signal: AbortSignal): Promise<Map<string, boolean>> {
  const scope = new Map<string, boolean>();
  for (const manifest of manifests) {
    if (manifest.kind !== 'CustomResourceDefinition') continue;
    const spec = manifest.spec as { group?: string; scope?: string; names?: { kind?: string }; versions?: { name: string }[] } | undefined;
    for (const version of spec?.versions ?? []) scope.set(`${spec?.group}/${version.name}/${spec?.names?.kind}`, spec?.scope !== 'Cluster');
  }
  for (const manifest of manifests) {
    const key = `${manifest.apiVersion}/${manifest.kind}`;
    if (scope.has(key)) continue;
    try {
      scope.set(key, (await cluster.mappingOf(manifest.apiVersion, manifest.kind, signal)).namespaced);
    } catch (error) {
      if (error instanceof KubernetesApiError && error.reason === 'NoKindMatch') {
        throw new KubernetesApiError(404, `${manifest.kind} ${manifest.metadata.name}: ${error.message}`, { reason: 'NoKindMatch' });
      }
      throw error;
    }
  }
  return scope;
}

export async function desiredResources(
  cluster: KubernetesClient,
  instance: InstanceIdentity,
  sources: readonly ResourceSource[],
  signal: AbortSignal,
): Promise<DesiredResource[]> {
  const manifests = sources.map((source) => source.manifest);
  const scope = await scopes(cluster, manifests, signal);
  const isNamespaced = (manifest: Manifest): boolean => scope.get(`${manifest.apiVersion}/${manifest.kind}`) ?? true;
  const broughtNamespaces = manifests.filter((manifest) => manifest.kind === 'Namespace').map((manifest) => manifest.metadata.name);
  for (const name of broughtNamespaces) {
    if (SYSTEM_NAMESPACES.has(name)) {
      throw new TerminalError(`the manifests declare namespace ${name}, which threeport does not manage; remove that Namespace and set metadata.namespace: ${name} on the resources that belong there`);
    }
  }
  const needsNamespace = manifests.some((manifest) => isNamespaced(manifest) && !manifest.metadata.namespace);
  const defaultNamespace = broughtNamespaces[0] ?? (needsNamespace ? (instance.managedNamespace ?? managedNamespaceName(instance)) : undefined);

  const label = (manifest: Manifest): Manifest =>
    withInstanceLabels(manifest, {
      definitionName: instance.definitionName,
      instanceName: instance.name,
      instanceId: instance.id,
      instanceLabelKey: labels.WORKLOAD_INSTANCE,
      always: { [CONTROL_PLANE_LABEL]: instance.controlPlaneId, [labels.WORKLOAD_INSTANCE]: String(instance.id) },
    });
  const desired: DesiredResource[] = [];
  if (defaultNamespace && broughtNamespaces.length === 0) {
    const namespace = label({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: defaultNamespace } });
    desired.push({ key: keyOf(namespace), manifest: namespace });
  }
  for (const { manifest, resourceDefinitionId, recordKey } of sources) {
    const placed: Manifest = structuredClone(manifest);
    if (!isNamespaced(placed)) delete placed.metadata.namespace;
    else if (!placed.metadata.namespace && defaultNamespace) placed.metadata.namespace = defaultNamespace;
    const labelled = label(placed);
    desired.push({ key: recordKey ?? keyOf(labelled), manifest: labelled, ...(resourceDefinitionId !== undefined && { resourceDefinitionId }), ...(recordKey !== undefined && { addedByOthers: true as const }) });
  }
  for (const monitor of await metricsMonitorsFor(cluster, instance, desired.map((resource) => resource.manifest), signal)) {
    const labelled = label(monitor);
    desired.push({ key: keyOf(labelled), manifest: labelled });
  }
  return desired;
}

function keyOf(manifest: Manifest): string {
  const key = resourceKeyOf(manifest);
  if (typeof key !== 'string') throw new TerminalError(`a manifest ${key.problem}`);
  return key;
}
