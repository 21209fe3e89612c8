import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ReconcileResultLabel =
  /** Reconciled (or deletion completed). */
  | 'success'
  /** The reconciler asked to look again later. */
  | 'requeue'
  /** Failed; retried with backoff. */
  | 'error'
  /** Failed with a TerminalError; not retried. */
  | 'terminal'
  /** Nothing to do: already reconciled, gone, or a retry is already scheduled. */
  | 'skipped'
  /** Undecodable notification, dropped. */
  | 'dropped';

/** The runtime's Prometheus metrics, in a registry of their own (served on /metrics). */
export class ControllerMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'reconciler' | 'result'>;
  readonly duration: Histogram<'reconciler' | 'operation'>;
  readonly startLatency: Histogram<'reconciler'>;
  readonly lockWaits: Counter<'reconciler'>;
  readonly inFlight: Gauge<'reconciler'>;
  readonly #depthSources = new Map<string, () => Promise<number>>();

  constructor(options: { processMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.reconciles = new Counter({
      name: 'threeport_controller_reconciles_total',
      help: 'Notifications handled, by outcome (success, requeue, error, terminal, skipped, dropped).',
      labelNames: ['reconciler', 'result'],
      registers,
    });
    this.duration = new Histogram({
      name: 'threeport_controller_reconcile_duration_seconds',
      help: 'Time from taking the lock to releasing it.',
      labelNames: ['reconciler', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.startLatency = new Histogram({
      name: 'threeport_controller_notification_latency_seconds',
      help: 'Time from the broker storing a notification to its reconcile starting.',
      labelNames: ['reconciler'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300],
      registers,
    });
    this.lockWaits = new Counter({
      name: 'threeport_controller_lock_waits_total',
      help: 'Notifications handed back because another holder had the object locked.',
      labelNames: ['reconciler'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'threeport_controller_reconciles_in_flight',
      help: 'Reconciles running in this process.',
      labelNames: ['reconciler'],
      registers,
    });
    const sources = this.#depthSources;
    new Gauge({
      name: 'threeport_controller_queue_depth',
      help: 'Notifications waiting or being handled, per reconciler (shared by all replicas).',
      labelNames: ['reconciler'],
      registers,
      async collect() {
        await Promise.all(
          [...sources].map(async ([reconciler, depth]) => {
            try {
              this.set({ reconciler }, await depth());
            } catch {
              // broker unreachable: keep the last value
            }
          }),
        );
      },
    });
  }

  /** Registers where the queue depth of `reconciler` comes from. */
  queueDepth(reconciler: string, depth: () => Promise<number>): void {
    this.#depthSources.set(reconciler, depth);
  }
}
