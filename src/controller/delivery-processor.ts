import type { ApiClient, KindClient } from '../client/api-client.ts';
import { isNotFound } from '../client/api-client.ts';
import type { Delivery } from '../bus/work-queue.ts';
import type { Publisher } from '../bus/publisher.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Logger } from '../log.ts';
import { conditionsOf, RECONCILED, statusLine, TERMINAL_FAILURE_REASON, withCondition, type Condition, type ConditionUpdate } from '../model/conditions.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import { requestNotification, type Notification, type NotificationHint } from '../model/notification.ts';
import type { Registry } from '../model/registry.ts';
import { pause, scopedSignal, unlessAborted, type ScopedSignal } from '../concurrency.ts';
import { backoffDelay, lockWaitDelay, withJitter } from './backoff.ts';
import { acknowledgeDeletion, confirmDeletion, finalDelete } from './delete-protocol.ts';
import { failureKind, isStaleObjectError, retryAfterOf, StaleObjectError } from './errors.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics, ReconcileResultLabel } from './metrics.ts';
import type { Lease, ObjectLocks } from './object-locks.ts';
import type { CompiledRuntimeOptions } from './options.ts';
import { DEFAULT_RECONCILE_TIMEOUT_MS, handlerFor, type Operation, type ReconcileContext, type Reconciler } from './reconciler.ts';
import { errorMessage, redact } from './redact.ts';
import { updateWithVersion, type Patch } from './write-back.ts';

/** A reconcile request a handler made, sent once the handler's outcome is recorded. */
type PendingRequest = Notification;

/** Re-reads and reconcile passes one notification may take when writers keep racing it. */
const MAX_PASSES = 5;
const DEFAULT_WAIT_MS = 30_000;
/** Tries of each reconcile request before the requester is marked for reconcile again. */
const SEND_ATTEMPTS = 3;

export interface DeliveryProcessorOptions {
  reconciler: Reconciler;
  name: string;
  kind: Kind;
  registry: Registry;
  client: ApiClient;
  locks: ObjectLocks;
  events: EventRecorder;
  /** Where requestReconcile publishes. */
  publisher: Publisher;
  /** Decrypts fields for reconcilers; absent when the process was given no key. */
  cipher: FieldCipher | undefined;
  options: Readonly<CompiledRuntimeOptions>;
  metrics: ControllerMetrics;
  logger: Logger;
  /** Aborted on shutdown; handed to reconcilers. */
  signal: AbortSignal;
}

/** Why a reconcile stopped before its handler returned. */
class Stopped extends Error {
  readonly why: 'shutdown' | 'lock lost' | 'timeout';
  constructor(why: Stopped['why'], message: string) {
    super(message);
    this.why = why;
  }
}

/**
 * Handles one notification end to end: lock the object, re-read it, derive what it needs, call
 * the reconciler under a signal (shutdown, lock lost, time limit), write the outcome back with the
 * object's generation, release the lock, and ack or nak the delivery. Never throws.
 */
export class DeliveryProcessor {
  readonly #o: DeliveryProcessorOptions;
  readonly #timeoutMs: number;

  constructor(options: DeliveryProcessorOptions) {
    this.#o = options;
    this.#timeoutMs = options.reconciler.timeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS;
  }

  async process(delivery: Delivery, hint: NotificationHint): Promise<void> {
    const { locks, metrics, name, options, logger } = this.#o;
    let lock;
    try {
      lock = await locks.acquire({
        key: `${name}.${hint.id}`,
        sequence: delivery.sequence,
        ...(hint.version !== undefined && { version: hint.version }),
        ...(hint.requested && { requested: true }),
      });
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
    const requests: PendingRequest[] = [];
    // The handler's requests go once its outcome is recorded, before the notification is done with.
    const answered = this.#sendingFirst(delivery, () => this.#sendRequests(requests, hint.id));
    try {
      operation = await this.#reconcileLocked(answered, hint, lease, requests);
    } catch (error) {
      // Only a bug in the runtime gets here; hand the notification back rather than lose it.
      logger.error({ id: hint.id, err: error }, 'unexpected error while handling a notification');
      await lease.release();
      answered.nak(withJitter(options.backoff.initialMs, options.backoff.jitter));
    } finally {
      stopTimer({ operation: operation ?? 'none' });
      metrics.inFlight.dec({ reconciler: name });
    }
  }

  /** `delivery`, whose ack and nak first run `before` (once). */
  #sendingFirst(delivery: Delivery, before: () => Promise<void>): Delivery {
    let sent: Promise<void> | undefined;
    const once = (): Promise<void> => (sent ??= before());
    return {
      subject: delivery.subject,
      payload: delivery.payload,
      sequence: delivery.sequence,
      deliveryCount: delivery.deliveryCount,
      storedAtMs: delivery.storedAtMs,
      ack: async () => {
        await once();
        await delivery.ack();
      },
      nak: (delayMs) => void once().finally(() => delivery.nak(delayMs)),
      working: () => delivery.working(),
      term: () => delivery.term(),
    };
  }

  /**
   * Sends the reconcile requests a handler made, once its outcome is recorded: the objects asked
   * then see the requester as it now is (e.g. Reconciled), not as it was mid-reconcile. A broker
   * that does not take them (after a few tries) leaves the requester unreconciled, so it is
   * reconciled — and asks — again once the bus is back (its notification waits in the outbox).
   */
  async #sendRequests(requests: readonly PendingRequest[], requesterId: number): Promise<void> {
    const unsent: PendingRequest[] = [];
    for (const request of new Map(requests.map((request) => [request.messageId, request])).values()) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#o.publisher.publish(request.subject, request.payload, request.messageId);
          break;
        } catch (error) {
          if (attempt < SEND_ATTEMPTS && (await pause(withJitter(250 * 2 ** attempt, 0.3), this.#o.signal))) continue;
          this.#o.logger.warn({ id: requesterId, err: error, subject: request.subject }, 'could not send a reconcile request');
          unsent.push(request);
          break;
        }
      }
    }
    if (unsent.length === 0) return;
    await this.#o.client
      .kind(this.#o.kind.name)
      .update(requesterId, { Reconciled: false })
      .then(
        () => this.#o.logger.warn({ id: requesterId, unsent: unsent.length }, 'reconcile requests not sent: the object is marked for reconcile again, to ask again'),
        (error: unknown) => this.#o.logger.error({ id: requesterId, err: error }, 'reconcile requests not sent, and the object could not be marked for reconcile again; resync re-verifies what it can'),
      );
  }

  /** Returns the operation reconciled, for the duration metric. */
  async #reconcileLocked(delivery: Delivery, hint: NotificationHint, lease: Lease, requests: PendingRequest[]): Promise<Operation | undefined> {
    // One signal for the whole reconcile: shutdown, the lock taken over, or the time limit.
    const scope = scopedSignal([this.#o.signal, lease.signal], this.#timeoutMs);
    try {
      return await this.#reconcileUnder(scope, delivery, hint, lease, requests);
    } finally {
      scope.dispose();
    }
  }

  async #reconcileUnder(scope: ScopedSignal, delivery: Delivery, hint: NotificationHint, lease: Lease, requests: PendingRequest[]): Promise<Operation | undefined> {
    const { logger: baseLogger } = this.#o;
    const { signal } = scope;
    const client = this.#o.client.withSignal(signal);
    const kindClient = client.kind(this.#o.kind.name);
    const stopped = (): Stopped | undefined => {
      if (this.#o.signal.aborted) return new Stopped('shutdown', 'the controller is shutting down');
      if (lease.signal.aborted) return new Stopped('lock lost', lease.signal.reason instanceof Error ? lease.signal.reason.message : 'the object’s lock was lost');
      if (scope.timedOut()) return new Stopped('timeout', `the reconcile did not finish within ${Math.round(this.#timeoutMs / 1000)}s`);
      return undefined;
    };

    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      let object: ApiObject;
      try {
        object = await kindClient.get(hint.id);
      } catch (error) {
        if (isNotFound(error)) return this.#finish(delivery, lease, 'skipped');
        const halt = signal.aborted ? stopped() : undefined;
        if (halt && halt.why !== 'timeout') return this.#handBack(delivery, lease, undefined, halt);
        await this.#fail(delivery, lease, hint, undefined, 'Updated', halt ?? error, []);
        return undefined;
      }
      if (object.DeletionConfirmed) {
        // A crash between confirming and the final DELETE: finish the job.
        try {
          await finalDelete(kindClient, object);
        } catch (error) {
          if (isStaleObjectError(error)) continue;
          await this.#fail(delivery, lease, hint, object, 'Deleted', error, []);
          return 'Deleted';
        }
        return this.#finish(delivery, lease, 'success', 'Deleted');
      }
      const deleting = Boolean(object.DeletionScheduled);
      if (object.Reconciled === true && !deleting && !hint.requested) return this.#finish(delivery, lease, 'skipped');
      if (object.InterruptReconciliation === true && !deleting) {
        await this.#setCondition(kindClient, object, { Type: RECONCILED, Status: 'False', Reason: 'Interrupted', Message: 'InterruptReconciliation is true; set it to false to resume' });
        return this.#finish(delivery, lease, 'skipped');
      }

      const operation: Operation = deleting ? 'Deleted' : object.ObservedGeneration === undefined ? 'Created' : 'Updated';
      const logger = baseLogger.child({ id: hint.id, operation, ...(hint.requested && { requested: hint.requested }) });
      const secrets = new Set<string>();
      let current = object;
      try {
        if (operation === 'Deleted') current = await acknowledgeDeletion(kindClient, current);
        const handler = handlerFor(this.#o.reconciler, operation);
        const context = this.#context({ operation, lease, logger, signal, client, kindClient, hint, secrets, requests, get: () => current, set: (next) => (current = next) });
        const result = handler ? await unlessAborted(handler(context), signal, () => stopped() ?? new Error('the reconcile was stopped')) : undefined;
        const halt = stopped();
        if (halt) throw halt;
        if (result?.waiting) {
          const waitMs = result.requeueAfterMs ?? DEFAULT_WAIT_MS;
          logger.debug({ waiting: result.waiting, waitMs }, 'reconcile is waiting for something else');
          await this.#setCondition(kindClient, current, { Type: RECONCILED, Status: 'False', Reason: 'Waiting', Message: redact(result.waiting, secrets), ObservedGeneration: Number(current.Generation ?? 0) });
          return this.#requeue(delivery, lease, current, waitMs, operation);
        }
        const requeueAfterMs = result?.requeueAfterMs ?? 0;
        if (requeueAfterMs > 0) {
          logger.debug({ requeueAfterMs }, 'reconcile asked to look again later');
          return this.#requeue(delivery, lease, current, requeueAfterMs, operation);
        }
        if (operation === 'Deleted') await confirmDeletion(kindClient, current);
        else await this.#markReconciled(kindClient, current, Number(object.Generation ?? 0));
      } catch (error) {
        if (isStaleObjectError(error)) {
          logger.debug('the desired state changed while it was reconciled; reconciling the current state');
          continue;
        }
        const halt = error instanceof Stopped ? error : signal.aborted ? stopped() : undefined;
        if (halt && halt.why !== 'timeout') return this.#handBack(delivery, lease, operation, halt);
        await this.#fail(delivery, lease, hint, current, operation, halt ?? error, secrets);
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

  #context(parts: {
    operation: Operation;
    lease: Lease;
    logger: Logger;
    signal: AbortSignal;
    client: ApiClient;
    kindClient: KindClient;
    hint: NotificationHint;
    secrets: Set<string>;
    requests: PendingRequest[];
    get: () => ApiObject;
    set: (object: ApiObject) => void;
  }): ReconcileContext {
    const { kind, events, registry, cipher } = this.#o;
    const { get, set, signal, kindClient, secrets } = parts;
    const guard = (): void => {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the reconcile was stopped');
    };
    const setCondition = async (condition: ConditionUpdate): Promise<void> => {
      guard();
      set(await this.#setCondition(kindClient, get(), { ...condition, ...(condition.Message !== undefined && { Message: redact(condition.Message, secrets) }) }));
    };
    return {
      kind,
      operation: parts.operation,
      get object() {
        return get();
      },
      attempt: parts.lease.attempt + 1,
      client: parts.client,
      logger: parts.logger,
      signal,
      async update(patch: Patch) {
        guard();
        const updated = await updateWithVersion(kindClient, get(), patch);
        set(updated);
        return updated;
      },
      setCondition,
      acknowledgeCreation: async () => {
        guard();
        if (!('CreationAcknowledged' in kind.fields)) return;
        set(await updateWithVersion(kindClient, get(), () => ({ CreationAcknowledged: new Date().toISOString() })));
      },
      recordEvent: async (event) => {
        guard();
        await events.record(kind, Number(get().ID), { ...event, note: redact(event.note, secrets) }, parts.client);
      },
      requestReconcile: async (kindName, id, reason) => {
        guard();
        const target = registry.get(kindName);
        if (!target.controller) throw new Error(`${kindName} has no controller to reconcile it`);
        // Deduplicated per version of the requester: a retried reconcile asks once, a new version asks again.
        const from = `${kind.name} ${String(get().ID)}`;
        parts.requests.push(requestNotification(target, id, `${reason} (from ${from})`, new Date(), `${reason}|${from}|${String(get().Version)}`));
      },
      encrypt(plaintext) {
        if (!cipher) throw new Error('this controller process has no encryption key: start it with --encryption-key or THREEPORT_ENCRYPTION_KEY');
        secrets.add(plaintext);
        return cipher.encrypt(plaintext);
      },
      decrypt(value) {
        if (!cipher) throw new Error('this controller process has no encryption key: start it with --encryption-key or THREEPORT_ENCRYPTION_KEY');
        const plain = cipher.decryptValue(value);
        if (typeof plain === 'string') secrets.add(plain);
        else if (plain && typeof plain === 'object') for (const entry of Object.values(plain)) secrets.add(String(entry));
        return plain;
      },
    };
  }

  /**
   * Marks the generation the reconcile worked from as observed and the object Reconciled, unless
   * the desired state changed meanwhile (then StaleObjectError: reconcile again). Writes nothing
   * when all that is already so (a re-verification of a reconciled object).
   */
  async #markReconciled(client: KindClient, object: ApiObject, generation: number): Promise<void> {
    await updateWithVersion(client, object, (current) => {
      if (Number(current.Generation ?? 0) !== generation) throw new StaleObjectError();
      const before = conditionsOf(current);
      const conditions = withCondition(before, { Type: RECONCILED, Status: 'True', Reason: 'Reconciled', ObservedGeneration: generation });
      const patch: ApiObject = {};
      if (current.Reconciled !== true) patch.Reconciled = true;
      if (current.ObservedGeneration !== generation && current.Generation !== undefined) patch.ObservedGeneration = generation;
      if (conditions !== before) Object.assign(patch, this.#statusPatch(current, conditions));
      if (current.CreationFailed === true) patch.CreationFailed = false;
      if (current.CreationAcknowledged && !current.CreationConfirmed) patch.CreationConfirmed = new Date().toISOString();
      return Object.keys(patch).length > 0 ? patch : undefined;
    });
  }

  /** The Conditions and the Status line they give, for kinds that have them. */
  #statusPatch(object: ApiObject, conditions: readonly Condition[]): ApiObject {
    const { kind, reconciler } = this.#o;
    const patch: ApiObject = {};
    if ('Conditions' in kind.fields) patch.Conditions = conditions;
    if ('Status' in kind.fields) {
      const line = statusLine(conditions, reconciler.statusCondition);
      if (line !== undefined && line !== object.Status) patch.Status = line;
    }
    return patch;
  }

  /** Sets one condition (and Status) with a version-retrying write; returns the object as stored. */
  async #setCondition(client: KindClient, object: ApiObject, condition: ConditionUpdate): Promise<ApiObject> {
    if (!('Conditions' in this.#o.kind.fields)) return object;
    return updateWithVersion(client, object, (current) => {
      const before = conditionsOf(current);
      const after = withCondition(before, condition);
      if (after === before) return undefined;
      return this.#statusPatch(current, after);
    });
  }

  async #requeue(delivery: Delivery, lease: Lease, object: ApiObject, waitMs: number, operation: Operation): Promise<Operation> {
    await lease.defer({ waitMs, carrier: delivery.sequence, version: Number(object.Version), attempt: lease.attempt });
    delivery.nak(waitMs);
    this.#count('requeue');
    return operation;
  }

  async #fail(delivery: Delivery, lease: Lease, hint: NotificationHint, object: ApiObject | undefined, operation: Operation, error: unknown, secrets: Iterable<string>): Promise<void> {
    const { options, logger, kind } = this.#o;
    const terminal = failureKind(error) === 'terminal';
    const attempt = lease.attempt + 1;
    const backoff = { ...options.backoff, maxMs: Math.min(options.backoff.maxMs, this.#o.reconciler.maxRetryDelayMs ?? Infinity) };
    const delayMs = Math.max(backoffDelay(attempt, { ...backoff, initialMs: Math.min(backoff.initialMs, backoff.maxMs) }), retryAfterOf(error) ?? 0);
    const message = errorMessage(error, secrets);
    logger[terminal ? 'error' : 'warn'](
      { id: hint.id, operation, attempt, ...(!terminal && { retryInMs: delayMs }), err: { message } },
      terminal ? 'reconcile failed and will not be retried' : 'reconcile failed; retrying with backoff',
    );
    let version = Number(object?.Version ?? hint.version ?? 0);
    if (object) {
      const client = this.#o.client.kind(kind.name);
      try {
        // The message, not the attempt count, is the condition: a retry failing the same way writes nothing.
        const updated = await this.#setCondition(client, object, {
          Type: RECONCILED,
          Status: 'False',
          Reason: terminal ? TERMINAL_FAILURE_REASON : 'Error',
          Message: terminal ? `${message} (not retried until the object changes)` : message,
          ObservedGeneration: Number(object.Generation ?? 0),
        });
        if (terminal && operation === 'Created' && 'CreationFailed' in kind.fields && updated.CreationFailed !== true) {
          version = Number((await updateWithVersion(client, updated, { CreationFailed: true })).Version);
        } else version = Number(updated.Version);
      } catch (statusError) {
        logger.debug({ id: hint.id, err: statusError }, 'could not write the failure into the object'); // the log has it
      }
      const reason = `Failed${operation === 'Created' ? 'Create' : operation === 'Updated' ? 'Update' : 'Delete'}`;
      await this.#o.events.record(kind, hint.id, { reason, note: message, type: 'Warning' }).catch((eventError: unknown) => {
        logger.debug({ id: hint.id, err: eventError }, 'could not record a failure event');
      });
    }
    if (terminal) {
      // A change by anyone (a new version) is reconciled at once; a resync looks at it again later.
      const waitMs = Math.max(options.backoff.maxMs, options.resyncIntervalMs);
      await lease.defer({ waitMs, carrier: -1, version, attempt });
      await delivery.ack();
      this.#count('terminal');
      return;
    }
    await lease.defer({ waitMs: delayMs, carrier: delivery.sequence, version, attempt });
    delivery.nak(delayMs);
    this.#count('error');
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

  /** Stopped mid-reconcile (shutdown, lock lost): release the object and give the notification back for another replica. */
  async #handBack<O extends Operation | undefined>(delivery: Delivery, lease: Lease, operation: O, why: Stopped): Promise<O> {
    this.#o.logger.info({ operation, reason: why.message }, 'reconcile stopped; the notification is handed back');
    await lease.release();
    delivery.nak(0);
    this.#count('requeue');
    return operation;
  }

  #count(result: ReconcileResultLabel): void {
    this.#o.metrics.reconciles.inc({ reconciler: this.#o.name, result });
  }
}

/**
 * The handler's result, or a Stopped as soon as `signal` aborts: a hung handler must not keep the
 * lock or the delivery. The handler itself can't be killed; its API calls and writes through the
 * context fail from then on.
 */

