/**
 * An error whose message is meant for the person running the test bed: it names what went
 * wrong and what to do, and is printed without a stack trace.
 */
export class TestbedError extends Error {
  override name = 'TestbedError';
}

/** A program the test bed needs is not installed; callers may explain it in their own words. */
export class MissingPrerequisite extends TestbedError {
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
