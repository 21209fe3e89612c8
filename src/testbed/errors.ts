/**
 * An error whose message is meant for the person running the test bed: it names what went
 * wrong and what to do, and is printed without a stack trace.
 */
export class TestbedError extends Error {
  override name = 'TestbedError';
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
