/**
 * Unstructured access to any kind a cluster serves, CRDs included: get, server-side apply, delete,
 * list and watch, each taking an AbortSignal, each failure carrying which resource and the API
 * server's message.
 */
import { RestMapper, type ResourceMapping } from './discovery.ts';
import { KubernetesApiError, isKubernetesConflict, isKubernetesNotFound } from './errors.ts';
import type { KubernetesTransport } from './transport.ts';

export type { Manifest, ObjectMeta } from '../../model/manifest.ts';
import type { Manifest } from '../../model/manifest.ts';

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Manifest;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  signal?: AbortSignal;
}

/** `Deployment web (namespace shop)` — how errors and events name a resource. */
export function describeResource(ref: { kind: string; metadata?: { name?: string; namespace?: string }; name?: string; namespace?: string }): string {
  const name = ref.metadata?.name ?? ref.name ?? '?';
  const namespace = ref.metadata?.namespace ?? ref.namespace;
  return `${ref.kind} ${name}${namespace ? ` (namespace ${namespace})` : ''}`;
}

export const FIELD_MANAGER = 'threeport';

export class KubernetesClient {
  readonly transport: KubernetesTransport;
  readonly mapper: RestMapper;

  constructor(transport: KubernetesTransport) {
    this.transport = transport;
    this.mapper = new RestMapper(transport);
  }

  get server(): string {
    return this.transport.server;
  }

  /** The server's version, e.g. v1.34.4 (a cheap reachability and credentials check). */
  async version(signal?: AbortSignal): Promise<string> {
    const body = await this.transport.request<{ gitVersion?: string }>('GET', '/version', { ...(signal && { signal }) });
    return body?.gitVersion ?? 'unknown';
  }

  async mappingOf(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceMapping> {
    return this.mapper.mappingFor(apiVersion, kind, signal);
  }

  /** The object, or undefined when it does not exist. */
  async get(ref: ResourceRef, signal?: AbortSignal): Promise<Manifest | undefined> {
    const path = await this.#objectPath(ref, signal);
    try {
      return await this.transport.request<Manifest>('GET', path, { ...(signal && { signal }) });
    } catch (error) {
      if (isKubernetesNotFound(error)) return undefined;
      throw this.#about(error, ref);
    }
  }

  /**
   * Server-side apply of `manifest` as field manager `threeport`. `force` takes over fields
   * another manager owns (use it only for resources that are ours); `dryRun` shows what the
   * server would store without storing it. Another `fieldManager` owns a few fields of an object
   * threeport applies whole (an annotation), without taking the others from `threeport`.
   */
  async apply(manifest: Manifest, options: { force?: boolean; dryRun?: boolean; signal?: AbortSignal; fieldManager?: string } = {}): Promise<Manifest> {
    const ref = refOf(manifest);
    const path = await this.#objectPath(ref, options.signal);
    try {
      return await this.transport.request<Manifest>('PATCH', path, {
        query: { fieldManager: options.fieldManager ?? FIELD_MANAGER, force: options.force ? true : undefined, dryRun: options.dryRun ? 'All' : undefined },
        body: manifest,
        contentType: 'application/apply-patch+yaml',
        ...(options.signal && { signal: options.signal }),
      });
    } catch (error) {
      throw this.#about(error, ref);
    }
  }

  /**
   * Deletes the object (dependents in the background); `absent` when it was already gone — or,
   * given `uid`, when the object of that name now is another one (which is left alone).
   */
  async delete(ref: ResourceRef, signal?: AbortSignal, options: { uid?: string } = {}): Promise<'deleted' | 'absent'> {
    let path: string;
    try {
      path = await this.#objectPath(ref, signal);
    } catch (error) {
      // A kind the cluster no longer serves (its CRD went first) has no objects left to delete.
      if (error instanceof KubernetesApiError && error.reason === 'NoKindMatch') return 'absent';
      throw error;
    }
    try {
      const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...(options.uid && { preconditions: { uid: options.uid } }) };
      await this.transport.request('DELETE', path, { body, ...(signal && { signal }) });
      return 'deleted';
    } catch (error) {
      if (isKubernetesNotFound(error) || (options.uid && isKubernetesConflict(error))) return 'absent';
      throw this.#about(error, ref);
    }
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<{ items: Manifest[]; resourceVersion: string }> {
    const path = await this.#collectionPath(apiVersion, kind, options.namespace, options.signal);
    const items: Manifest[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      const page = await this.transport.request<{ items?: Manifest[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', path, {
        query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.limit ?? 500, continue: token },
        ...(options.signal && { signal: options.signal }),
      });
      // Lists leave out each item's apiVersion and kind.
      for (const item of page?.items ?? []) items.push({ ...item, apiVersion, kind });
      resourceVersion = page?.metadata?.resourceVersion ?? resourceVersion;
      token = page?.metadata?.continue || undefined;
    } while (token);
    return { items, resourceVersion };
  }

  /** One watch request from `resourceVersion`, with bookmarks; ends when the server closes it (see Reflector for a watch that lasts). */
  async *watch(apiVersion: string, kind: string, options: ListOptions & { resourceVersion: string; timeoutSeconds?: number }): AsyncGenerator<WatchEvent> {
    const path = await this.#collectionPath(apiVersion, kind, options.namespace, options.signal);
    yield* this.transport.stream<WatchEvent>(path, {
      query: {
        watch: true,
        allowWatchBookmarks: true,
        resourceVersion: options.resourceVersion,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        timeoutSeconds: options.timeoutSeconds ?? 300,
      },
      ...(options.signal && { signal: options.signal }),
    });
  }

  async #collectionPath(apiVersion: string, kind: string, namespace: string | undefined, signal?: AbortSignal): Promise<string> {
    const mapping = await this.mapper.mappingFor(apiVersion, kind, signal);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return mapping.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${mapping.resource}` : `${base}/${mapping.resource}`;
  }

  async #objectPath(ref: ResourceRef, signal?: AbortSignal): Promise<string> {
    const mapping = await this.mapper.mappingFor(ref.apiVersion, ref.kind, signal);
    const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    if (mapping.namespaced) {
      return `${base}/namespaces/${encodeURIComponent(ref.namespace || 'default')}/${mapping.resource}/${encodeURIComponent(ref.name)}`;
    }
    return `${base}/${mapping.resource}/${encodeURIComponent(ref.name)}`;
  }

  /** The error, saying which resource it is about. */
  #about(error: unknown, ref: ResourceRef): unknown {
    if (!(error instanceof KubernetesApiError) || error.status === 0) return error;
    const conflict = isKubernetesConflict(error) ? ' (another field manager owns fields of it)' : '';
    return new KubernetesApiError(error.status, `${describeResource(ref)}: ${error.message}${conflict}`, { ...(error.reason && { reason: error.reason }), causes: [...error.causes], cause: error });
  }
}

export function refOf(manifest: Manifest): ResourceRef {
  return {
    apiVersion: manifest.apiVersion,
    kind: manifest.kind,
    name: manifest.metadata.name,
    ...(manifest.metadata.namespace && { namespace: manifest.metadata.namespace }),
  };
}
