/**
 * An error the user can act on: printed as `Error: <message>` on stderr with exit code 1 and no
 * stack trace. Anything else reaching the top is a bug and is reported as "unexpected error".
 */
export class CliError extends Error {
  readonly hint?: string;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    if (options.hint) this.hint = options.hint;
  }
}

export const isCliError = (error: unknown): error is CliError => error instanceof CliError;

/** The message of anything thrown (API errors carry the API's own message). */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
