/** References by name → IDs, against the API (and, for a dry run, objects not created yet). */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import { fileError } from '../documents/source.ts';
import type { ObjectSpec } from '../documents/object-spec.ts';

/** Stands in for the ID of an object a dry run would create. */
export const PLANNED_ID = -1;

export class Resolver {
  readonly #client: ApiClient;
  readonly #cache = new Map<string, ApiObject | undefined>();
  /** `Kind/name` of objects a dry run would create before the one being resolved. */
  readonly planned = new Set<string>();

  constructor(client: ApiClient) {
    this.#client = client;
  }

  async find(kind: string, name: string): Promise<ApiObject | undefined> {
    const key = `${kind}/${name}`;
    if (!this.#cache.has(key)) this.#cache.set(key, await this.#client.kind(kind).findByName(name));
    return this.#cache.get(key);
  }

  remember(kind: string, object: ApiObject): void {
    this.#cache.set(`${kind}/${String(object.Name)}`, object);
  }

  forget(kind: string, name: string): void {
    this.#cache.delete(`${kind}/${name}`);
  }

  async defaultRuntime(): Promise<ApiObject | undefined> {
    const key = 'default-runtime';
    if (!this.#cache.has(key)) {
      const { objects } = await this.#client.kind('KubernetesRuntimeInstance').list({ defaultruntime: true });
      this.#cache.set(key, objects[0]);
    }
    return this.#cache.get(key);
  }

  /** The payload with every reference replaced by the referenced object's ID. */
  async payload(spec: ObjectSpec): Promise<ApiObject> {
    const payload: ApiObject = { ...spec.payload };
    for (const reference of spec.references) {
      const found = await this.find(reference.target, reference.name);
      if (found) payload[reference.key] = found.ID;
      else if (this.planned.has(`${reference.target}/${reference.name}`)) payload[reference.key] = PLANNED_ID;
      else throw fileError(spec.source, reference.path, `${reference.target} "${reference.name}" does not exist`);
    }
    if (spec.defaultRuntimeKey) {
      const runtime = await this.defaultRuntime();
      if (!runtime) {
        throw fileError(spec.source, spec.path, 'no KubernetesRuntimeInstance given and the control plane has no default runtime: add KubernetesRuntimeInstance: {Name: …}, or register one with DefaultRuntime: true (tptctl up --kubeconfig does)');
      }
      payload[spec.defaultRuntimeKey] = runtime.ID;
    }
    return payload;
  }
}
