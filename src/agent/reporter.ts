/**
 * What the agent sends to the API, batched and rate limited: the latest live state of each
 * resource (older states of the same resource are dropped), Kubernetes events (one WorkloadEvent
 * per event UID, updated when the event repeats — never duplicated, also across agent restarts),
 * instance health, and requests to reconcile. A send the API could not take (no answer, 5xx, 429)
 * is kept and retried, with backoff while the API keeps failing; one it refused as wrong (4xx but
 * 409 and 429: its object gone, a reference to nothing) is dropped, as no retry can make it right.
 * What it remembers (stored events, reported versions) is bounded: forgetting costs a lookup.
 */
import { ApiRequestError, isDuplicate, isStaleVersion, type ApiClient } from '../client/api-client.ts';
import { mapConcurrently } from '../concurrency.ts';
import type { Logger } from '../log.ts';
import { conditionsOf, statusLine, withCondition, type ConditionUpdate } from '../model/conditions.ts';
import type { ApiObject } from '../model/kind.ts';
import type { Manifest } from '../model/manifest.ts';
import { BoundedMap } from './bounded-map.ts';
import { HEALTHY } from './instance-health.ts';
import type { InstanceKey } from './watch-plan.ts';

/** How long the first change after a quiet spell waits for others before it is sent. */
const IDLE_GATHER_MS = 150;

export interface ReporterOptions {
  api: ApiClient;
  logger: Logger;
  /** How long changes are gathered before they are sent. @default 1000 */
  flushIntervalMs?: number;
  /** Most API requests per second. @default 100 */
  maxRequestsPerSecond?: number;
  /** API requests at once. @default 8 */
  concurrency?: number;
  /** Longest wait between retries while the API keeps failing (doubling from twice the flush interval). @default 30000 */
  maxRetryDelayMs?: number;
  /** How many stored events (by event UID) it remembers, the least recently used forgotten first. @default 10000 */
  maxKnownEvents?: number;
  /** For how many instances it remembers having learned the stored events. @default 1000 */
  maxLoadedInstances?: number;
}

type What = 'resource' | 'event' | 'health' | 'request';

/** What one batch came to: whether the API answered at all decides the wait before the next. */
interface BatchOutcome {
  sent: number;
  /** Sends the API could not take: no answer, 5xx, 429. */
  unavailable: number;
  retryAfterMs: number;
  firstError?: string;
}

const MAX_REPORTED_VERSIONS = 50_000;

/** A 4xx answer but 409 (a conflict that can clear) and 429 (too many requests): the request itself is wrong. */
const isRefused = (error: unknown): error is ApiRequestError =>
  error instanceof ApiRequestError && !error.aborted && error.status >= 400 && error.status < 500 && error.status !== 409 && error.status !== 429;

/** No answer, the API failing or overloaded: worth a retry, after a while. */
const isUnavailable = (error: unknown): boolean => !(error instanceof ApiRequestError) || error.status === 0 || error.status >= 500 || error.status === 429;

export interface EventReport {
  uid: string;
  type: string;
  reason: string;
  message: string;
  timestamp: string;
  count: number;
  /** Which instance, and which of its resources (absent for Pods and ReplicaSets). */
  instance: { type: 'WorkloadInstance' | 'HelmWorkloadInstance'; id: number };
  resourceInstanceId?: number;
}

interface KnownEvent {
  id: number;
  count: number;
  message: string;
  timestamp: string;
}

/**
 * A live object as reported: without managed fields and the last-applied annotation (large, and not
 * status — and a Secret's copy of its data), and a Secret without its values: the API stores
 * RuntimeDefinition in plaintext and returns it to anyone who may read the record, so of `data`
 * and `stringData` only the keys are kept, each with an empty value.
 */
function reportable(object: Manifest): Manifest {
  const { managedFields: _managed, ...metadata } = object.metadata;
  const annotations = metadata.annotations && { ...metadata.annotations };
  if (annotations) delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  const reported: Manifest = { ...object, metadata: { ...metadata, ...(annotations && { annotations }) } };
  if (object.kind === 'Secret' && object.apiVersion === 'v1') {
    for (const field of ['data', 'stringData'] as const) {
      const values = object[field];
      if (values === undefined) continue;
      if (values && typeof values === 'object') reported[field] = Object.fromEntries(Object.keys(values).map((key) => [key, '']));
      else delete reported[field];
    }
  }
  return reported;
}

export class Reporter {
  readonly #o: ReporterOptions;
  readonly #resources = new Map<number, { live: Manifest; operation: string }>();
  readonly #events = new Map<string, EventReport>();
  readonly #health = new Map<InstanceKey, { kind: string; id: number; condition: ConditionUpdate }>();
  readonly #requests = new Map<InstanceKey, { kind: string; id: number; reason: string }>();
  /** WorkloadEvents already stored, by event UID, learned per instance (bounded: one forgotten is looked up again). */
  readonly #knownEvents: BoundedMap<string, KnownEvent>;
  readonly #eventsLoaded: BoundedMap<InstanceKey, true>;
  /** The resourceVersion last reported for each resource record: the same state is not sent twice. */
  readonly #reportedVersions = new BoundedMap<number, string>(MAX_REPORTED_VERSIONS);
  /** The wait before the next batch while the API keeps failing; 0 when it answers. */
  #retryDelayMs = 0;
  #lastSentAt = 0;
  /** Refusals already warned about (by what and status): later ones are logged at debug. */
  readonly #warnedRefusals = new Set<string>();
  /** Events older than this may have been reported by an agent before this one. */
  readonly #startedAt = Date.now();
  readonly #bucket: { tokens: number; at: number };
  #wake: (() => void) | undefined;
  /** Reports sent, for the agent's metrics and tests. */
  readonly sent = { resources: 0, events: 0, health: 0, requests: 0, failures: 0, dropped: 0 };

  constructor(options: ReporterOptions) {
    this.#o = options;
    this.#bucket = { tokens: options.maxRequestsPerSecond ?? 100, at: Date.now() };
    this.#knownEvents = new BoundedMap(options.maxKnownEvents ?? 10_000);
    this.#eventsLoaded = new BoundedMap(options.maxLoadedInstances ?? 1000);
  }

  /** How long it waits before trying again while the API keeps failing (without jitter); 0 when it answers. */
  get retryDelayMs(): number {
    return this.#retryDelayMs;
  }

  /** How much it remembers (each bounded). */
  get memory(): { knownEvents: number; loadedInstances: number; reportedVersions: number } {
    return { knownEvents: this.#knownEvents.size, loadedInstances: this.#eventsLoaded.size, reportedVersions: this.#reportedVersions.size };
  }

  resource(resourceInstanceId: number, live: Manifest, operation: string): void {
    if (resourceInstanceId <= 0) return;
    const version = `${operation}|${live.metadata.resourceVersion ?? ''}`;
    if (this.#reportedVersions.get(resourceInstanceId) === version) return;
    this.#resources.set(resourceInstanceId, { live: reportable(live), operation });
    this.#kick();
  }

  event(report: EventReport): void {
    this.#events.set(report.uid, report);
    this.#kick();
  }

  health(instance: InstanceKey, kind: string, id: number, condition: ConditionUpdate): void {
    this.#health.set(instance, { kind, id, condition });
    this.#kick();
  }

  requestReconcile(instance: InstanceKey, kind: string, id: number, reason: string): void {
    this.#requests.set(instance, { kind, id, reason });
    this.#kick();
  }

  /** Changes waiting to be sent. */
  get pending(): number {
    return this.#resources.size + this.#events.size + this.#health.size + this.#requests.size;
  }

  /** Sends batches until `signal` aborts; then one last batch. */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.#o.flushIntervalMs ?? 1000;
    while (!signal.aborted) {
      await this.flush();
      const backoff = this.#retryDelayMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, backoff > 0 ? backoff * (0.8 + Math.random() * 0.4) : this.pending > 0 ? interval : 60_000);
        // While the API keeps failing, what arrives waits for the retry.
        this.#wake = backoff > 0 ? undefined : () => {
          clearTimeout(timer);
          // Gather what else arrives for a moment before sending: a whole interval while changes
          // keep coming, briefly for the first one after a quiet spell (someone waits to see it).
          const quiet = Date.now() - this.#lastSentAt > interval;
          setTimeout(done, quiet ? Math.min(interval, IDLE_GATHER_MS) : interval);
        };
        signal.addEventListener('abort', done, { once: true });
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
      });
      this.#wake = undefined;
    }
    await this.flush().catch(() => undefined);
  }

  /**
   * Sends everything waiting now. Once the API fails to answer and nothing of the batch went through,
   * the rest of the batch is kept without trying (the API is down, or overloaded: it is not asked again
   * for each report), and the wait before the next batch doubles, up to maxRetryDelayMs.
   */
  async flush(): Promise<void> {
    const concurrency = this.#o.concurrency ?? 8;
    const outcome: BatchOutcome = { sent: 0, unavailable: 0, retryAfterMs: 0 };
    const resources = [...this.#resources];
    this.#resources.clear();
    await mapConcurrently(resources, concurrency, ([id, report]) => this.#send(outcome, 'resource', () => this.#sendResource(id, report), () => this.#resources.has(id) || this.#resources.set(id, report)));
    const events = [...this.#events.values()];
    this.#events.clear();
    await mapConcurrently(events, concurrency, (report) => this.#send(outcome, 'event', () => this.#sendEvent(report), () => this.#events.has(report.uid) || this.#events.set(report.uid, report)));
    const health = [...this.#health];
    this.#health.clear();
    await mapConcurrently(health, concurrency, ([key, report]) => this.#send(outcome, 'health', () => this.#sendHealth(report), () => this.#health.has(key) || this.#health.set(key, report)));
    const requests = [...this.#requests];
    this.#requests.clear();
    await mapConcurrently(requests, concurrency, ([key, request]) =>
      this.#send(outcome, 'request', () => this.#o.api.kind(request.kind).requestReconcile(request.id, request.reason), () => this.#requests.has(key) || this.#requests.set(key, request)),
    );
    this.#afterBatch(outcome);
  }

  #afterBatch(outcome: BatchOutcome): void {
    if (outcome.sent > 0) this.#lastSentAt = Date.now();
    if (outcome.unavailable === 0 || outcome.sent > 0) {
      if (this.#retryDelayMs > 0 && outcome.sent > 0) this.#o.logger.info('the API takes reports again');
      this.#retryDelayMs = 0;
      return;
    }
    const interval = this.#o.flushIntervalMs ?? 1000;
    const max = this.#o.maxRetryDelayMs ?? 30_000;
    this.#retryDelayMs = Math.max(outcome.retryAfterMs, Math.min(max, this.#retryDelayMs > 0 ? this.#retryDelayMs * 2 : interval * 2));
    this.#o.logger.warn({ pending: this.pending, retryInMs: this.#retryDelayMs, err: { message: outcome.firstError } }, 'could not report to the API; trying again later');
  }

  #kick(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  async #send(outcome: BatchOutcome, what: What, send: () => Promise<unknown>, keep: () => unknown): Promise<void> {
    // The API did not answer this batch yet: the rest waits for the retry.
    if (outcome.unavailable > 0 && outcome.sent === 0) return void keep();
    await this.#take();
    try {
      await send();
      outcome.sent++;
      this.sent[what === 'resource' ? 'resources' : what === 'event' ? 'events' : what === 'health' ? 'health' : 'requests']++;
    } catch (error) {
      if (isRefused(error)) return this.#drop(what, error);
      this.sent.failures++;
      keep();
      if (isUnavailable(error)) {
        outcome.unavailable++;
        outcome.firstError ??= (error as Error).message;
        if (error instanceof ApiRequestError && error.retryAfterMs !== undefined) outcome.retryAfterMs = Math.max(outcome.retryAfterMs, error.retryAfterMs);
      } else {
        // A conflict (the object being deleted, a write race): this one is tried again with the next batch.
        this.#o.logger.debug({ what, err: { message: (error as Error).message } }, 'report in conflict; trying again with the next batch');
      }
    }
  }

  /** A report the API refused (its object gone, or the report wrong): no retry can help. */
  #drop(what: What, error: ApiRequestError): void {
    this.sent.dropped++;
    const kind = `${what} ${error.status}`;
    // A record deleted under the agent (404) is ordinary; any other refusal is worth one warning.
    const first = error.status !== 404 && !this.#warnedRefusals.has(kind);
    if (first) this.#warnedRefusals.add(kind);
    this.#o.logger[first ? 'warn' : 'debug']({ what, status: error.status, err: { message: error.message } }, `the API refused a report (HTTP ${error.status}); dropped, as retrying cannot help${first ? ' (further ones are logged at debug)' : ''}`);
  }

  /** Waits for a token of the rate limit. */
  async #take(): Promise<void> {
    const rate = this.#o.maxRequestsPerSecond ?? 100;
    for (;;) {
      const now = Date.now();
      this.#bucket.tokens = Math.min(rate, this.#bucket.tokens + ((now - this.#bucket.at) / 1000) * rate);
      this.#bucket.at = now;
      if (this.#bucket.tokens >= 1) {
        this.#bucket.tokens -= 1;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(((1 - this.#bucket.tokens) / rate) * 1000)));
    }
  }

  async #sendResource(id: number, report: { live: Manifest; operation: string }): Promise<void> {
    await this.#o.api.kind('WorkloadResourceInstance').update(id, { RuntimeDefinition: report.live, LastOperation: report.operation });
    this.#reportedVersions.set(id, `${report.operation}|${report.live.metadata.resourceVersion ?? ''}`);
    if (report.operation === 'DELETED') this.#reportedVersions.delete(id);
  }

  async #sendEvent(report: EventReport): Promise<void> {
    const instanceKey = `${report.instance.type}/${report.instance.id}`;
    // An event from before this agent started may be stored already (by the agent before it): learn
    // the instance's stored events once. Newer ones can only be new.
    const old = Date.parse(report.timestamp) < this.#startedAt - 5000;
    if (old && !this.#eventsLoaded.has(instanceKey)) await this.#loadEvents(report.instance);
    const known = this.#knownEvents.get(report.uid);
    const events = this.#o.api.kind('WorkloadEvent');
    if (known) {
      if (known.count === report.count && known.message === report.message && known.timestamp === report.timestamp) return;
      await events.update(known.id, { Count: report.count, Message: report.message, Timestamp: report.timestamp });
      this.#knownEvents.set(report.uid, { ...known, count: report.count, message: report.message, timestamp: report.timestamp });
      return;
    }
    const owner = report.instance.type === 'WorkloadInstance' ? { WorkloadInstanceID: report.instance.id } : { HelmWorkloadInstanceID: report.instance.id };
    const fields: ApiObject = {
      RuntimeEventUID: report.uid,
      Type: report.type,
      Reason: report.reason,
      Message: report.message,
      Timestamp: report.timestamp,
      Count: report.count,
      ...owner,
      ...(report.resourceInstanceId && { WorkloadResourceInstanceID: report.resourceInstanceId }),
    };
    try {
      const created = await events.create(fields);
      this.#knownEvents.set(report.uid, { id: created.ID, count: report.count, message: report.message, timestamp: report.timestamp });
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      // Reported before this agent knew (another agent, or before a restart): update that one.
      const { objects } = await events.list({ runtimeeventuid: report.uid });
      const existing = objects[0];
      if (existing) {
        await events.update(existing.ID, { Count: report.count, Message: report.message, Timestamp: report.timestamp });
        this.#knownEvents.set(report.uid, { id: existing.ID, count: report.count, message: report.message, timestamp: report.timestamp });
      }
    }
  }

  /** The instance's stored events, once, so a restarted agent updates them instead of trying to add them again. */
  async #loadEvents(instance: EventReport['instance']): Promise<void> {
    const filter: Record<string, number> = { [instance.type === 'WorkloadInstance' ? 'workloadinstanceid' : 'helmworkloadinstanceid']: instance.id };
    for await (const page of this.#o.api.kind('WorkloadEvent').pages(filter)) {
      for (const event of page) {
        this.#knownEvents.set(String(event.RuntimeEventUID), { id: event.ID, count: Number(event.Count ?? 1), message: String(event.Message), timestamp: String(event.Timestamp) });
      }
    }
    this.#eventsLoaded.set(`${instance.type}/${instance.id}`, true);
  }

  async #sendHealth(report: { kind: string; id: number; condition: ConditionUpdate }): Promise<void> {
    const instances = this.#o.api.kind(report.kind);
    for (let attempt = 0; ; attempt++) {
      const current = await instances.get(report.id);
      const before = conditionsOf(current);
      const after = withCondition(before, report.condition);
      if (after === before) return;
      const line = statusLine(after, HEALTHY);
      try {
        await instances.update(report.id, { Conditions: after, ...(line !== undefined && line !== current.Status && { Status: line }) }, { version: current.Version as number });
        return;
      } catch (error) {
        if (!isStaleVersion(error) || attempt >= 5) throw error;
      }
    }
  }
}
