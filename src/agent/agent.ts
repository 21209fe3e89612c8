/**
 * The agent: reports what happens in a cluster to the API. It watches the ThreeportWorkloads of
 * its control plane, the resources they list (one watch per kind, not one per resource), their
 * Pods and ReplicaSets, and the cluster's Events (one watch), and reports:
 * - each resource's live object and last operation into its WorkloadResourceInstance;
 * - events about any of them as WorkloadEvents, one per event UID;
 * - each instance's health (the Healthy condition and its Status line);
 * - a request to reconcile an instance when someone else changed or deleted one of its resources.
 * The same code runs in the cluster (`threeport agent` in a Deployment), as a process of its own,
 * or inside the control plane for clusters where it can't run.
 */
import { pause } from '../concurrency.ts';
import type { ApiClient } from '../client/api-client.ts';
import type { Logger } from '../log.ts';
import type { Manifest } from '../model/manifest.ts';
import { describeResource, labels, Reflector, type KubernetesClient, type ReflectorEventType } from '../platform/kubernetes/index.ts';
import { changedByOthers, ownFieldsOf, type OwnFields } from './external-writes.ts';
import { instanceHealth } from './instance-health.ts';
import { Reporter, type EventReport } from './reporter.ts';
import { CONTROL_PLANE_LABEL, THREEPORT_WORKLOAD_API_VERSION, THREEPORT_WORKLOAD_KIND, type WorkloadType } from '../model/threeport-workload.ts';
import { instanceKeyOf, resourceIdOf, WatchPlan, type InstanceKey, type ResourceId, type WatchedEntry } from './watch-plan.ts';

export interface AgentOptions {
  api: ApiClient;
  cluster: KubernetesClient;
  /** Only this control plane's ThreeportWorkloads and resources are reported. */
  controlPlaneId: string;
  logger: Logger;
  /** How long changes are gathered before they are sent (the Reporter's default). @default 1000 */
  flushIntervalMs?: number;
  /** Most API requests per second. @default 100 */
  maxRequestsPerSecond?: number;
  /**
   * How long events that come late are still reported: an event whose object is not known yet
   * waits this long for it, and a deleted Pod, ReplicaSet or resource is remembered this long after
   * its deletion for the events about it that are still on their way. @default 120000
   */
  lateEventGraceMs?: number;
  /**
   * A watch on which nothing arrives for this long (a half-open connection) is re-opened from where
   * it was; each watch asks the server to end it sooner, with a bookmark (see Reflector). @default 120000
   */
  watchIdleTimeoutMs?: number;
}

/** What an event's involved object belongs to. */
interface Owner {
  instance: InstanceKey;
  resourceInstanceId?: number;
}

const LATE_EVENT_GRACE_MS = 120_000;
/**
 * Events waiting for their object (most are of objects threeport did not make: the Events watch
 * sees the whole cluster): at most this many in all, and this many per object.
 */
const MAX_UNMATCHED_EVENTS = 5000;
const MAX_UNMATCHED_EVENTS_PER_OBJECT = 20;

export class Agent {
  readonly #o: AgentOptions;
  readonly #plan = new WatchPlan();
  readonly #reporter: Reporter;
  /** A reflector per watched kind, with the controller that stops it. */
  readonly #kinds = new Map<string, { reflector: Reflector; stop: AbortController; done: Promise<void> }>();
  /** Live objects of watched resources, as last seen (without managed fields). */
  readonly #live = new Map<ResourceId, Manifest>();
  /** The fields threeport applied to each watched resource, as last seen (see external-writes.ts). */
  readonly #ownFields = new Map<ResourceId, OwnFields | undefined>();
  /** Whose each object (by UID) is, for its events. */
  readonly #owners = new Map<string, Owner>();
  /** Owned objects deleted lately, by UID, with when: forgotten after the grace for late events. */
  readonly #deleted = new Map<string, number>();
  /** Events of objects not known yet (by the object's UID; its events by their own UIDs). */
  readonly #unmatched = new Map<string, { events: Map<string, Manifest>; at: number }>();
  #unmatchedEvents = 0;
  #signal: AbortSignal | undefined;
  #workloadsSynced = false;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#reporter = new Reporter({
      api: options.api,
      logger: options.logger,
      ...(options.flushIntervalMs !== undefined && { flushIntervalMs: options.flushIntervalMs }),
      ...(options.maxRequestsPerSecond !== undefined && { maxRequestsPerSecond: options.maxRequestsPerSecond }),
    });
  }

  /** What it sent so far. */
  get sent(): Reporter['sent'] {
    return this.#reporter.sent;
  }

  /** Runs until `signal` aborts, then sends what it still holds. */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    const selector = `${CONTROL_PLANE_LABEL}=${this.#o.controlPlaneId}`;
    const logger = this.#o.logger;
    const idle = this.#o.watchIdleTimeoutMs !== undefined ? { watchIdleTimeoutMs: this.#o.watchIdleTimeoutMs } : {};
    const workloads = new Reflector(this.#o.cluster, {
      ...idle,
      apiVersion: THREEPORT_WORKLOAD_API_VERSION,
      kind: THREEPORT_WORKLOAD_KIND,
      labelSelector: selector,
      logger,
      onEvent: (type, object) => this.#onWorkload(type, object),
      onSynced: () => {
        this.#workloadsSynced = true;
        this.#reportAllHealth();
      },
    });
    // Of Pods and ReplicaSets only who they belong to matters; Events are handled once and dropped.
    const pods = new Reflector(this.#o.cluster, { ...idle, apiVersion: 'v1', kind: 'Pod', labelSelector: selector, logger, keep: identityOnly, onEvent: (type, object) => this.#onPodOrReplicaSet(type, object) });
    const replicaSets = new Reflector(this.#o.cluster, { ...idle, apiVersion: 'apps/v1', kind: 'ReplicaSet', labelSelector: selector, logger, keep: identityOnly, onEvent: (type, object) => this.#onPodOrReplicaSet(type, object) });
    const events = new Reflector(this.#o.cluster, { ...idle, apiVersion: 'v1', kind: 'Event', logger, keep: false, onEvent: (type, object) => this.#onEvent(type, object) });
    logger.info({ cluster: this.#o.cluster.server }, 'agent watching the cluster');
    await Promise.all([
      workloads.run(signal),
      pods.run(signal),
      replicaSets.run(signal),
      events.run(signal),
      this.#reporter.run(signal),
      this.#sweep(signal),
    ]);
    await Promise.all([...this.#kinds.values()].map((watch) => watch.done));
    logger.info('agent stopped');
  }

  /** Sends what is waiting now (tests, shutdown). */
  flush(): Promise<void> {
    return this.#reporter.flush();
  }

  /** How much it holds (for metrics and tests): each is bounded by what it watches, or capped. */
  get memory(): { live: number; owners: number; deletedOwners: number; unmatchedEvents: number } & Reporter['memory'] {
    return { live: this.#live.size, owners: this.#owners.size, deletedOwners: this.#deleted.size, unmatchedEvents: this.#unmatchedEvents, ...this.#reporter.memory };
  }

  /** What it knows of the object with this UID: live (its events are reported), deleted lately (late events still are), or nothing. */
  knownObject(uid: string): 'live' | 'deleted' | undefined {
    if (!this.#owners.has(uid)) return undefined;
    return this.#deleted.has(uid) ? 'deleted' : 'live';
  }

  // ── ThreeportWorkloads: what to watch ────────────────────────────────────────────────────────

  #onWorkload(type: ReflectorEventType, workload: Manifest): void {
    const key = this.#plan.instanceOfWorkload(workload);
    if (!key) return;
    if (type === 'DELETED') {
      for (const entry of this.#plan.remove(key)) this.#forgetResource(entry);
    } else {
      for (const entry of this.#plan.set(workload)) this.#forgetResource(entry);
      // Resources already seen by a kind's watch are reported at once under their (new) records.
      for (const entry of this.#plan.instance(key)?.resources ?? []) {
        const live = this.#kinds.get(`${entry.apiVersion}/${entry.kind}`)?.reflector.objects.get(`${entry.namespace ?? ''}/${entry.name}`);
        if (live) this.#track(entry, live, 'ADDED');
      }
      this.#reportHealth(key);
    }
    this.#watchKinds();
  }

  /** Starts a watch for each kind the plan lists and stops those it no longer lists. */
  #watchKinds(): void {
    const signal = this.#signal;
    if (!signal || signal.aborted) return;
    const wanted = this.#plan.kinds();
    for (const [id, watch] of this.#kinds) {
      if (wanted.has(id)) continue;
      watch.stop.abort();
      this.#kinds.delete(id);
    }
    for (const [id, { apiVersion, kind }] of wanted) {
      if (this.#kinds.has(id)) continue;
      const stop = new AbortController();
      const reflector = new Reflector(this.#o.cluster, {
        ...(this.#o.watchIdleTimeoutMs !== undefined && { watchIdleTimeoutMs: this.#o.watchIdleTimeoutMs }),
        apiVersion,
        kind,
        labelSelector: `${CONTROL_PLANE_LABEL}=${this.#o.controlPlaneId}`,
        logger: this.#o.logger,
        keep: withOwnManagedFieldsOnly,
        onEvent: (type, object) => this.#onResource(type, object),
        onSynced: () => this.#reportAllHealth(),
      });
      const done = reflector.run(AbortSignal.any([signal, stop.signal]));
      this.#kinds.set(id, { reflector, stop, done });
    }
  }

  // ── the resources themselves ────────────────────────────────────────────────────────────────

  #onResource(type: ReflectorEventType, object: Manifest): void {
    const entry = this.#plan.entry(resourceIdOf(object));
    if (!entry) return;
    const previous = this.#ownFields.get(entry.resourceId);
    this.#ownFields.set(entry.resourceId, ownFieldsOf(object));
    if (type === 'DELETED') {
      this.#live.delete(entry.resourceId);
      this.#ownFields.delete(entry.resourceId);
      this.#forgetOwnerLater(object.metadata.uid);
      this.#reporter.resource(entry.resourceInstanceId, object, 'DELETED');
      this.#requestReconcile(entry, `${describeResource(object)} was deleted from the cluster`);
    } else {
      this.#track(entry, object, type);
      if (type === 'MODIFIED' && changedByOthers(previous, object)) {
        this.#requestReconcile(entry, `${describeResource(object)} was changed in the cluster by ${latestForeignManager(object)}`);
      }
    }
    this.#reportHealth(entry.instance);
  }

  #track(entry: WatchedEntry, object: Manifest, operation: string): void {
    // A resource applied before its ThreeportWorkload listed it is first seen here, from a watch's copy.
    if (!this.#ownFields.has(entry.resourceId)) this.#ownFields.set(entry.resourceId, ownFieldsOf(object));
    this.#live.set(entry.resourceId, withoutManagedFields(object));
    if (object.metadata.uid) this.#own(object.metadata.uid, { instance: entry.instance, resourceInstanceId: entry.resourceInstanceId });
    this.#reporter.resource(entry.resourceInstanceId, object, operation);
  }

  #forgetResource(entry: WatchedEntry): void {
    const live = this.#live.get(entry.resourceId);
    this.#live.delete(entry.resourceId);
    this.#ownFields.delete(entry.resourceId);
    if (live?.metadata.uid) {
      this.#owners.delete(live.metadata.uid);
      this.#deleted.delete(live.metadata.uid);
    }
  }

  #onPodOrReplicaSet(type: ReflectorEventType, object: Manifest): void {
    const uid = object.metadata.uid;
    if (!uid) return;
    if (type === 'DELETED') {
      // Its events may still arrive; the owner is forgotten when they stop mattering (sweep).
      this.#forgetOwnerLater(uid);
      return;
    }
    const instance = instanceOfLabels(object.metadata.labels ?? {});
    if (instance) this.#own(uid, { instance });
  }

  #forgetOwnerLater(uid: string | undefined): void {
    if (uid && this.#owners.has(uid) && !this.#deleted.has(uid)) this.#deleted.set(uid, Date.now());
  }

  #own(uid: string, owner: Owner): void {
    this.#owners.set(uid, owner);
    this.#deleted.delete(uid); // seen again (a label put back): not deleted after all
    const waiting = this.#unmatched.get(uid);
    if (waiting) {
      this.#forgetUnmatched(uid);
      for (const event of waiting.events.values()) this.#reportEvent(event, owner);
    }
  }

  // ── events ─────────────────────────────────────────────────────────────────────────────────

  #onEvent(type: ReflectorEventType, event: Manifest): void {
    if (type === 'DELETED') return; // Kubernetes expires events; the report stays
    const uid = (event.involvedObject as { uid?: string } | undefined)?.uid;
    if (!uid) return;
    const owner = this.#owners.get(uid);
    if (owner) this.#reportEvent(event, owner);
    else {
      // Its object may not be known yet (a pod's events can come before the pod's watch tells of it).
      // Each of its events (Scheduled, Pulling, ...) is kept, the latest version of each; the
      // object's grace counts from its latest event.
      const waiting = this.#unmatched.get(uid) ?? { events: new Map<string, Manifest>(), at: 0 };
      this.#unmatched.delete(uid); // re-inserted last: the oldest objects go first
      const key = event.metadata.uid ?? '';
      this.#unmatchedEvents += (waiting.events.delete(key) ? 0 : 1);
      waiting.events.set(key, event);
      waiting.at = Date.now();
      if (waiting.events.size > MAX_UNMATCHED_EVENTS_PER_OBJECT) {
        waiting.events.delete(waiting.events.keys().next().value!);
        this.#unmatchedEvents--;
      }
      this.#unmatched.set(uid, waiting);
      while (this.#unmatchedEvents > MAX_UNMATCHED_EVENTS) this.#forgetUnmatched(this.#unmatched.keys().next().value!);
    }
  }

  #forgetUnmatched(uid: string): void {
    const waiting = this.#unmatched.get(uid);
    if (!waiting) return;
    this.#unmatched.delete(uid);
    this.#unmatchedEvents -= waiting.events.size;
  }

  #reportEvent(event: Manifest, owner: Owner): void {
    const [type, id] = owner.instance.split('/') as [WorkloadType, string];
    const report: EventReport = {
      uid: event.metadata.uid ?? '',
      type: String(event.type ?? 'Normal'),
      reason: String(event.reason ?? ''),
      message: String(event.message ?? ''),
      timestamp: new Date(String(event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp ?? Date.now())).toISOString(),
      count: typeof event.count === 'number' ? event.count : 1,
      instance: { type, id: Number(id) },
      ...(owner.resourceInstanceId && { resourceInstanceId: owner.resourceInstanceId }),
    };
    if (report.uid) this.#reporter.event(report);
  }

  /** Forgets, once the grace for late events has passed, events still waiting for their object and deleted objects' owners. */
  async #sweep(signal: AbortSignal): Promise<void> {
    const grace = this.#o.lateEventGraceMs ?? LATE_EVENT_GRACE_MS;
    const interval = Math.min(30_000, Math.max(100, grace / 4));
    while (!signal.aborted) {
      if (!(await pause(interval, signal))) return;
      const horizon = Date.now() - grace;
      for (const [uid, waiting] of this.#unmatched) if (waiting.at < horizon) this.#forgetUnmatched(uid);
      for (const [uid, at] of this.#deleted) {
        if (at >= horizon) continue;
        this.#deleted.delete(uid);
        this.#owners.delete(uid);
      }
    }
  }

  // ── health and drift ───────────────────────────────────────────────────────────────────────

  #reportHealth(key: InstanceKey): void {
    const instance = this.#plan.instance(key);
    // Before every kind's watch has listed, a resource not seen yet is unknown, not missing.
    if (!instance || !this.#workloadsSynced || !instance.resources.every((entry) => this.#kinds.get(`${entry.apiVersion}/${entry.kind}`)?.reflector.synced)) return;
    const condition = instanceHealth(instance.resources, (entry) => this.#live.get(entry.resourceId));
    this.#reporter.health(key, instance.type, instance.id, { ...condition, ...(instance.generation !== undefined && { ObservedGeneration: instance.generation }) });
  }

  #reportAllHealth(): void {
    for (const key of this.#plan.instanceKeys()) this.#reportHealth(key);
  }

  #requestReconcile(entry: WatchedEntry, reason: string): void {
    const instance = this.#plan.instance(entry.instance);
    if (!instance) return;
    this.#o.logger.info({ instance: entry.instance, reason }, 'asking for a reconcile');
    this.#reporter.requestReconcile(entry.instance, instance.type, instance.id, reason);
  }
}

/** What is kept of Pods and ReplicaSets: enough to know whose they are. */
const identityOnly = (object: Manifest): Manifest => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  metadata: {
    name: object.metadata.name,
    ...(object.metadata.namespace && { namespace: object.metadata.namespace }),
    ...(object.metadata.uid && { uid: object.metadata.uid }),
    ...(object.metadata.resourceVersion && { resourceVersion: object.metadata.resourceVersion }),
    ...(object.metadata.labels && { labels: object.metadata.labels }),
  },
});

/** A watch's copy keeps only threeport's own managed-fields entry: the rest is often half an object, and unused. */
function withOwnManagedFieldsOnly(object: Manifest): Manifest {
  const entries = object.metadata.managedFields as { manager?: string }[] | undefined;
  if (!entries) return object;
  return { ...object, metadata: { ...object.metadata, managedFields: entries.filter((entry) => entry.manager === 'threeport') } };
}

/** Managed fields are often half an object; health and reports need none of them. */
function withoutManagedFields(object: Manifest): Manifest {
  if (!object.metadata.managedFields) return object;
  const { managedFields: _managed, ...metadata } = object.metadata;
  return { ...object, metadata };
}

function instanceOfLabels(objectLabels: Record<string, string>): InstanceKey | undefined {
  const workload = Number(objectLabels[labels.WORKLOAD_INSTANCE]);
  if (workload > 0) return instanceKeyOf('WorkloadInstance', workload);
  const helm = Number(objectLabels[labels.HELM_WORKLOAD_INSTANCE]);
  if (helm > 0) return instanceKeyOf('HelmWorkloadInstance', helm);
  return undefined;
}

function latestForeignManager(object: Manifest): string {
  const entries = (object.metadata.managedFields ?? []) as { manager?: string; time?: string; subresource?: string }[];
  const foreign = entries.filter((entry) => entry.manager !== 'threeport' && entry.subresource !== 'status').sort((a, b) => String(b.time).localeCompare(String(a.time)));
  return foreign[0]?.manager ?? 'another client';
}
