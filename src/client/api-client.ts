import type { ApiObject, Kind } from '../model/kind.ts';
import { registry as defaultRegistry, type Registry } from '../model/registry.ts';

/** An error answer from the API (or no answer at all: `status` 0). */
export class ApiRequestError extends Error {
  readonly status: number;
  readonly method: string;
  readonly url: string;

  constructor(status: number, message: string, method: string, url: string) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.method = method;
    this.url = url;
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof ApiRequestError && error.status === 404;
export const isConflict = (error: unknown): boolean => error instanceof ApiRequestError && error.status === 409;

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:1323 */
  baseUrl: string;
  registry?: Registry;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface ListOptions {
  page?: number;
  size?: number;
}

export interface ListResult {
  objects: ApiObject[];
  total: number;
}

export interface VersionOption {
  /** The version last seen: the write is refused (409) if the object changed since. */
  version?: number;
}

export type Filters = Record<string, string | number | boolean>;

interface EnvelopeBody {
  Meta?: { TotalCount?: number };
  Data?: ApiObject[] | null;
  Status?: { code?: number; error?: string };
}

/** Typed access to one kind's routes. */
export class KindClient {
  readonly kind: Kind;
  readonly #client: ApiClient;

  constructor(client: ApiClient, kind: Kind) {
    this.#client = client;
    this.kind = kind;
  }

  async list(filters: Filters = {}, options: ListOptions = {}): Promise<ListResult> {
    const query = new URLSearchParams(Object.entries(filters).map(([key, value]): [string, string] => [key, String(value)]));
    if (options.page) query.set('page', String(options.page));
    if (options.size) query.set('size', String(options.size));
    const body = await this.#client.request('GET', `${this.kind.path}${query.size ? `?${query}` : ''}`);
    return { objects: body.Data ?? [], total: body.Meta?.TotalCount ?? 0 };
  }

  /** Every matching object, across as many pages as it takes. */
  async listAll(filters: Filters = {}): Promise<ApiObject[]> {
    const objects: ApiObject[] = [];
    for (let page = 1; ; page++) {
      const result = await this.list(filters, { page, size: 1000 });
      objects.push(...result.objects);
      if (result.objects.length < 1000 || objects.length >= result.total) return objects;
    }
  }

  async get(id: number): Promise<ApiObject> {
    return one(await this.#client.request('GET', `${this.kind.path}/${id}`));
  }

  /** The object named `name`, or undefined. */
  async findByName(name: string): Promise<ApiObject | undefined> {
    const { objects } = await this.list({ name });
    return objects[0];
  }

  async create(object: ApiObject): Promise<ApiObject> {
    return one(await this.#client.request('POST', this.kind.path, object));
  }

  async update(id: number, patch: ApiObject, options: VersionOption = {}): Promise<ApiObject> {
    return one(await this.#client.request('PATCH', `${this.kind.path}/${id}`, patch, options.version));
  }

  async replace(id: number, object: ApiObject, options: VersionOption = {}): Promise<ApiObject> {
    return one(await this.#client.request('PUT', `${this.kind.path}/${id}`, object, options.version));
  }

  /** For reconcilable kinds the first delete only schedules deletion (two-phase delete). */
  async delete(id: number, options: VersionOption = {}): Promise<ApiObject> {
    return one(await this.#client.request('DELETE', `${this.kind.path}/${id}`, undefined, options.version));
  }

  async revisions(id: number, options: ListOptions = {}): Promise<{ Version: number; Operation: string; RecordedAt: string; Object: ApiObject }[]> {
    const query = new URLSearchParams();
    if (options.page) query.set('page', String(options.page));
    if (options.size) query.set('size', String(options.size));
    const body = await this.#client.request('GET', `${this.kind.path}/${id}/revisions${query.size ? `?${query}` : ''}`);
    return (body.Data ?? []) as never;
  }
}

function one(body: EnvelopeBody): ApiObject {
  const object = body.Data?.[0];
  if (!object) throw new ApiRequestError(0, 'the API answered without an object', '', '');
  return object;
}

/**
 * The typed client for the v0 API, used by tptctl, controllers and the agent. Fixes the original's
 * client: it paginates, sends the version it read, and reports errors with the API's own message.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly registry: Registry;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #kinds = new Map<string, KindClient>();

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.registry = options.registry ?? defaultRegistry;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#headers = options.headers ?? {};
  }

  /** The client for one kind, by its type name (e.g. "WorkloadInstance"). */
  kind(name: string): KindClient {
    let client = this.#kinds.get(name);
    if (!client) {
      client = new KindClient(this, this.registry.get(name));
      this.#kinds.set(name, client);
    }
    return client;
  }

  async version(): Promise<string> {
    const response = await this.#fetch('GET', '/version');
    const body = (await response.json()) as { Version?: string };
    return body.Version ?? 'unknown';
  }

  /** Sends one request; answers other than 2xx become ApiRequestError with the API's message. */
  async request(method: string, path: string, body?: unknown, ifMatch?: number): Promise<EnvelopeBody> {
    const response = await this.#fetch(method, path, body, ifMatch);
    const text = await response.text();
    let parsed: EnvelopeBody & { message?: string } = {};
    try {
      parsed = text ? (JSON.parse(text) as EnvelopeBody) : {};
    } catch {
      // Not our API answering (a proxy, another server): report the status below.
    }
    if (!response.ok) {
      const message = parsed.Status?.error || parsed.message || `${response.status} ${response.statusText}`;
      throw new ApiRequestError(response.status, message, method, path);
    }
    return parsed;
  }

  async #fetch(method: string, path: string, body?: unknown, ifMatch?: number): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      const reason = cause === 'ECONNREFUSED' ? 'connection refused' : cause === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : String(cause ?? error);
      throw new ApiRequestError(0, `cannot reach the threeport API at ${this.baseUrl}: ${reason}`, method, path);
    }
  }
}
