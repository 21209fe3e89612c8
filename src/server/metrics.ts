/**
 * The API's Prometheus metrics, on GET /metrics: requests by route template (never a name or an
 * ID, which would make a series per object) and status, their latency, and the process's own
 * figures. Numbers only, no object data: open like /version. A process that also runs
 * controllers (the all-in-one) serves their metrics here too, so one endpoint covers the process.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly #included = new Set<Registry>();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requests = new Counter({ name: 'threeport_api_requests_total', help: 'API requests answered, by method, route and status code.', labelNames: ['method', 'route', 'status'], registers });
    this.duration = new Histogram({
      name: 'threeport_api_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent, by method and route.',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
  }

  /** Serves another registry's metrics with the API's (the controllers' in the same process). */
  include(registry: Registry): void {
    this.#included.add(registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    return Registry.merge([this.registry, ...this.#included]).metrics();
  }
}

export function registerMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // Unmatched paths share one series: a scanner cannot make one per URL.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { access: 'public' } }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
}
