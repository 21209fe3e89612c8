import { ApiRequestError } from '../client/errors.ts';

const terminalBrand = Symbol.for('threeport.controller.TerminalError');
const retryableBrand = Symbol.for('threeport.controller.RetryableError');
const staleBrand = Symbol.for('threeport.controller.StaleObjectError');

/**
 * A failure retrying cannot fix (bad input, a missing permission): recorded on the object and in
 * an Event, counted, and not retried. The object is looked at again when it changes, or when a
 * resync finds it still unreconciled.
 */
export class TerminalError extends Error {
  readonly [terminalBrand] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * A failure that will likely pass (a cluster not reachable yet, a dependency still starting):
 * retried with backoff, or after `retryAfterMs` when the cause says how long (a rate limit).
 */
export class RetryableError extends Error {
  readonly [retryableBrand] = true;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetryableError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The object changed while it was being reconciled; the runtime re-reads it and reconciles again. */
export class StaleObjectError extends Error {
  readonly [staleBrand] = true;

  constructor(message = 'the object changed while it was being reconciled') {
    super(message);
    this.name = 'StaleObjectError';
  }
}

/** Marks an error as terminal, keeping it as the cause. */
export const terminal = (error: unknown): TerminalError =>
  error instanceof TerminalError ? error : new TerminalError(error instanceof Error ? error.message : String(error), { cause: error });

// Brands, not instanceof: reconcilers may load another copy of this module.
export const isTerminalError = (error: unknown): boolean => typeof error === 'object' && error !== null && terminalBrand in error;
export const isRetryableError = (error: unknown): error is RetryableError => typeof error === 'object' && error !== null && retryableBrand in error;
export const isStaleObjectError = (error: unknown): boolean => typeof error === 'object' && error !== null && staleBrand in error;

/**
 * How the runtime treats a failure. The API refusing a controller's request (a 4xx other than a
 * lost race or a rate limit) is terminal: asking again the same way gets the same answer.
 */
export function failureKind(error: unknown): 'terminal' | 'retryable' {
  if (isTerminalError(error)) return 'terminal';
  if (isRetryableError(error)) return 'retryable';
  if (error instanceof ApiRequestError && error.status >= 400 && error.status < 500) {
    const raced = error.status === 429 || error.status === 404 || error.reason === 'StaleVersion' || error.reason === 'Contended' || error.reason === 'BeingDeleted';
    return raced ? 'retryable' : 'terminal';
  }
  return 'retryable';
}

/** How long the failure itself asks to wait before the next try, if it says. */
export function retryAfterOf(error: unknown): number | undefined {
  if (isRetryableError(error)) return error.retryAfterMs;
  if (error instanceof ApiRequestError) return error.retryAfterMs;
  return undefined;
}
