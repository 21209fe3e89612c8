import { isDeepStrictEqual as sameJson } from 'node:util';
import { scopedSignal } from '../concurrency.ts';
import { API_VERSION, type ApiObject, type Kind } from '../model/kind.ts';
import type { InputOf, KindName, ObjectOf } from '../model/object-types.ts';
import { registry as defaultRegistry, type Registry } from '../model/registry.ts';
import { ApiRequestError, isDuplicate, isStaleVersion, parseRetryAfter } from './errors.ts';
import { send, type HttpAnswer, type TlsCredentials } from './http-transport.ts';

export type { TlsCredentials };

export { ApiRequestError, isAborted, isBeingDeleted, isConflict, isDuplicate, isNotFound, isRetryableApiError, isStaleVersion } from './errors.ts';

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:1323 */
  baseUrl: string;
  registry?: Registry;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Ends every request of this client when it aborts (see `withSignal`). */
  signal?: AbortSignal;
  /** HTTPS: the control plane's CA and a client certificate of it. */
  tls?: TlsCredentials;
  /** A bearer token (sent as Authorization). */
  token?: string;
  /** Who is calling, as the API's revisions record it (`tptctl/1.0.0`, `threeport-controller`). @default threeport-client */
  userAgent?: string;
}

export interface ListOptions {
  page?: number;
  size?: number;
}

export interface ListResult<T = ApiObject> {
  objects: T[];
  total: number;
}

export interface VersionOption {
  /** The version last seen: the write is refused (409 StaleVersion) if the object changed since. */
  version?: number;
  /** Have the API check the write and answer what it would store, storing nothing. */
  dryRun?: boolean;
}

export type Filters = Record<string, string | number | boolean>;

/** What create-or-update by a natural key did. */
export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

interface EnvelopeBody {
  Meta?: { TotalCount?: number };
  Data?: ApiObject[] | null;
  Status?: { code?: number; error?: string; reason?: string };
}

/** Connection failures as a person can act on them. */
const connectionProblems: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was closed (an API with auth on drops a client certificate that is expired or not of its CA)',
  EPIPE: 'the connection was closed (an API with auth on drops a client certificate that is expired or not of its CA)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate is not signed by the CA this client trusts (the config's CACert is of another control plane?)",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate is not signed by the CA this client trusts (the config's CACert is of another control plane?)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is not signed by the CA this client trusts (the config's CACert is of another control plane?)",
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this address (start the API with --tls-names <this name>)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'it does not speak TLS here (AuthEnabled is true in the config, but the API runs without auth?)',
  EPROTO: 'TLS failed (AuthEnabled does not match how the API runs?)',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "it requires a client certificate (the config's Credentials) and none was sent",
};

const PAGE = 1000;
/** listAll refuses to gather more than this; page through with pages() instead. */
export const LIST_ALL_LIMIT = 20_000;

/** Typed access to one kind's routes. */
export class KindClient<T extends ApiObject = ApiObject, I extends ApiObject = ApiObject> {
  readonly kind: Kind;
  readonly #client: ApiClient;

  constructor(client: ApiClient, kind: Kind) {
    this.#client = client;
    this.kind = kind;
  }

  async list(filters: Filters = {}, options: ListOptions = {}): Promise<ListResult<T>> {
    const query = new URLSearchParams(Object.entries(filters).map(([key, value]): [string, string] => [key, String(value)]));
    if (options.page) query.set('page', String(options.page));
    if (options.size) query.set('size', String(options.size));
    const body = await this.#client.request('GET', `${this.kind.path}${query.size ? `?${query}` : ''}`);
    return { objects: (body.Data ?? []) as T[], total: body.Meta?.TotalCount ?? 0 };
  }

  /** Every matching object, a page at a time, without holding them all. */
  async *pages(filters: Filters = {}, size = PAGE): AsyncGenerator<T[]> {
    for (let page = 1; ; page++) {
      const result = await this.list(filters, { page, size });
      if (result.objects.length > 0) yield result.objects;
      if (result.objects.length < size || page * size >= result.total) return;
    }
  }

  /** Every matching object, up to `limit` (beyond it, an error: use pages()). */
  async listAll(filters: Filters = {}, limit = LIST_ALL_LIMIT): Promise<T[]> {
    const objects: T[] = [];
    for await (const page of this.pages(filters)) {
      objects.push(...page);
      if (objects.length > limit) throw new Error(`more than ${limit} ${this.kind.name}s match ${JSON.stringify(filters)}; page through them instead`);
    }
    return objects;
  }

  /** Objects of a reconcilable kind that still need their controller, in ID order (what resync walks). */
  async *pending(size = 500): AsyncGenerator<T[]> {
    for (let after = 0; ; ) {
      const body = await this.#client.request('GET', `${this.kind.path}/pending?after=${after}&size=${size}`);
      const objects = (body.Data ?? []) as T[];
      if (objects.length > 0) yield objects;
      if (objects.length < size) return;
      after = Number(objects[objects.length - 1]!.ID);
    }
  }

  async get(id: number): Promise<T> {
    return one(await this.#client.request('GET', `${this.kind.path}/${id}`)) as T;
  }

  /** The object named `name`, or undefined. */
  async findByName(name: string): Promise<T | undefined> {
    const { objects } = await this.list({ name });
    return objects[0];
  }

  async create(object: I, options: Pick<VersionOption, 'dryRun'> = {}): Promise<T> {
    return one(await this.#client.request('POST', `${this.kind.path}${dryRunQuery(options)}`, object)) as T;
  }

  async update(id: number, patch: Partial<I>, options: VersionOption = {}): Promise<T> {
    return one(await this.#client.request('PATCH', `${this.kind.path}/${id}${dryRunQuery(options)}`, patch, options.version)) as T;
  }

  async replace(id: number, object: I, options: VersionOption = {}): Promise<T> {
    return one(await this.#client.request('PUT', `${this.kind.path}/${id}`, object, options.version)) as T;
  }

  /** For reconcilable kinds the first delete only schedules deletion (two-phase delete). */
  async delete(id: number, options: VersionOption = {}): Promise<T> {
    return one(await this.#client.request('DELETE', `${this.kind.path}/${id}`, undefined, options.version)) as T;
  }

  /** Asks the object's controller to reconcile it now, whatever its state (e.g. drift seen in a cluster). */
  async requestReconcile(id: number, reason: string): Promise<void> {
    await this.#client.request('POST', `${this.kind.path}/${id}/reconcile`, { Reason: reason.slice(0, 200) });
  }

  /**
   * Create-or-update by a natural key: the one object matching `key` gets `desired`'s fields (only
   * those that differ are written, with its version), or is created. Safe against a concurrent
   * writer of the same key (a unique index stops the second create; it then updates). Encrypted
   * fields always count as changed: the API returns them as ciphertext.
   */
  async apply(key: Filters, desired: I): Promise<{ object: T; outcome: ApplyOutcome }> {
    for (let attempt = 0; ; attempt++) {
      const { objects } = await this.list(key, { size: 2 });
      if (objects.length > 1) throw new Error(`more than one ${this.kind.name} matches ${JSON.stringify(key)}: it is not a natural key`);
      const existing = objects[0];
      try {
        if (!existing) return { object: await this.create(desired), outcome: 'created' };
        const changes = Object.fromEntries(Object.entries(desired).filter(([field, value]) => !sameJson((existing as ApiObject)[field], value)));
        if (Object.keys(changes).length === 0) return { object: existing, outcome: 'unchanged' };
        return { object: await this.update(Number(existing.ID), changes as Partial<I>, { version: Number(existing.Version) }), outcome: 'updated' };
      } catch (error) {
        if (attempt < 5 && (isDuplicate(error) || isStaleVersion(error))) continue;
        throw error;
      }
    }
  }

  async revisions(id: number, options: ListOptions = {}): Promise<{ Version: number; Operation: string; RecordedAt: string; Object: T }[]> {
    const query = new URLSearchParams();
    if (options.page) query.set('page', String(options.page));
    if (options.size) query.set('size', String(options.size));
    const body = await this.#client.request('GET', `${this.kind.path}/${id}/revisions${query.size ? `?${query}` : ''}`);
    return (body.Data ?? []) as never;
  }
}

const dryRunQuery = (options: { dryRun?: boolean }): string => (options.dryRun ? '?dryRun=true' : '');

function one(body: EnvelopeBody): ApiObject {
  const object = body.Data?.[0];
  if (!object) throw new ApiRequestError(0, 'the API answered without an object', { method: '', url: '' });
  return object;
}

export interface EventRecordInput {
  kind: string;
  objectId: number;
  reason: string;
  type: 'Normal' | 'Warning';
  note: string;
  reportingController: string;
}

/**
 * The typed client for the v0 API, used by tptctl, controllers and the agent. Fixes the original's
 * client: it paginates, sends the version it read, tells errors apart by the API's reason, and
 * stops when its signal aborts.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly registry: Registry;
  readonly #options: ApiClientOptions;
  readonly #timeoutMs: number;
  readonly #kinds = new Map<string, KindClient<never, never>>();
  /** The client `withSignal` was first called on. */
  #unbound: ApiClient = this;

  constructor(options: ApiClientOptions) {
    if (options.token && !options.baseUrl.startsWith('https:')) throw new Error(`a bearer token is sent over HTTPS only, not to ${options.baseUrl}`);
    this.#options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.registry = options.registry ?? defaultRegistry;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The same client, whose requests also end when `signal` aborts. */
  withSignal(signal: AbortSignal): ApiClient {
    const bound = new ApiClient({ ...this.#options, signal: this.#options.signal ? AbortSignal.any([this.#options.signal, signal]) : signal });
    bound.#unbound = this.#unbound;
    return bound;
  }

  /** What ends this client's requests (see `withSignal`), if anything. */
  get signal(): AbortSignal | undefined {
    return this.#options.signal;
  }

  /** The client before any `withSignal`: for loads shared by callers that each wait with their own signal (SharedLoads). */
  unbound(): ApiClient {
    return this.#unbound;
  }

  /** The client for one kind, by its type name (e.g. "WorkloadInstance"). */
  kind<N extends KindName>(name: N): KindClient<ObjectOf<N>, InputOf<N>>;
  kind(name: string): KindClient;
  kind(name: string): KindClient {
    let client = this.#kinds.get(name);
    if (!client) {
      client = new KindClient(this, this.registry.get(name));
      this.#kinds.set(name, client);
    }
    return client;
  }

  /**
   * Objects of `referrerKind` whose reference field points at the object `id` of `kind` (the
   * reverse-reference index of the registry): e.g. the WorkloadInstances on a runtime.
   */
  async referrers(kind: string, id: number, referrerKind: string): Promise<ApiObject[]> {
    const found: ApiObject[] = [];
    for (const { kind: referrer, field } of this.registry.referrersOf(kind)) {
      if (referrer.name !== referrerKind) continue;
      const spec = referrer.fields[field];
      if (spec?.kind !== 'scalar' || !spec.query) throw new Error(`${referrer.name}.${field} cannot be filtered on`);
      found.push(...(await this.kind(referrer.name).listAll({ [spec.query]: id })));
    }
    return found;
  }

  /** The WorkloadResourceDefinitions split out of a definition, created together (all or none). */
  async createResourceDefinitions(definitions: ApiObject[]): Promise<ApiObject[]> {
    return (await this.request('POST', '/v0/workload-resource-definition-sets', definitions)).Data ?? [];
  }

  /** Removes the WorkloadEvents of one workload instance or Helm workload instance. */
  async deleteWorkloadEvents(owner: { workloadInstanceId: number } | { helmWorkloadInstanceId: number }): Promise<number> {
    const query = 'workloadInstanceId' in owner ? `workloadinstanceid=${owner.workloadInstanceId}` : `helmworkloadinstanceid=${owner.helmWorkloadInstanceId}`;
    return ((await this.request('DELETE', `/v0/workload-events?${query}`)).Data ?? []).length;
  }

  /** Events attached to an object, filtered on Event fields. */
  async eventsOf(objectId: number, filters: Filters = {}): Promise<ApiObject[]> {
    const query = new URLSearchParams({ objectid: String(objectId), size: '1000', ...Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, String(v)])) });
    return (await this.request('GET', `/v0/events-join-attached-object-references?${query}`)).Data ?? [];
  }

  /** Records a controller Event on an object, or counts a repeat of it (one atomic call). */
  async recordEvent(input: EventRecordInput): Promise<ApiObject> {
    return one(
      await this.request('POST', '/v0/events/record', {
        ObjectType: `${API_VERSION}.${input.kind}`,
        ObjectID: input.objectId,
        Reason: input.reason,
        Type: input.type,
        Note: input.note,
        ReportingController: input.reportingController,
      }),
    );
  }

  async version(): Promise<string> {
    return (await this.info()).version;
  }

  /** The API's version and the control plane's identity (absent from the original's API). */
  async info(): Promise<{ version: string; controlPlaneId?: string }> {
    const body = (await this.request('GET', '/version')) as { Version?: string; ControlPlaneID?: string };
    return { version: body.Version ?? 'unknown', ...(body.ControlPlaneID && { controlPlaneId: body.ControlPlaneID }) };
  }

  /** Sends one request; answers other than 2xx become ApiRequestError with the API's message and reason. */
  async request(method: string, path: string, body?: unknown, ifMatch?: number): Promise<EnvelopeBody> {
    const answer = await this.#send(method, path, body, ifMatch);
    let parsed: EnvelopeBody & { message?: string } = {};
    try {
      parsed = answer.text ? (JSON.parse(answer.text) as EnvelopeBody) : {};
    } catch {
      // Not our API answering (a proxy, another server): report the status below.
    }
    if (answer.status < 200 || answer.status >= 300) {
      const message = parsed.Status?.error || parsed.message || `${answer.status} ${answer.statusText}`;
      const retryAfterMs = parseRetryAfter(answer.header('retry-after') ?? null);
      throw new ApiRequestError(answer.status, message, {
        method,
        url: path,
        ...(parsed.Status?.reason && { reason: parsed.Status.reason }),
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      });
    }
    return parsed;
  }

  async #send(method: string, path: string, body?: unknown, ifMatch?: number): Promise<HttpAnswer> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#options.userAgent ?? 'threeport-client', ...this.#options.headers };
    if (this.#options.token) headers.authorization = `Bearer ${this.#options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
    // Released when the answer is in: a controller sends thousands of requests under one signal.
    const deadline = scopedSignal(this.#options.signal ? [this.#options.signal] : [], this.#timeoutMs);
    try {
      return await send(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: deadline.signal,
        ...(this.#options.tls && { tls: this.#options.tls }),
      });
    } catch (error) {
      throw this.#unreachable(method, path, error, deadline.timedOut());
    } finally {
      deadline.dispose();
    }
  }

  #unreachable(method: string, path: string, error: unknown, timedOut: boolean): ApiRequestError {
    const signal = this.#options.signal;
    if (signal?.aborted) {
      const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
      return new ApiRequestError(0, `request to the threeport API stopped: ${why}`, { method, url: path, aborted: true });
    }
    const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: { code?: string } }).cause?.code;
    const reason = timedOut ? `no answer within ${this.#timeoutMs} ms` : (connectionProblems[String(code)] ?? String(code ?? (error as Error).message ?? error));
    return new ApiRequestError(0, `cannot reach the threeport API at ${this.baseUrl}: ${reason}`, { method, url: path });
  }
}
