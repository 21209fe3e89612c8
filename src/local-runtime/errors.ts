/**
 * An error whose message is meant for the person running the local runtime or the test bed: it
 * names what went wrong and what to do, and is printed without a stack trace.
 */
export class LocalRuntimeError extends Error {
  override name = 'LocalRuntimeError';
}

/** A program the tools need is not installed; callers may explain it in their own words. */
export class MissingPrerequisite extends LocalRuntimeError {
  override name = 'MissingPrerequisite';
  readonly prerequisite: 'go' | 'python' | 'postgres';

  constructor(prerequisite: 'go' | 'python' | 'postgres', message: string) {
    super(message);
    this.prerequisite = prerequisite;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
