let label = 'testbed';

/** The prefix of progress lines, 'testbed' unless a caller presents its work under another name (tptctl). */
export function setProgressLabel(name: string): void {
  label = name;
}

/** One line per step with its duration, on stderr so stdout stays machine-readable. */
export function report(line: string): void {
  process.stderr.write(`${label}: ${line}\n`);
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)}s`;
}

/**
 * Runs a step and prints `✓ label (1.2s)` when it ends, or `✗ label (1.2s)` when it fails.
 * A step that may take long says so when it starts, with the expected duration.
 */
export async function step<T>(label: string, run: () => Promise<T>, expected?: string): Promise<T> {
  const started = Date.now();
  if (expected) report(`… ${label} (${expected})`);
  try {
    const result = await run();
    report(`✓ ${label} (${seconds(started)})`);
    return result;
  } catch (error) {
    report(`✗ ${label} (${seconds(started)})`);
    throw error;
  }
}
