/**
 * Container image references: which repositories a workload's manifests (or a chart's values)
 * use, and the same manifests with some repositories pinned to a delivered build.
 *
 * Repositories are compared in their canonical form, so `nginx`, `docker.io/nginx` and
 * `docker.io/library/nginx` are one repository, as they are to a container runtime.
 */

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An image reference split into repository, tag and digest (`ghcr.io/acme/shop:1.4@sha256:…`). */
export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageReference(reference: string): ImageReference {
  const at = reference.indexOf('@');
  const digest = at >= 0 ? reference.slice(at + 1) : undefined;
  const named = at >= 0 ? reference.slice(0, at) : reference;
  // A colon after the last slash is a tag; one before it is a registry's port.
  const colon = named.lastIndexOf(':');
  const tagged = colon > named.lastIndexOf('/');
  return { repository: tagged ? named.slice(0, colon) : named, ...(tagged && { tag: named.slice(colon + 1) }), ...(digest && { digest }) };
}

/** `nginx` → `docker.io/library/nginx`; `ghcr.io/acme/shop` unchanged. */
export function canonicalRepository(repository: string): string {
  const name = repository.trim();
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  const registry = hasRegistry ? (first === 'index.docker.io' ? 'docker.io' : first) : 'docker.io';
  const path = hasRegistry ? name.slice(slash + 1) : name;
  // Docker Hub's official images live under library/.
  return `${registry}/${registry === 'docker.io' && !path.includes('/') ? `library/${path}` : path}`;
}

/** Where a manifest keeps its pod spec: a Pod's own, a template's, a CronJob's job template's. */
function podSpecsOf(manifest: Record<string, unknown>): Record<string, unknown>[] {
  const spec = isRecord(manifest.spec) ? manifest.spec : undefined;
  if (!spec) return [];
  if (manifest.kind === 'Pod') return [spec];
  const specs: Record<string, unknown>[] = [];
  if (isRecord(spec.template) && isRecord(spec.template.spec)) specs.push(spec.template.spec);
  const job = isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec) ? spec.jobTemplate.spec : undefined;
  if (job && isRecord(job.template) && isRecord(job.template.spec)) specs.push(job.template.spec);
  return specs;
}

function containersOf(podSpec: Record<string, unknown>): Record<string, unknown>[] {
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((key) => (Array.isArray(podSpec[key]) ? (podSpec[key] as unknown[]).filter(isRecord) : []));
}

/** The canonical repositories a manifest's containers run. */
export function repositoriesInManifest(manifest: unknown): string[] {
  if (!isRecord(manifest)) return [];
  const images = podSpecsOf(manifest).flatMap(containersOf).map((container) => container.image);
  return [...new Set(images.filter((image): image is string => typeof image === 'string' && image !== '').map((image) => canonicalRepository(parseImageReference(image).repository)))];
}

/** Pins: canonical repository → the reference its containers run instead. */
export type ImagePins = Readonly<Record<string, string>>;

/** A copy of the manifest whose containers of a pinned repository run the pinned reference; the manifest itself when none does. */
export function withPinnedImages<M>(manifest: M, pins: ImagePins): M {
  if (Object.keys(pins).length === 0 || !isRecord(manifest)) return manifest;
  const copy = structuredClone(manifest) as Record<string, unknown>;
  let changed = false;
  for (const container of podSpecsOf(copy).flatMap(containersOf)) {
    if (typeof container.image !== 'string') continue;
    const pin = pins[canonicalRepository(parseImageReference(container.image).repository)];
    if (pin !== undefined && pin !== container.image) {
      container.image = pin;
      changed = true;
    }
  }
  return changed ? (copy as M) : manifest;
}

/**
 * Repositories in Helm values, by the convention charts share: an object with a `repository`
 * string (and a `registry` beside it in Bitnami's charts) is an image.
 */
export function repositoriesInValues(values: unknown): string[] {
  const found = new Set<string>();
  visitImageObjects(values, (image) => found.add(canonicalRepository(imageRepositoryOf(image))));
  return [...found];
}

/**
 * Values that pin every image object of a pinned repository: its `tag` becomes `tag@digest`,
 * which both `repository:tag` templates and Bitnami's renderer turn into a reference pinned by
 * digest. Returned as an overlay (just those objects' tags) to merge over the values.
 */
export function pinnedValuesOverlay(values: unknown, pins: ImagePins): Record<string, unknown> {
  const overlay: Record<string, unknown> = {};
  const walk = (node: unknown, path: string[]): void => {
    if (Array.isArray(node)) return; // lists are replaced whole by helm merges: images in them are left as they are
    if (!isRecord(node)) return;
    if (typeof node.repository === 'string') {
      const pin = pins[canonicalRepository(imageRepositoryOf(node))];
      if (pin !== undefined) {
        const { tag, digest } = parseImageReference(pin);
        setPath(overlay, [...path, 'tag'], digest ? `${tag ?? 'pinned'}@${digest}` : (tag ?? 'latest'));
      }
    }
    for (const [key, child] of Object.entries(node)) walk(child, [...path, key]);
  };
  walk(values, []);
  return overlay;
}

function imageRepositoryOf(image: Record<string, unknown>): string {
  const repository = String(image.repository);
  return typeof image.registry === 'string' && image.registry !== '' ? `${image.registry}/${repository}` : repository;
}

function visitImageObjects(node: unknown, visit: (image: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) visitImageObjects(item, visit);
    return;
  }
  if (!isRecord(node)) return;
  if (typeof node.repository === 'string' && node.repository !== '') visit(node);
  for (const child of Object.values(node)) visitImageObjects(child, visit);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isRecord(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
