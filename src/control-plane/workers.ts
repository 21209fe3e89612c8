import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log.ts';

/**
 * Runs `count` API processes that share one listening socket (node:cluster), as the API's own
 * replicas on one machine: each has its connection pool and outbox relay, and the database keeps
 * them consistent. Replaces a worker that dies; a worker that fails before it is ready (a bad
 * database, a busy port) stops them all, since the next would fail the same way.
 */
export function superviseWorkers(count: number, logger: Logger): void {
  let stopping = false;
  const ready = new Set<number>();

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (message) => {
      if (message === 'ready') ready.add(worker.id);
      if (ready.size === count) logger.info({ workers: count }, 'all API workers ready');
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const wasReady = ready.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (!wasReady) {
      logger.error({ code, signal }, 'an API worker failed to start; stopping');
      stopAll(1);
      return;
    }
    logger.warn({ code, signal }, 'an API worker died; starting another');
    fork();
  });

  const stopAll = (exitCode: number): void => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (workers.length === 0) process.exit(exitCode);
    for (const worker of workers) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(exitCode || 1), 20_000).unref();
    if (exitCode !== 0) cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(exitCode));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    logger.info({ signal }, 'shutting down the API workers');
    stopAll(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  for (let i = 0; i < count; i++) fork();
}

/** Tells the supervising process this worker is serving. */
export function reportWorkerReady(): void {
  if (cluster.isWorker) process.send?.('ready');
}

export const isSupervisor = (workers: number): boolean => workers > 1 && cluster.isPrimary;
