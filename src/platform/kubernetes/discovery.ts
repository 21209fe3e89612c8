/**
 * REST mapping: from a manifest's apiVersion and kind to the resource path that serves it, and
 * whether it is namespaced. Learned from the server's discovery documents one group version at a
 * time, cached, and looked up again when a kind is unknown — a CRD created a moment earlier is
 * found as soon as the server serves it.
 */
import { SharedLoads } from '../../concurrency.ts';
import { KubernetesApiError, isKubernetesNotFound } from './errors.ts';
import type { KubernetesTransport } from './transport.ts';

export interface ResourceMapping {
  /** `apps/v1` */
  apiVersion: string;
  kind: string;
  /** Plural resource name, e.g. `deployments`. */
  resource: string;
  namespaced: boolean;
}

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

/** How long a group version is trusted before a miss makes us ask the server again. */
const REFRESH_AFTER_MISS_MS = 1000;

export class RestMapper {
  readonly #transport: KubernetesTransport;
  /** apiVersion → (kind → mapping), as the server last described it. */
  readonly #groupVersions = new Map<string, { at: number; kinds: Map<string, ResourceMapping> }>();
  /** Shared by concurrent callers, and not bound to any one's signal. */
  readonly #loading = new SharedLoads<Map<string, ResourceMapping>>({ keep: false });

  constructor(transport: KubernetesTransport) {
    this.#transport = transport;
  }

  /** The mapping of `apiVersion`/`kind`; a clear error when the server does not serve it. */
  async mappingFor(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceMapping> {
    const cached = this.#groupVersions.get(apiVersion);
    const hit = cached?.kinds.get(kind);
    if (hit) return hit;
    if (!cached || Date.now() - cached.at > REFRESH_AFTER_MISS_MS) {
      const kinds = await this.#load(apiVersion, signal);
      const found = kinds.get(kind);
      if (found) return found;
    }
    throw new KubernetesApiError(404, `the cluster does not serve ${kind} in ${apiVersion} (is its CustomResourceDefinition installed and established?)`, { reason: 'NoKindMatch' });
  }

  /** Forgets what the server said about `apiVersion` (after a CRD changed). */
  invalidate(apiVersion?: string): void {
    if (apiVersion) this.#groupVersions.delete(apiVersion);
    else this.#groupVersions.clear();
  }

  #load(apiVersion: string, signal?: AbortSignal): Promise<Map<string, ResourceMapping>> {
    return this.#loading.get(apiVersion, () => this.#fetch(apiVersion), signal);
  }

  /** Ends with the transport's own request timeout. */
  async #fetch(apiVersion: string): Promise<Map<string, ResourceMapping>> {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const kinds = new Map<string, ResourceMapping>();
    try {
      const list = await this.#transport.request<ApiResourceList>('GET', path);
      for (const resource of list?.resources ?? []) {
        if (resource.name.includes('/')) continue; // subresources (deployments/scale)
        kinds.set(resource.kind, { apiVersion, kind: resource.kind, resource: resource.name, namespaced: resource.namespaced });
      }
    } catch (error) {
      if (!isKubernetesNotFound(error)) throw error;
    }
    this.#groupVersions.set(apiVersion, { at: Date.now(), kinds });
    return kinds;
  }
}
