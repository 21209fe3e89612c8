import type { ApiClient } from '../client/api-client.ts';
import type { Logger } from '../log.ts';
import type { ConditionUpdate } from '../model/conditions.ts';
import type { ApiObject, Kind } from '../model/kind.ts';

/** What the object needs, as the runtime derives it from the object's state (never from which notification arrived). */
export type Operation = 'Created' | 'Updated' | 'Deleted';

/**
 * What a reconcile asks of the runtime. `undefined` (or `{}`) means done: the runtime marks the
 * generation it reconciled as observed and the object Reconciled (or, for a deletion, confirms it
 * and removes the object).
 */
export interface ReconcileResult {
  /** Not finished, not failed: look again after this long (polling a long-running cloud operation). */
  requeueAfterMs?: number;
  /**
   * Not done, and not failed either: waiting for something outside this object (a definition not
   * reconciled yet, a runtime without connection details). Shown in Status as `Waiting: <this>`,
   * without failure events; looked at again when someone requests it (requestReconcile), or after
   * `requeueAfterMs` (default 30 s).
   */
  waiting?: string;
}

/** Everything a reconcile gets. It reads and writes only through the API. */
export interface ReconcileContext<T extends ApiObject = ApiObject> {
  readonly kind: Kind;
  readonly operation: Operation;
  /** The object as just re-read from the API (never the notification's copy); follows `update()`. */
  readonly object: T;
  /** 1 on the first try since the last success; counts failures, not lock waits or requeues. */
  readonly attempt: number;
  /** The API client; its requests end when `signal` aborts. */
  readonly client: ApiClient;
  /** Carries kind, id and operation. */
  readonly logger: Logger;
  /**
   * Aborted when this reconcile must stop: the process shuts down, the object's lock was lost to
   * another replica, or the reconciler's time limit passed. Pass it to every long call (platform
   * adapters take it); after it aborts, writes through this context are refused.
   */
  readonly signal: AbortSignal;
  /**
   * Writes to this object with its version. A function patch is recomputed on the freshly read
   * object when someone else wrote in between (return undefined to skip the write); a plain patch
   * is re-applied when only controller-owned fields moved, and throws StaleObjectError (the
   * runtime then reconciles the current state) when the desired state changed.
   */
  update(patch: Partial<T> | ((current: T) => Partial<T> | undefined)): Promise<T>;
  /** Sets one of the object's Conditions (and the Status line summarising them); writes nothing when unchanged. */
  setCondition(condition: ConditionUpdate): Promise<void>;
  /** Records an Event on this object (deduplicated: a repeat increments its Count). */
  recordEvent(event: { reason: string; note: string; type?: 'Normal' | 'Warning' }): Promise<void>;
  /**
   * Asks for a reconcile of another object (e.g. every instance of a definition that changed),
   * whatever its state. Sent once this reconcile's outcome is recorded, so the object asked sees
   * this one as it then is (a definition Reconciled, a runtime Ready).
   */
  requestReconcile(kind: string, id: number, reason: string): Promise<void>;
  /**
   * For long-running creates (a cluster, a database): says the create has started, and each call
   * after is a heartbeat (CreationAcknowledged is its time). When the reconcile that follows one
   * succeeds, the runtime confirms the creation (CreationConfirmed); a terminal failure of a create
   * sets CreationFailed, which the next success clears.
   */
  acknowledgeCreation(): Promise<void>;
  /** Decrypts a field the API encrypted (runtime credentials, account keys); the plaintext is kept out of every message the runtime writes. */
  decrypt(value: unknown): unknown;
  /** Encrypts a value the controller makes and must keep secret (a generated password kept in an inventory), in the API's format. */
  encrypt(plaintext: string): string;
}

export type ReconcileOutcome = ReconcileResult | void;
export type ReconcileHandler<T extends ApiObject = ApiObject> = (context: ReconcileContext<T>) => Promise<ReconcileOutcome>;

interface ReconcilerBase {
  /** The kind it reconciles, by type name, e.g. "WorkloadInstance". One reconciler per kind. */
  kind: string;
  /** Names the consumer (`<name>Consumer`) and the lock keys; default `<kind>Reconciler`. */
  name?: string;
  /** A reconcile running longer is aborted (its signal fires) and retried with backoff. @default 300000 */
  timeoutMs?: number;
  /** Caps the backoff between retries of this kind (e.g. a cluster that comes back should be seen soon). */
  maxRetryDelayMs?: number;
  /** The domain condition whose Reason is the object's Status word when it is reconciled (e.g. Healthy). */
  statusCondition?: string;
  /**
   * Reconcile every object of the kind this often, reconciled or not (re-verification, drift
   * correction); objects are spread over the interval. 0 or absent: only objects that need it.
   */
  resyncIntervalMs?: number;
}

/** Handlers per operation, as the original's reconcilers are written. A missing handler is a no-op. */
export interface OperationReconciler<T extends ApiObject = ApiObject> extends ReconcilerBase {
  created?: ReconcileHandler<T>;
  updated?: ReconcileHandler<T>;
  deleted?: ReconcileHandler<T>;
}

/** One level-triggered function that looks at the object's state (`context.operation` says what the runtime saw). */
export interface LevelReconciler<T extends ApiObject = ApiObject> extends ReconcilerBase {
  reconcile: ReconcileHandler<T>;
}

/**
 * A reconciler holds domain logic only. The runtime queues, locks, re-reads, retries with
 * backoff, writes `Reconciled` and the observed generation, runs the two-phase delete and
 * reports errors.
 *
 * A thrown error is retried with exponential backoff (and shown on the object); a TerminalError,
 * or the API refusing a request (4xx), is recorded and not retried until the object changes or a
 * resync finds it still unreconciled. Handlers must be idempotent: a retry or another replica may
 * run the same step again.
 */
export type Reconciler<T extends ApiObject = ApiObject> = OperationReconciler<T> | LevelReconciler<T>;

export const DEFAULT_RECONCILE_TIMEOUT_MS = 300_000;

export const reconcilerName = (reconciler: Reconciler): string => reconciler.name ?? `${reconciler.kind}Reconciler`;

/** The handler for one operation. */
export function handlerFor(reconciler: Reconciler, operation: Operation): ReconcileHandler | undefined {
  if ('reconcile' in reconciler) return reconciler.reconcile;
  return operation === 'Created' ? reconciler.created : operation === 'Updated' ? reconciler.updated : reconciler.deleted;
}

/** Checks a reconciler's shape; returns it unchanged (for type inference at the definition site). */
export function defineReconciler<T extends ApiObject, R extends Reconciler<T> = Reconciler<T>>(reconciler: R): R {
  const handlers = 'reconcile' in reconciler ? [reconciler.reconcile] : [reconciler.created, reconciler.updated, reconciler.deleted];
  if (!handlers.some((handler) => typeof handler === 'function')) {
    throw new TypeError(`reconciler for ${reconciler.kind} has no handler: give it reconcile() or created/updated/deleted()`);
  }
  if (reconciler.timeoutMs !== undefined && !(reconciler.timeoutMs > 0)) throw new TypeError(`reconciler for ${reconciler.kind}: timeoutMs must be positive`);
  return reconciler;
}
