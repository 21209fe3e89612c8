/** How the runtime runs reconcilers. Every field is optional; see `compileRuntimeOptions`. */
export interface RuntimeOptions {
  /**
   * Reconciles running at once per reconciler in this process (replicas add theirs), either one
   * number for all or per reconciler name.
   * @default 8
   */
  concurrency?: number | Record<string, number>;
  /**
   * How long a lock holder that stopped refreshing (a crashed replica) keeps the lock. Holders
   * refresh every third of it.
   * @default 30000
   */
  lockTtlMs?: number;
  /**
   * JetStream ack wait: a delivery neither acked nor kept alive for this long is redelivered.
   * In-flight deliveries are kept alive every third of it.
   * @default 30000
   */
  ackWaitMs?: number;
  /** Retry spacing after failures: initial × 2^(attempt-1), capped, ± jitter. */
  backoff?: {
    /** @default 1000 */
    initialMs?: number;
    /** @default 300000 */
    maxMs?: number;
    /** Fraction of the delay added or removed at random. @default 0.2 */
    jitter?: number;
  };
  /**
   * First wait before trying again an object another replica holds (doubles per wait, up to the
   * lock TTL).
   * @default 200
   */
  lockWaitMs?: number;
  /**
   * How often to list unreconciled objects and queue them again (0: only at start).
   * @default 300000
   */
  resyncIntervalMs?: number;
  /**
   * On stop, how long in-flight reconciles may take to finish before their locks are released
   * and their notifications handed back.
   * @default 10000
   */
  shutdownGraceMs?: number;
  /**
   * Record a Successful<Operation> Event after each success, as the original does. Off by
   * default: it costs three API calls per reconcile. Failures always record an Event.
   * @default false
   */
  recordSuccessEvents?: boolean;
  /** How long one pull waits for messages. @default 10000 */
  fetchExpiresMs?: number;
}

export interface CompiledRuntimeOptions {
  concurrencyFor(reconcilerName: string): number;
  lockTtlMs: number;
  ackWaitMs: number;
  backoff: { initialMs: number; maxMs: number; jitter: number };
  lockWaitMs: number;
  resyncIntervalMs: number;
  shutdownGraceMs: number;
  recordSuccessEvents: boolean;
  fetchExpiresMs: number;
}

export class OptionsError extends Error {}

function positive(name: string, value: number | undefined, fallback: number, { allowZero = false } = {}): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < 0 || (!allowZero && result === 0)) {
    throw new OptionsError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, not ${String(value)}`);
  }
  return result;
}

/** Applies defaults and checks the options; the result is frozen. */
export function compileRuntimeOptions(options: RuntimeOptions = {}): Readonly<CompiledRuntimeOptions> {
  const concurrency = options.concurrency ?? 8;
  const perName = typeof concurrency === 'number' ? {} : concurrency;
  const uniform = typeof concurrency === 'number' ? Math.floor(positive('concurrency', concurrency, 8)) : 8;
  for (const [name, value] of Object.entries(perName)) positive(`concurrency of ${name}`, value, 8);
  const lockTtlMs = positive('lockTtlMs', options.lockTtlMs, 30_000);
  const initialMs = positive('backoff.initialMs', options.backoff?.initialMs, 1000);
  const maxMs = positive('backoff.maxMs', options.backoff?.maxMs, 300_000);
  if (maxMs < initialMs) throw new OptionsError('backoff.maxMs cannot be less than backoff.initialMs');
  const jitter = positive('backoff.jitter', options.backoff?.jitter, 0.2, { allowZero: true });
  if (jitter >= 1) throw new OptionsError('backoff.jitter must be below 1');
  return Object.freeze({
    concurrencyFor: (name: string) => Math.floor(perName[name] ?? uniform),
    lockTtlMs,
    ackWaitMs: positive('ackWaitMs', options.ackWaitMs, 30_000),
    backoff: Object.freeze({ initialMs, maxMs, jitter }),
    lockWaitMs: positive('lockWaitMs', options.lockWaitMs, 200),
    resyncIntervalMs: positive('resyncIntervalMs', options.resyncIntervalMs, 300_000, { allowZero: true }),
    shutdownGraceMs: positive('shutdownGraceMs', options.shutdownGraceMs, 10_000, { allowZero: true }),
    recordSuccessEvents: options.recordSuccessEvents ?? false,
    fetchExpiresMs: positive('fetchExpiresMs', options.fetchExpiresMs, 10_000),
  });
}
