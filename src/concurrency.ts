/** Runs `work` on every item with at most `concurrency` at once; results in the items' order. */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(runners);
  return results;
}

/** Waits `milliseconds`: true when that time passed, false as soon as `signal` aborts. Never rejects. */
export function pause(milliseconds: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => finish(true), Math.max(0, milliseconds));
    const onAbort = (): void => finish(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    function finish(elapsed: boolean): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(elapsed);
    }
  });
}

/**
 * `work`'s outcome, or, as soon as `signal` aborts, a rejection with `reason()` (the signal's
 * reason by default). The work itself is not stopped: others may be waiting for it too.
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, reason: () => unknown = () => signal?.reason): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(reason());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Loads shared by every caller asking for the same key: the first caller's load runs on its own,
 * not bound to that caller's signal (it would fail the others when that one reconcile stops), and
 * each caller stops waiting when its own signal aborts. A load that fails is forgotten at once;
 * one that succeeds is kept while `keep` is true (a cache), or forgotten once done.
 */
export class SharedLoads<V> {
  readonly #loads = new Map<string, Promise<V>>();
  readonly #maxKept: number;
  readonly #keep: boolean;

  constructor(options: { keep: boolean; maxKept?: number }) {
    this.#keep = options.keep;
    this.#maxKept = options.maxKept ?? 1000;
  }

  get(key: string, load: () => Promise<V>, signal?: AbortSignal): Promise<V> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    let shared = this.#loads.get(key);
    if (!shared) {
      const started = load();
      shared = started;
      this.#loads.set(key, started);
      started.then(
        () => {
          if (!this.#keep && this.#loads.get(key) === started) this.#loads.delete(key);
        },
        () => {
          if (this.#loads.get(key) === started) this.#loads.delete(key);
        },
      );
      if (this.#loads.size > this.#maxKept) this.#loads.delete(this.#loads.keys().next().value!);
    }
    return unlessAborted(shared, signal);
  }

  forget(key?: string): void {
    if (key === undefined) this.#loads.clear();
    else this.#loads.delete(key);
  }
}

/** `work`'s outcome, or a rejection with `timedOut()` if it takes longer than `milliseconds` (0: no limit). */
export function withTimeLimit<T>(work: Promise<T>, milliseconds: number, timedOut: () => Error): Promise<T> {
  if (milliseconds <= 0) return work;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(timedOut()), milliseconds);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A signal scoped to one piece of work: see scopedSignal. */
export interface ScopedSignal {
  readonly signal: AbortSignal;
  /** Whether it aborted because its time ran out (not because a source did). */
  timedOut(): boolean;
  /** Detaches it from its sources and stops its timer; it never aborts afterwards. */
  dispose(): void;
}

/**
 * A signal that aborts when any of `sources` does, or after `timeoutMs`, for work that ends before
 * them. AbortSignal.any and AbortSignal.timeout cannot be released: the timer and the sources'
 * references to the combined signal live until they fire, so a signal per reconcile under a
 * controller's lifelong one held ~10 kB per reconcile of the last time-limit window
 * (docs/footprint.md). `dispose()` when the work ends releases both.
 */
export function scopedSignal(sources: readonly AbortSignal[], timeoutMs?: number): ScopedSignal {
  const controller = new AbortController();
  const alreadyAborted = sources.find((source) => source.aborted);
  if (alreadyAborted) {
    controller.abort(alreadyAborted.reason);
    return { signal: controller.signal, timedOut: () => false, dispose: () => undefined };
  }
  let expired = false;
  const fromSource = (event: Event): void => controller.abort((event.target as AbortSignal).reason);
  for (const source of sources) source.addEventListener('abort', fromSource, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          expired = true;
          controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
        }, timeoutMs).unref();
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose() {
      clearTimeout(timer);
      for (const source of sources) source.removeEventListener('abort', fromSource);
    },
  };
}
