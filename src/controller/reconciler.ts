import type { ApiClient } from '../client/api-client.ts';
import type { Logger } from '../log.ts';
import type { ApiObject, Kind } from '../model/kind.ts';

/** What changed, as the runtime derives it from the notification and the object's state. */
export type Operation = 'Created' | 'Updated' | 'Deleted';

/**
 * What a reconcile asks of the runtime. `undefined` (or `{}`) means done: the runtime marks the
 * object reconciled (or, for a deletion, confirms it and removes the object).
 */
export interface ReconcileResult {
  /** Not finished, not failed: look again after this long (polling a long-running cloud operation). */
  requeueAfterMs?: number;
}

/** Everything a reconcile gets. It reads and writes only through the API. */
export interface ReconcileContext {
  readonly kind: Kind;
  readonly operation: Operation;
  /** The object as just re-read from the API (never the notification's copy); follows `update()`. */
  readonly object: ApiObject;
  /** 1 on the first try since the last success; counts failures, not lock waits or requeues. */
  readonly attempt: number;
  readonly client: ApiClient;
  /** Carries kind, id and operation. */
  readonly logger: Logger;
  /** Aborted when the process shuts down: pass it to long calls. */
  readonly signal: AbortSignal;
  /**
   * Writes to this object with its version. A function patch is recomputed on the freshly read
   * object when someone else wrote in between (return undefined to skip the write); a plain patch
   * that meets a newer version throws StaleObjectError, which makes the runtime reconcile again
   * from the current state instead of overwriting it.
   */
  update(patch: ApiObject | ((current: ApiObject) => ApiObject | undefined)): Promise<ApiObject>;
  /** Records an Event on this object (deduplicated: a repeat increments its Count). */
  recordEvent(event: { reason: string; note: string; type?: 'Normal' | 'Warning' }): Promise<void>;
}

export type ReconcileOutcome = ReconcileResult | void;
export type ReconcileHandler = (context: ReconcileContext) => Promise<ReconcileOutcome>;

interface ReconcilerBase {
  /** The kind it reconciles, by type name, e.g. "WorkloadInstance". */
  kind: string;
  /** Names the consumer (`<name>Consumer`) and the lock keys; default `<kind>Reconciler`. */
  name?: string;
}

/** Handlers per operation, as the original's reconcilers are written. A missing handler is a no-op. */
export interface OperationReconciler extends ReconcilerBase {
  created?: ReconcileHandler;
  updated?: ReconcileHandler;
  deleted?: ReconcileHandler;
}

/** One level-triggered function that looks at the object's state (`context.operation` says what the runtime saw). */
export interface LevelReconciler extends ReconcilerBase {
  reconcile: ReconcileHandler;
}

/**
 * A reconciler holds domain logic only. The runtime queues, locks, re-reads, retries with
 * backoff, writes `Reconciled`, runs the two-phase delete and reports errors.
 *
 * A thrown error is retried with exponential backoff (and shown on the object); a TerminalError is
 * recorded and not retried until the object changes or a resync finds it still unreconciled.
 * Handlers must be idempotent: a retry or another replica may run the same step again.
 */
export type Reconciler = OperationReconciler | LevelReconciler;

export const reconcilerName = (reconciler: Reconciler): string => reconciler.name ?? `${reconciler.kind}Reconciler`;

/** The handler for one operation. */
export function handlerFor(reconciler: Reconciler, operation: Operation): ReconcileHandler | undefined {
  if ('reconcile' in reconciler) return reconciler.reconcile;
  return operation === 'Created' ? reconciler.created : operation === 'Updated' ? reconciler.updated : reconciler.deleted;
}

/** Checks a reconciler's shape; returns it unchanged (for type inference at the definition site). */
export function defineReconciler<R extends Reconciler>(reconciler: R): R {
  const handlers = 'reconcile' in reconciler ? [reconciler.reconcile] : [reconciler.created, reconciler.updated, reconciler.deleted];
  if (!handlers.some((handler) => typeof handler === 'function')) {
    throw new TypeError(`reconciler for ${reconciler.kind} has no handler: give it reconcile() or created/updated/deleted()`);
  }
  return reconciler;
}
