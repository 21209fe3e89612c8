/**
 * A watch that lasts: list, then watch from the list's resourceVersion, keeping the newest
 * resourceVersion seen (bookmarks included); a watch that ends is re-opened from there, one the
 * server calls too old (410 Gone) lists again, and a broken connection is retried with backoff.
 * A watch that goes silent (a half-open connection: the server or a NAT in between gone without
 * closing it) would wait forever, so one on which nothing arrives for the idle timeout is
 * abandoned and re-opened from the last resourceVersion; the server is asked to end each watch
 * (with a bookmark) before that, so a healthy quiet watch renews itself and never trips it.
 * A local copy of every object lets a re-list report exactly what changed meanwhile, deletions
 * included, so a consumer never misses one.
 */
import type { Logger } from '../../log.ts';
import type { KubernetesClient, Manifest, WatchEvent } from './client.ts';
import { KubernetesApiError, isKubernetesGone } from './errors.ts';
import { pause } from '../../concurrency.ts';

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
  /**
   * A watch on which nothing arrives (no event, no bookmark, not even the answer's headers) for
   * this long is abandoned and opened again from the last resourceVersion. 0 turns it off.
   * @default 120_000
   */
  watchIdleTimeoutMs?: number;
  /**
   * How long the server lets one watch request last before it ends it (and it is re-opened). Kept
   * below three quarters of the idle timeout, so that a quiet watch is renewed before it counts as
   * silent. @default half to five eighths of the idle timeout, spread (300 without an idle timeout)
   */
  watchTimeoutSeconds?: number;
}

const DEFAULT_WATCH_IDLE_TIMEOUT_MS = 120_000;

const keyOf = (object: Manifest): string => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

export class Reflector {
  readonly #client: KubernetesClient;
  readonly #o: ReflectorOptions;
  readonly #objects = new Map<string, Manifest>();
  #resourceVersion = '';
  #synced = false;
  /** Lists and watch requests made, and watches abandoned as silent (for metrics and tests). */
  readonly stats = { lists: 0, watches: 0, idleTimeouts: 0 };

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
        const idleMs = await this.#watch(signal);
        failures = 0;
        if (idleMs !== undefined) {
          this.stats.idleTimeouts++;
          this.#o.logger.warn({ kind: this.#o.kind, resourceVersion: this.#resourceVersion }, `watch went silent (nothing for ${idleMs / 1000}s); watching again`);
        }
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
        await pause(delayMs, signal);
      }
    }
  }

  /** Remembers `object` in the local copy (as much of it as `keep` says). */
  #remember(key: string, object: Manifest): void {
    if (this.#o.keep === false) return;
    this.#objects.set(key, this.#o.keep ? this.#o.keep(object) : object);
  }

  async #relist(signal: AbortSignal): Promise<void> {
    this.stats.lists++;
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

  /** One watch request, until the server ends it; returns the idle timeout when it went silent instead. */
  async #watch(signal: AbortSignal): Promise<number | undefined> {
    const idleMs = this.#o.watchIdleTimeoutMs ?? DEFAULT_WATCH_IDLE_TIMEOUT_MS;
    const idle = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The time this side spends handling an event is not silence of the server's.
    const pause = (): void => clearTimeout(timer);
    const arm = (): void => {
      pause();
      if (idleMs > 0) timer = setTimeout(() => idle.abort(new Error(`watch silent for ${idleMs} ms`)), idleMs);
    };
    const wentSilent = (): boolean => idle.signal.aborted && !signal.aborted;
    this.stats.watches++;
    arm();
    try {
      const events = this.#client.watch(this.#o.apiVersion, this.#o.kind, {
        ...this.#selection(AbortSignal.any([signal, idle.signal])),
        resourceVersion: this.#resourceVersion,
        timeoutSeconds: watchTimeoutSeconds(this.#o.watchTimeoutSeconds, idleMs),
      });
      for await (const event of events) {
        pause();
        if (signal.aborted || idle.signal.aborted) break;
        await this.#handle(event);
        arm();
      }
    } catch (error) {
      // Aborting a silent watch ends its request with an error of its own (or none): it is no failure.
      if (wentSilent()) return idleMs;
      throw error;
    } finally {
      pause();
    }
    return wentSilent() ? idleMs : undefined;
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

/** The server-side length of one watch request: below the idle timeout, spread so that watches don't all renew at once. */
function watchTimeoutSeconds(configured: number | undefined, idleMs: number): number {
  if (idleMs <= 0) return configured ?? 300;
  const ceiling = Math.max(1, Math.floor((idleMs * 0.75) / 1000));
  if (configured !== undefined) return Math.max(1, Math.min(configured, ceiling));
  return Math.max(1, Math.floor((idleMs / 1000) * (0.5 + Math.random() * 0.125)));
}

