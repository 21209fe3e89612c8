/** Shared pieces of the controller tests: an in-process runtime on a given bus, and polling. */
import { cleanUp } from '../../support/control-plane.ts';
import type { ControllerBus } from '../../../src/bus/work-queue.ts';
import type { ApiClient } from '../../../src/client/api-client.ts';
import { ControllerManager, type ControllerManagerOptions } from '../../../src/controller/manager.ts';
import type { RuntimeOptions } from '../../../src/controller/options.ts';
import type { Reconciler } from '../../../src/controller/reconciler.ts';
import { createLogger, silentLogger } from '../../../src/log.ts';

export const testLogger = () => (process.env.THREEPORT_TEST_LOG ? createLogger('debug', 'test-controller') : silentLogger());

/** Fast settings for tests: short lock TTL and backoff, no periodic resync. */
export const fastRuntime: RuntimeOptions = {
  lockTtlMs: 3000,
  ackWaitMs: 3000,
  backoff: { initialMs: 300, maxMs: 5000, jitter: 0.1 },
  lockWaitMs: 50,
  resyncIntervalMs: 0,
  shutdownGraceMs: 2000,
  fetchExpiresMs: 2000,
};

/** A controller manager in this process, stopped after the test (or the file, when started outside a test). */
export async function startControllers(
  bus: ControllerBus,
  client: ApiClient,
  reconcilers: Reconciler[],
  runtime: RuntimeOptions = {},
  extra: Partial<Pick<ControllerManagerOptions, 'cipher' | 'logger'>> = {},
): Promise<ControllerManager> {
  const manager = new ControllerManager({ bus, client, reconcilers, logger: extra.logger ?? testLogger(), runtime: { ...fastRuntime, ...runtime }, ...(extra.cipher && { cipher: extra.cipher }) });
  await manager.start();
  cleanUp(() => manager.stop());
  return manager;
}

export { eventually } from '../../support/eventually.ts';
