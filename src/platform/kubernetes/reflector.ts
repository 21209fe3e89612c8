/**
 * A watch that lasts: list, then watch from the list's resourceVersion, keeping the newest
 * resourceVersion seen (bookmarks included); a watch that ends is re-opened from there, one the
 * server calls too old (410 Gone) lists again, and a broken connection is retried with backoff.
 * A local copy of every object lets a re-list report exactly what changed meanwhile, deletions
 * included, so a consumer never misses one.
 */
import type { Logger } from '../../log.ts';
import type { KubernetesClient, Manifest, WatchEvent } from './client.ts';
import { KubernetesApiError, isKubernetesGone } from './errors.ts';

export type ReflectorEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ReflectorOptions {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called in order for every change; awaited (back-pressure). */
  onEvent(type: ReflectorEventType, object: Manifest): void | Promise<void>;
  /** Called after each (re-)list has been reported. */
  onSynced?(): void;
  /**
   * What of each object the local copy keeps (default: all of it). `false` keeps no copy at all:
   * a re-list then reports every object again as ADDED, and deletions that happened while the
   * watch was down are not reported (fine for Events, which only ever come and expire).
   */
  keep?: ((object: Manifest) => Manifest) | false;
  logger: Logger;
  /** How long one watch request lasts before it is re-opened. @default 300 */
  watchTimeoutSeconds?: number;
}

const keyOf = (object: Manifest): string => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

export class Reflector {
  readonly #client: KubernetesClient;
  readonly #o: ReflectorOptions;
  readonly #objects = new Map<string, Manifest>();
  #resourceVersion = '';
  #synced = false;

  constructor(client: KubernetesClient, options: ReflectorOptions) {
    this.#client = client;
    this.#o = options;
  }

  /** Whether the first list has been reported. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The local copy of every object it watches. */
  get objects(): ReadonlyMap<string, Manifest> {
    return this.#objects;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#relist(signal);
          needList = false;
        }
        await this.#watch(signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (isKubernetesGone(error)) {
          this.#o.logger.debug({ kind: this.#o.kind }, 'watch too old; listing again');
          needList = true;
          continue;
        }
        failures++;
        const delayMs = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
        const noKind = error instanceof KubernetesApiError && error.reason === 'NoKindMatch';
        if (failures === 1 || failures % 10 === 0) {
          this.#o.logger[noKind ? 'debug' : 'warn']({ kind: this.#o.kind, err: { message: (error as Error).message }, retryInMs: delayMs }, 'watch failed; trying again');
        }
        // After a failure we can't know what was missed between watches without listing.
        needList = needList || failures > 3 || noKind;
        await sleep(delayMs, signal);
      }
    }
  }

  /** Remembers `object` in the local copy (as much of it as `keep` says). */
  #remember(key: string, object: Manifest): void {
    if (this.#o.keep === false) return;
    this.#objects.set(key, this.#o.keep ? this.#o.keep(object) : object);
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.#client.list(this.#o.apiVersion, this.#o.kind, this.#selection(signal));
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const previous = this.#objects.get(key);
      this.#remember(key, item);
      if (!previous) await this.#o.onEvent('ADDED', item);
      else if (previous.metadata.resourceVersion !== item.metadata.resourceVersion) await this.#o.onEvent('MODIFIED', item);
    }
    for (const [key, object] of this.#objects) {
      if (seen.has(key)) continue;
      this.#objects.delete(key);
      await this.#o.onEvent('DELETED', object);
    }
    this.#resourceVersion = resourceVersion;
    this.#synced = true;
    this.#o.onSynced?.();
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const events = this.#client.watch(this.#o.apiVersion, this.#o.kind, {
      ...this.#selection(signal),
      resourceVersion: this.#resourceVersion,
      timeoutSeconds: this.#o.watchTimeoutSeconds ?? 300,
    });
    for await (const event of events) {
      if (signal.aborted) return;
      await this.#handle(event);
    }
  }

  async #handle(event: WatchEvent): Promise<void> {
    if (event.type === 'ERROR') {
      const status = event.object as unknown as { code?: number; message?: string; reason?: string };
      throw new KubernetesApiError(status.code ?? 500, status.message ?? 'watch error', { ...(status.reason && { reason: status.reason }) });
    }
    const object = { ...event.object, apiVersion: event.object.apiVersion ?? this.#o.apiVersion, kind: event.object.kind ?? this.#o.kind };
    if (object.metadata.resourceVersion) this.#resourceVersion = object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const key = keyOf(object);
    if (event.type === 'DELETED') {
      this.#objects.delete(key);
      await this.#o.onEvent('DELETED', object);
      return;
    }
    const known = this.#objects.has(key);
    this.#remember(key, object);
    await this.#o.onEvent(known || (this.#o.keep === false && event.type === 'MODIFIED') ? 'MODIFIED' : 'ADDED', object);
  }

  #selection(signal: AbortSignal): { namespace?: string; labelSelector?: string; fieldSelector?: string; signal: AbortSignal } {
    return {
      ...(this.#o.namespace && { namespace: this.#o.namespace }),
      ...(this.#o.labelSelector && { labelSelector: this.#o.labelSelector }),
      ...(this.#o.fieldSelector && { fieldSelector: this.#o.fieldSelector }),
      signal,
    };
  }
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, milliseconds);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
