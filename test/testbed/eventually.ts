import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until `check` returns true; fails with the last observation after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean | string>, timeoutMs = 60_000): Promise<void> {
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
    await sleep(250);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000}s (last: ${String(last)})`);
}
