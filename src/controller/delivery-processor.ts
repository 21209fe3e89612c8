import type { ApiClient, KindClient } from '../client/api-client.ts';
import { isNotFound } from '../client/api-client.ts';
import type { Delivery } from '../bus/work-queue.ts';
import type { Logger } from '../log.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import { backoffDelay, lockWaitDelay, withJitter } from './backoff.ts';
import { acknowledgeDeletion, confirmDeletion, finalDelete } from './delete-protocol.ts';
import { errorMessage, isStaleObjectError, isTerminalError } from './errors.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics, ReconcileResultLabel } from './metrics.ts';
import type { Hint } from './notification.ts';
import type { Lease, ObjectLocks } from './object-locks.ts';
import type { CompiledRuntimeOptions } from './options.ts';
import { handlerFor, type Operation, type ReconcileContext, type Reconciler } from './reconciler.ts';
import { updateWithVersion, type Patch } from './write-back.ts';

/** Re-reads and reconcile passes one notification may take when writers keep racing it. */
const MAX_PASSES = 5;
const STATUS_PREFIX = 'reconcile failed';

export interface DeliveryProcessorOptions {
  reconciler: Reconciler;
  name: string;
  kind: Kind;
  client: ApiClient;
  locks: ObjectLocks;
  events: EventRecorder;
  options: Readonly<CompiledRuntimeOptions>;
  metrics: ControllerMetrics;
  logger: Logger;
  /** Aborted on shutdown; handed to reconcilers. */
  signal: AbortSignal;
}

/**
 * Handles one notification end to end: lock the object, re-read it, call the reconciler, write
 * the outcome back with the object's version, release the lock, and ack or nak the delivery.
 * Never throws.
 */
export class DeliveryProcessor {
  readonly #o: DeliveryProcessorOptions;
  readonly #kindClient: KindClient;
  readonly #hasStatus: boolean;

  constructor(options: DeliveryProcessorOptions) {
    this.#o = options;
    this.#kindClient = options.client.kind(options.kind.name);
    this.#hasStatus = 'Status' in options.kind.fields;
  }

  async process(delivery: Delivery, hint: Hint): Promise<void> {
    const { locks, metrics, name, options, logger } = this.#o;
    let lock;
    try {
      lock = await locks.acquire({ key: `${name}.${hint.id}`, sequence: delivery.sequence, ...(hint.version !== undefined && { version: hint.version }) });
    } catch (error) {
      logger.warn({ id: hint.id, err: error }, 'lock store unreachable; the notification is handed back');
      delivery.nak(withJitter(1000, 0.5));
      return;
    }
    if (lock.state === 'held') {
      metrics.lockWaits.inc({ reconciler: name });
      delivery.nak(lockWaitDelay(delivery.deliveryCount, options.lockWaitMs, options.lockTtlMs));
      return;
    }
    if (lock.state === 'covered') {
      this.#count('skipped');
      await delivery.ack();
      return;
    }
    const lease = lock.lease;
    metrics.startLatency.observe({ reconciler: name }, Math.max(0, Date.now() - delivery.storedAtMs) / 1000);
    metrics.inFlight.inc({ reconciler: name });
    const stopTimer = metrics.duration.startTimer({ reconciler: name });
    let operation: Operation | undefined;
    try {
      operation = await this.#reconcileLocked(delivery, hint, lease);
    } catch (error) {
      // Only a bug in the runtime gets here; hand the notification back rather than lose it.
      logger.error({ id: hint.id, err: error }, 'unexpected error while handling a notification');
      await lease.release();
      delivery.nak(withJitter(options.backoff.initialMs, options.backoff.jitter));
    } finally {
      stopTimer({ operation: operation ?? 'none' });
      metrics.inFlight.dec({ reconciler: name });
    }
  }

  /** Returns the operation reconciled, for the duration metric. */
  async #reconcileLocked(delivery: Delivery, hint: Hint, lease: Lease): Promise<Operation | undefined> {
    const { logger: baseLogger, reconciler, signal } = this.#o;
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      let object: ApiObject;
      try {
        object = await this.#kindClient.get(hint.id);
      } catch (error) {
        if (isNotFound(error)) return this.#finish(delivery, lease, 'skipped');
        await this.#fail(delivery, lease, hint, undefined, hint.operation, error);
        return undefined;
      }
      if (object.DeletionConfirmed) {
        // A crash between confirming and the final DELETE: finish the job.
        try {
          await finalDelete(this.#kindClient, object);
        } catch (error) {
          if (isStaleObjectError(error)) continue;
          await this.#fail(delivery, lease, hint, object, 'Deleted', error);
          return 'Deleted';
        }
        return this.#finish(delivery, lease, 'success', 'Deleted');
      }
      if (object.Reconciled === true && !object.DeletionScheduled) return this.#finish(delivery, lease, 'skipped');

      const operation: Operation = object.DeletionScheduled ? 'Deleted' : hint.operation === 'Created' ? 'Created' : 'Updated';
      const logger = baseLogger.child({ id: hint.id, operation });
      let current = object;
      try {
        if (operation === 'Deleted') current = await acknowledgeDeletion(this.#kindClient, current);
        const handler = handlerFor(reconciler, operation);
        const context = this.#context(operation, lease, logger, () => current, (next) => (current = next));
        const result = handler ? await handler(context) : undefined;
        if (signal.aborted) return this.#handBack(delivery, lease, operation);
        const requeueAfterMs = result?.requeueAfterMs ?? 0;
        if (requeueAfterMs > 0) {
          logger.debug({ requeueAfterMs }, 'reconcile asked to look again later');
          await lease.defer({ retryAt: Date.now() + requeueAfterMs, carrier: delivery.sequence, version: Number(current.Version), attempt: lease.attempt });
          delivery.nak(requeueAfterMs);
          this.#count('requeue');
          return operation;
        }
        if (operation === 'Deleted') await confirmDeletion(this.#kindClient, current);
        else await this.#markReconciled(current);
      } catch (error) {
        if (isStaleObjectError(error)) {
          logger.debug('the object changed while it was reconciled; reconciling the current state');
          continue;
        }
        if (signal.aborted) return this.#handBack(delivery, lease, operation);
        await this.#fail(delivery, lease, hint, current, operation, error);
        return operation;
      }
      if (lease.attempt > 0) logger.info({ attempts: lease.attempt + 1 }, 'reconciled after earlier failures');
      this.#recordSuccess(hint.id, operation);
      return this.#finish(delivery, lease, 'success', operation);
    }
    // Writers kept racing this reconcile: let it go around the queue once.
    await lease.release();
    delivery.nak(withJitter(this.#o.options.lockWaitMs, 0.5));
    this.#count('requeue');
    return undefined;
  }

  #context(operation: Operation, lease: Lease, logger: Logger, get: () => ApiObject, set: (object: ApiObject) => void): ReconcileContext {
    const { kind, client, signal, events } = this.#o;
    const kindClient = this.#kindClient;
    return {
      kind,
      operation,
      get object() {
        return get();
      },
      attempt: lease.attempt + 1,
      client,
      logger,
      signal,
      async update(patch: Patch) {
        const updated = await updateWithVersion(kindClient, get(), patch);
        set(updated);
        return updated;
      },
      recordEvent: (event) => events.record(kind, Number(get().ID), event),
    };
  }

  /** Reconciled=true with the version the reconcile worked from; clears an error the runtime wrote. */
  async #markReconciled(object: ApiObject): Promise<void> {
    const patch: ApiObject = { Reconciled: true };
    if (this.#hasStatus && typeof object.Status === 'string' && object.Status.startsWith(STATUS_PREFIX)) patch.Status = null;
    await updateWithVersion(this.#kindClient, object, patch);
  }

  async #fail(delivery: Delivery, lease: Lease, hint: Hint, object: ApiObject | undefined, operation: Operation, error: unknown): Promise<void> {
    const { options, logger, signal } = this.#o;
    const terminal = isTerminalError(error);
    const attempt = lease.attempt + 1;
    const delayMs = backoffDelay(attempt, options.backoff);
    const message = errorMessage(error);
    if (signal.aborted) {
      await this.#handBack(delivery, lease, operation);
      return;
    }
    logger[terminal ? 'error' : 'warn'](
      { id: hint.id, operation, attempt, ...(!terminal && { retryInMs: delayMs }), err: { message } },
      terminal ? 'reconcile failed and will not be retried' : 'reconcile failed; retrying with backoff',
    );
    let version = Number(object?.Version ?? hint.version ?? 0);
    if (object) {
      const status = terminal
        ? `${STATUS_PREFIX}, not retried: ${message}`
        : `${STATUS_PREFIX} (attempt ${attempt}, retrying in ${Math.max(1, Math.round(delayMs / 1000))}s): ${message}`;
      version = await this.#writeStatus(object, status);
      if (object.ID !== undefined) {
        const reason = `Failed${operation === 'Created' ? 'Create' : operation === 'Updated' ? 'Update' : 'Delete'}`;
        await this.#o.events.record(this.#o.kind, hint.id, { reason, note: message, type: 'Warning' }).catch((eventError: unknown) => {
          logger.debug({ id: hint.id, err: eventError }, 'could not record a failure event');
        });
      }
    }
    if (terminal) {
      // Our own Status write notifies again: the waiting record makes that a no-op, while a change
      // by anyone else (a newer version) is reconciled at once. A resync looks at it again later.
      const retryAt = Date.now() + Math.max(options.backoff.maxMs, options.resyncIntervalMs);
      await lease.defer({ retryAt, carrier: -1, version, attempt });
      await delivery.ack();
      this.#count('terminal');
      return;
    }
    await lease.defer({ retryAt: Date.now() + delayMs, carrier: delivery.sequence, version, attempt });
    delivery.nak(delayMs);
    this.#count('error');
  }

  /** Shows the error on the object, for kinds with a Status; returns the object's version after. */
  async #writeStatus(object: ApiObject, status: string): Promise<number> {
    const version = Number(object.Version);
    if (!this.#hasStatus || object.Status === status) return version;
    try {
      const updated = await updateWithVersion(this.#kindClient, object, { Status: status });
      return Number(updated.Version);
    } catch {
      return version; // changed meanwhile (that change notifies) or the API is away: the log has it
    }
  }

  #recordSuccess(id: number, operation: Operation): void {
    if (!this.#o.options.recordSuccessEvents) return;
    const reason = `Successful${operation === 'Created' ? 'Create' : operation === 'Updated' ? 'Update' : 'Delete'}`;
    const note = `${this.#o.kind.name} successfully reconciled for ${operation.toLowerCase()} operation`;
    this.#o.events.record(this.#o.kind, id, { reason, note }).catch((error: unknown) => {
      this.#o.logger.debug({ id, err: error }, 'could not record a success event');
    });
  }

  async #finish(delivery: Delivery, lease: Lease, result: ReconcileResultLabel, operation?: Operation): Promise<Operation | undefined> {
    await lease.release();
    await delivery.ack();
    this.#count(result);
    return operation;
  }

  /** Shutting down mid-reconcile: release the object and give the notification back for another replica. */
  async #handBack(delivery: Delivery, lease: Lease, operation: Operation): Promise<Operation> {
    await lease.release();
    delivery.nak(0);
    return operation;
  }

  #count(result: ReconcileResultLabel): void {
    this.#o.metrics.reconciles.inc({ reconciler: this.#o.name, result });
  }
}
