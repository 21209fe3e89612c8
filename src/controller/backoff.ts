import type { CompiledRuntimeOptions } from './options.ts';

/** Adds ± `fraction` of `delayMs` at random, so replicas retrying together spread out. */
export const withJitter = (delayMs: number, fraction: number, random: () => number = Math.random): number =>
  Math.max(0, Math.round(delayMs * (1 + fraction * (2 * random() - 1))));

/** Delay before retry number `attempt` (1 = the first retry): initial × 2^(attempt-1), capped, jittered. */
export function backoffDelay(attempt: number, policy: CompiledRuntimeOptions['backoff'], random?: () => number): number {
  const exponential = policy.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40);
  return withJitter(Math.min(exponential, policy.maxMs), policy.jitter, random);
}

/** Delay before trying again an object another holder has locked: doubles per wait, up to `capMs`. */
export function lockWaitDelay(waits: number, initialMs: number, capMs: number, random?: () => number): number {
  return withJitter(Math.min(initialMs * 2 ** Math.min(Math.max(waits - 1, 0), 20), capMs), 0.25, random);
}
