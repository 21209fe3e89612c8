import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `check` returns true; fails with the last observation (a returned string, or the
 * error thrown) after `timeoutMs`. Tests wait for conditions, never for fixed times.
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean | string> | boolean | string,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'never checked';
  while (Date.now() < deadline) {
    try {
      const result = await check();
      if (result === true) return;
      last = result;
    } catch (error) {
      last = error instanceof Error ? error.message : error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000}s (last: ${String(last)})`);
}
