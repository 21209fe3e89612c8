const terminalBrand = Symbol.for('threeport.controller.TerminalError');
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

/** The object changed since it was read; the runtime re-reads it and reconciles again. */
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
export const isStaleObjectError = (error: unknown): boolean => typeof error === 'object' && error !== null && staleBrand in error;

/** A message fit for a user: no stack, bounded length. */
export function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}
