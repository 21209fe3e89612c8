import { setTimeout as sleep } from 'node:timers/promises';
import { LocalRuntimeError } from './errors.ts';

/**
 * Polls `probe` until it returns a value (not undefined) or the time is up. `failFast` is asked
 * between polls and ends the wait early with its message, e.g. when the process being waited
 * for has exited.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; failFast?: () => string | undefined },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    const reason = options.failFast?.();
    if (reason) throw new LocalRuntimeError(`${what}: ${reason}`);
    if (Date.now() > deadline) {
      throw new LocalRuntimeError(`${what}: not ready after ${options.timeoutMs / 1000}s${lastError ? ` (${lastError})` : ''}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
