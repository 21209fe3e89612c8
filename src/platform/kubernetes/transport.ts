/**
 * HTTP to one Kubernetes API server: TLS and credentials from a runtime's connection details, or
 * from a kubeconfig (the official client's KubeConfig handles files, exec plugins and token files;
 * it is loaded only then — its generated API is tens of megabytes a controller need not hold),
 * keep-alive connections, an AbortSignal on every call, and the server's own message on every
 * failure.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { pause, unlessAborted, withTimeLimit } from '../../concurrency.ts';
import { KubernetesApiError, statusMessage, type KubernetesStatus } from './errors.ts';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default application/json; server-side apply sends application/apply-patch+yaml (JSON is YAML). */
  contentType?: string;
  signal?: AbortSignal;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

/** Credentials in the form a runtime holds them (PEM text, a bearer token). */
export interface DirectCredentials {
  server: string;
  caCertificate?: string;
  certificate?: string;
  key?: string;
  token?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Credentials from exec plugins expire; their headers are fetched again after this long. */
const HEADER_REFRESH_MS = 60_000;

/** The request headers that authenticate, fetched again after HEADER_REFRESH_MS when they can change. */
type HeaderSource = () => Promise<Record<string, string>>;

/** How often a GET answered 503 or 429 is tried in all. */
const READ_ATTEMPTS = 4;

export class KubernetesTransport {
  readonly server: string;
  readonly #agent: http.Agent;
  #inFlight = 0;
  #closing = false;
  readonly #tls: https.AgentOptions;
  readonly #headers: HeaderSource;

  private constructor(server: string, tls: https.AgentOptions, headers: HeaderSource) {
    this.server = server.replace(/\/+$/, '');
    this.#tls = tls;
    this.#headers = headers;
    const options = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8, ...tls };
    this.#agent = this.server.startsWith('https:') ? new https.Agent(options) : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  /** From connection details as a KubernetesRuntimeInstance holds them. */
  static fromCredentials(credentials: DirectCredentials): KubernetesTransport {
    const tls: https.AgentOptions = {
      ...(credentials.caCertificate && { ca: credentials.caCertificate }),
      ...(credentials.certificate && { cert: credentials.certificate }),
      ...(credentials.key && { key: credentials.key }),
    };
    const headers: Record<string, string> = credentials.token ? { authorization: `Bearer ${credentials.token}` } : {};
    return new KubernetesTransport(credentials.server, tls, () => Promise.resolve(headers));
  }

  /** `credentialsTimeoutMs` bounds a login plugin asked for credentials (now and at each refresh). */
  static async fromKubeConfig(config: KubeConfig, credentialsTimeoutMs = DEFAULT_TIMEOUT_MS): Promise<KubernetesTransport> {
    const cluster = config.getCurrentCluster();
    if (!cluster?.server) throw new KubernetesApiError(0, `kubeconfig context ${config.getCurrentContext() || '(none)'} has no cluster server`);
    // A plugin that hangs is waited for no longer than the limit, but not run again while it still runs.
    const limited = (login: Promise<void>): Promise<void> =>
      withTimeLimit(login, credentialsTimeoutMs, () => new KubernetesApiError(0, `the kubeconfig's login for ${cluster.server} gave no credentials within ${credentialsTimeoutMs < 1000 ? `${credentialsTimeoutMs} ms` : `${Math.round(credentialsTimeoutMs / 1000)}s`}`, { reason: 'Timeout' }));
    const options: https.RequestOptions = {};
    await limited(config.applyToHTTPSOptions(options));
    const tls: https.AgentOptions = {
      ...(options.ca && { ca: options.ca }),
      ...(options.cert && { cert: options.cert }),
      ...(options.key && { key: options.key }),
      ...(options.rejectUnauthorized !== undefined && { rejectUnauthorized: options.rejectUnauthorized }),
      ...((options as { servername?: string }).servername && { servername: (options as { servername?: string }).servername }),
    };
    let headers = headersOf(options);
    let fetchedAt = Date.now();
    let loading: Promise<void> | undefined;
    const refreshed: HeaderSource = async () => {
      if (Date.now() - fetchedAt > HEADER_REFRESH_MS) {
        loading ??= (async () => {
          const fresh: https.RequestOptions = {};
          await config.applyToHTTPSOptions(fresh);
          headers = headersOf(fresh);
          fetchedAt = Date.now();
        })().finally(() => (loading = undefined));
        await limited(loading);
      }
      return headers;
    };
    return new KubernetesTransport(cluster.server, tls, refreshed);
  }

  /** One request; resolves with the parsed JSON body (undefined when empty). */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { status, text } = await this.#exchange(method, path, options);
      const parsed = parseJson(text);
      if (status >= 200 && status < 300) return parsed as T;
      // A read the server cannot answer for a moment (a CRD's storage being set up, overload) is
      // asked again a few times before it is an error.
      const momentary = method === 'GET' && (status === 503 || status === 429) && attempt < READ_ATTEMPTS;
      if (!momentary || !(await pause(200 * 2 ** (attempt - 1), options.signal))) throw apiError(status, parsed, text, method, path);
    }
  }

  /** One request whose answer is text (e.g. /metrics). */
  async requestText(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    const { status, text } = await this.#exchange(method, path, options);
    if (status >= 200 && status < 300) return text;
    throw apiError(status, parseJson(text), text, method, path);
  }

  /**
   * A streaming GET (watch): yields each JSON line as it arrives; ends when the server closes the
   * stream or `signal` aborts. Throws KubernetesApiError when the server refuses the watch.
   */
  async *stream<T = unknown>(path: string, options: RequestOptions = {}): AsyncGenerator<T> {
    const { response, done } = await this.#send('GET', path, { ...options, timeoutMs: 0 });
    try {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const text = await readBody(response, options.signal);
        throw apiError(status, parseJson(text), text, 'GET', path);
      }
      let buffered = '';
      response.setEncoding('utf8');
      try {
        for await (const chunk of response as AsyncIterable<string>) {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line) yield JSON.parse(line) as T;
          }
        }
      } catch (error) {
        if (options.signal?.aborted) return;
        throw new KubernetesApiError(0, `watch of ${path} on ${this.server} broke off: ${(error as Error).message}`, { cause: error });
      }
    } finally {
      response.destroy();
      done();
    }
  }

  /**
   * Frees the transport's connections: at once when nothing is in flight, otherwise once the
   * last request or watch in flight ends (a client replaced by rotated credentials may still be
   * serving reconciles that began before).
   */
  close(): void {
    this.#closing = true;
    if (this.#inFlight === 0) this.#agent.destroy();
  }

  #ended(): void {
    this.#inFlight--;
    if (this.#closing && this.#inFlight === 0) this.#agent.destroy();
  }

  /** Whether another connection's TLS material and server are the same (so this transport can serve it). */
  sameAs(server: string, tls: https.AgentOptions): boolean {
    return server.replace(/\/+$/, '') === this.server && String(tls.ca) === String(this.#tls.ca) && String(tls.cert) === String(this.#tls.cert);
  }

  /** A request and its whole answer, within the time limit. */
  async #exchange(method: string, path: string, options: RequestOptions): Promise<{ status: number; text: string }> {
    const { response, done } = await this.#send(method, path, options);
    try {
      return { status: response.statusCode ?? 0, text: await readBody(response, options.signal) };
    } finally {
      done();
    }
  }

  /**
   * Sends a request; `done` must be called once its answer is read. The time limit and the
   * caller's signal end the request (and the reading of its answer) by destroying it: one timer
   * and one listener per request, both gone with `done` — not a timeout signal that outlives it.
   */
  async #send(method: string, path: string, options: RequestOptions): Promise<{ response: http.IncomingMessage; done: () => void }> {
    const url = new URL(`${this.server}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const { signal } = options;
    // Credentials being refreshed (a login plugin, bounded by its own limit) wait no longer than the caller does.
    const credentials = await unlessAborted(this.#headers(), signal, () => new KubernetesApiError(0, `request to ${this.server} stopped: ${reasonOf(signal!)}`, { reason: 'Aborted' }));
    const headers: Record<string, string> = { accept: 'application/json', ...credentials };
    if (body) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(body.length);
    }
    // A kept-alive connection the server (or a proxy) had closed fails before any answer. The
    // server may still have read the request, so only one that can be repeated safely goes again
    // on a fresh connection: every verb but POST (server-side apply, a precondition-guarded
    // DELETE and reads are idempotent; a repeated create would only meet AlreadyExists, yet is not sent twice).
    const repeatable = method !== 'POST';
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(method, url, headers, body, timeoutMs, signal);
      } catch (error) {
        if (!(error instanceof StaleConnection) || !repeatable || attempt >= MAX_STALE_CONNECTIONS) throw error;
      }
    }
  }

  #attempt(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number, signal: AbortSignal | undefined): Promise<{ response: http.IncomingMessage; done: () => void }> {
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new KubernetesApiError(0, `request to ${this.server} stopped: ${reasonOf(signal)}`, { reason: 'Aborted' }));
      let failure: KubernetesApiError | undefined;
      let received: http.IncomingMessage | undefined;
      const request = send(url, { method, headers, agent: this.#agent }, (response) => {
        received = response;
        resolve({ response, done });
      });
      // Before the answer the request fails with `error`; after, the answer being read does.
      const stop = (error: KubernetesApiError): void => {
        failure ??= error;
        if (received) received.destroy(error);
        else request.destroy(error);
      };
      const onAbort = (): void => stop(new KubernetesApiError(0, `request to ${this.server} stopped: ${reasonOf(signal!)}`, { reason: 'Aborted' }));
      const timer = timeoutMs > 0
        ? setTimeout(() => stop(new KubernetesApiError(0, `the Kubernetes API at ${this.server} did not answer ${method} ${url.pathname} within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)}s`}`, { reason: 'Timeout' })), timeoutMs)
        : undefined;
      signal?.addEventListener('abort', onAbort, { once: true });
      let ended = false;
      this.#inFlight++;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!ended) {
          ended = true;
          this.#ended();
        }
      };
      request.on('error', (error: NodeJS.ErrnoException) => {
        done();
        const message = `cannot reach the Kubernetes API at ${this.server}: ${describeNetworkError(error)}`;
        const stale = !failure && !received && request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        reject(failure ?? (stale ? new StaleConnection(message, error) : new KubernetesApiError(0, message, { reason: 'Unreachable', cause: error })));
      });
      if (body) request.end(body);
      else request.end();
    });
  }
}

/** Attempts one request makes when kept-alive connections turn out closed (each is a different pooled connection). */
const MAX_STALE_CONNECTIONS = 4;

/** A kept-alive connection found closed before the request was sent on it. */
class StaleConnection extends KubernetesApiError {
  constructor(message: string, cause: Error) {
    super(0, message, { reason: 'Unreachable', cause });
  }
}

function headersOf(options: https.RequestOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.headers ?? {})) if (typeof value === 'string') headers[key.toLowerCase()] = value;
  if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  return headers;
}

const reasonOf = (signal: AbortSignal): string => (signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted'));

function describeNetworkError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the cluster running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return `the connection failed (${error.code})`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its TLS certificate is not trusted (${error.code}): check the runtime's CACertificate`;
    default:
      return error.code ?? error.message;
  }
}

function readBody(response: http.IncomingMessage, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => resolve(text));
    const broke = (error: Error): void =>
      reject(error instanceof KubernetesApiError ? error : new KubernetesApiError(0, signal?.aborted ? `request stopped: ${reasonOf(signal)}` : `the answer broke off: ${error.message}`, { cause: error }));
    response.on('error', broke);
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function apiError(status: number, parsed: unknown, text: string, method: string, path: string): KubernetesApiError {
  const body = parsed as KubernetesStatus | undefined;
  const fallback = `${method} ${path.split('?')[0]}: HTTP ${status}${text && !body ? ` ${text.slice(0, 200)}` : ''}`;
  return new KubernetesApiError(status, statusMessage(body, fallback), {
    ...(body?.reason && { reason: body.reason }),
    ...(body?.details?.causes && { causes: body.details.causes }),
  });
}
