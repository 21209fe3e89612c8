import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { MemoryKeyValue } from '../bus/key-value.ts';
import type { ControllerBus, WorkQueueConsumer } from '../bus/work-queue.ts';
import type { ApiClient } from '../client/api-client.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Logger } from '../log.ts';
import { registry as defaultRegistry, type Registry } from '../model/registry.ts';
import { DeliveryProcessor } from './delivery-processor.ts';
import { EventRecorder } from './events.ts';
import { ControllerMetrics } from './metrics.ts';
import { ObjectLocks } from './object-locks.ts';
import { compileRuntimeOptions, OptionsError, type CompiledRuntimeOptions, type RuntimeOptions } from './options.ts';
import { reconcilerName, type Reconciler } from './reconciler.ts';
import type { Runnable } from './runnable.ts';
import { controllerGroups } from '../model/controller-groups.ts';
import { openResyncRecords, Resync, type ResyncTarget } from './resync.ts';
import { ReconcilerWorker } from './worker.ts';

export interface ControllerManagerOptions {
  /** NATS JetStream (NatsBus) or, in the embedded mode, the in-process bus the API publishes to. */
  bus: ControllerBus;
  client: ApiClient;
  reconcilers: readonly Reconciler[];
  logger: Logger;
  runtime?: RuntimeOptions;
  /** Serve /metrics (and /healthz) on host:port; port 0 picks a free one. */
  metricsListen?: { host: string; port: number };
  /** Include Node.js process metrics on /metrics (off when several managers share a process). */
  processMetrics?: boolean;
  registry?: Registry;
  /** Decrypts encrypted fields for reconcilers (runtime credentials, account keys). */
  cipher?: FieldCipher;
  /** What the groups run beside their reconcilers. */
  runnables?: readonly Runnable[];
}

type State = 'created' | 'running' | 'stopping' | 'stopped';

/**
 * Runs reconcilers: one durable consumer, worker pool and lock bucket binding per reconciler, a
 * resync (sharing its every-object passes with the other replicas), and the metrics endpoint.
 * `start()` resolves once everything is running; `stop()` stops taking work, lets in-flight
 * reconciles finish (or hands them back), and releases their locks.
 */
export class ControllerManager {
  /** Identifies this process in the locks it holds. */
  readonly id = randomUUID();
  readonly metrics: ControllerMetrics;
  readonly options: Readonly<CompiledRuntimeOptions>;
  readonly #o: ControllerManagerOptions;
  readonly #abort = new AbortController();
  readonly #workers: ReconcilerWorker[] = [];
  readonly #consumers: WorkQueueConsumer[] = [];
  readonly #runnables: Promise<void>[] = [];
  #resync: Resync | undefined;
  #server: Server | undefined;
  #state: State = 'created';
  #stopping: Promise<void> | undefined;

  constructor(options: ControllerManagerOptions) {
    this.#o = options;
    this.options = compileRuntimeOptions(options.runtime);
    this.metrics = new ControllerMetrics({ processMetrics: options.processMetrics ?? false });
    const names = options.reconcilers.map(reconcilerName);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate) throw new OptionsError(`two reconcilers are named ${duplicate}`);
    // The operation comes from the object's state, and its lock from the reconciler's name: two
    // reconcilers of one kind would each think the object theirs.
    const kinds = options.reconcilers.map((reconciler) => reconciler.kind);
    const twice = kinds.find((kind, index) => kinds.indexOf(kind) !== index);
    if (twice) throw new OptionsError(`two reconcilers for ${twice}: a kind has exactly one reconciler`);
  }

  get state(): State {
    return this.#state;
  }

  /** The metrics endpoint's URL, once started with `metricsListen`. */
  metricsUrl: string | undefined;

  async start(): Promise<void> {
    if (this.#state !== 'created') throw new Error(`cannot start a controller manager that is ${this.#state}`);
    this.#state = 'running';
    const { bus, client, logger } = this.#o;
    const registry = this.#o.registry ?? defaultRegistry;
    const targets: ResyncTarget[] = [];
    const lockStores = new Map<string, ObjectLocks>();
    for (const reconciler of this.#o.reconcilers) {
      const kind = registry.get(reconciler.kind);
      const group = kind.controller;
      if (!group) throw new OptionsError(`${kind.name} is not reconcilable: it belongs to no controller group`);
      const name = reconcilerName(reconciler);
      let locks = lockStores.get(group.lockBucket);
      if (!locks) {
        const store = await bus.keyValue(group.lockBucket, `contains locks on ${group.name} objects`);
        locks = new ObjectLocks({ store, owner: this.id, ttlMs: this.options.lockTtlMs, logger: logger.child({ bucket: group.lockBucket }) });
        lockStores.set(group.lockBucket, locks);
      }
      const consumer = await bus.consumer({ stream: group.stream, durable: `${name}Consumer`, filterSubject: `${kind.subjectPrefix}.*`, ackWaitMs: this.options.ackWaitMs });
      const reconcilerLogger = logger.child({ reconciler: name, kind: kind.name });
      const processor = new DeliveryProcessor({
        reconciler,
        name,
        kind,
        registry,
        client,
        publisher: bus,
        cipher: this.#o.cipher,
        locks,
        events: new EventRecorder(client, group.reportingController),
        options: this.options,
        metrics: this.metrics,
        logger: reconcilerLogger,
        signal: this.#abort.signal,
      });
      const worker = new ReconcilerWorker({ name, consumer, processor, concurrency: this.options.concurrencyFor(name), options: this.options, metrics: this.metrics, logger: reconcilerLogger });
      this.metrics.queueDepth(name, () => consumer.depth());
      this.#consumers.push(consumer);
      this.#workers.push(worker);
      targets.push({ kind, everyObjectIntervalMs: reconciler.resyncIntervalMs ?? 0 });
      worker.start();
      reconcilerLogger.info({ concurrency: this.options.concurrencyFor(name), stream: group.stream }, 'reconciler started');
    }
    // Every-object passes are shared by the replicas through a bucket of their own; without such
    // kinds there is nothing to share.
    const records = targets.some((target) => target.everyObjectIntervalMs > 0) ? await openResyncRecords(bus) : new MemoryKeyValue();
    this.#resync = new Resync({ client, bus, targets, intervalMs: this.options.resyncIntervalMs, records, owner: this.id, logger: logger.child({ component: 'resync' }) });
    this.#resync.start();
    for (const runnable of this.#o.runnables ?? []) {
      const group = controllerGroups[runnable.group];
      const runnableLogger = logger.child({ component: runnable.name });
      const running = runnable
        .run({
          client,
          cipher: this.#o.cipher,
          logger: runnableLogger,
          signal: this.#abort.signal,
          ownerId: this.id,
          lockTtlMs: this.options.lockTtlMs,
          lockStore: () => bus.keyValue(group.lockBucket, `contains locks on ${group.name} objects`),
        })
        .catch((error: unknown) => runnableLogger.error({ err: error }, 'stopped with an error'));
      this.#runnables.push(running);
    }
    if (this.#o.metricsListen) await this.#serveMetrics(this.#o.metricsListen);
  }

  /** Notifications waiting or in flight across this manager's consumers (shared with its replicas). */
  async depth(): Promise<number> {
    const depths = await Promise.all(this.#consumers.map((consumer) => consumer.depth()));
    return depths.reduce((sum, depth) => sum + depth, 0);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state === 'created') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    const { shutdownGraceMs } = this.options;
    await this.#resync?.stop();
    await Promise.all(this.#workers.map((worker) => worker.stop(shutdownGraceMs)));
    const stillRunning = this.#workers.reduce((sum, worker) => sum + worker.running, 0);
    if (stillRunning > 0) {
      // Past the grace period: tell reconcilers to give up; they hand their objects back.
      this.#o.logger.warn({ stillRunning }, 'reconciles still running after the grace period; handing them back');
      this.#abort.abort();
      await Promise.all(this.#workers.map((worker) => worker.stop(Math.min(5000, shutdownGraceMs || 5000))));
    }
    this.#abort.abort();
    await Promise.all(this.#runnables);
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#state = 'stopped';
  }

  async #serveMetrics(listen: { host: string; port: number }): Promise<void> {
    const server = createServer((request, response) => {
      if (request.url === '/metrics') {
        this.metrics.registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          () => response.writeHead(500).end(),
        );
      } else if (request.url === '/healthz' || request.url === '/readyz') {
        const ok = this.#state === 'running';
        response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'OK' : this.#state);
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, resolve);
    });
    server.unref();
    this.#server = server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : listen.port;
    this.metricsUrl = `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
    this.#o.logger.info({ url: `${this.metricsUrl}/metrics` }, 'serving metrics');
  }
}
