/**
 * The identity of a Kubernetes resource in a manifest: `group/Kind/namespace/name` (`/ConfigMap/web/settings`
 * for a core kind, `apps/Deployment/web/web`, `apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com`).
 * Its version is left out: one resource served at two versions is one resource.
 */
export type ResourceKey = string;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The manifest's key, or what keeps it from having one. */
export function resourceKeyOf(manifest: unknown): ResourceKey | { problem: string } {
  if (!isRecord(manifest)) return { problem: 'is not a Kubernetes object (a mapping with apiVersion, kind and metadata.name)' };
  const { apiVersion, kind } = manifest;
  const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
  if (typeof apiVersion !== 'string' || !apiVersion) return { problem: 'has no apiVersion' };
  if (typeof kind !== 'string' || !kind) return { problem: 'has no kind' };
  if (typeof metadata.name !== 'string' || !metadata.name) return { problem: `(${kind}) has no metadata.name` };
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  return `${groupOf(apiVersion)}/${kind}/${namespace}/${metadata.name}`;
}

/** `apps/v1` → `apps`; `v1` → `` (the core group). */
export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '');

export function parseResourceKey(key: ResourceKey): { group: string; kind: string; namespace: string; name: string } {
  const [group = '', kind = '', namespace = '', ...rest] = key.split('/');
  return { group, kind, namespace, name: rest.join('/') };
}
