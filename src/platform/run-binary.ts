/**
 * Runs one of the command-line tools the platform layers drive (helm, terraform): its output, or
 * why it failed — it exited non-zero, it could not be started, it ran out of time, or the caller's
 * signal stopped it (SIGTERM, then SIGKILL five seconds later).
 */
import { spawn } from 'node:child_process';

export interface BinaryRun {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface BinaryOutput {
  stdout: string;
  /** Its last 16 KiB. */
  stderr: string;
}

export type BinaryFailure =
  | { kind: 'missing'; message: string }
  | { kind: 'unstartable'; message: string }
  | { kind: 'stopped'; why: string; output: BinaryOutput }
  | { kind: 'failed'; code: number | null; output: BinaryOutput };

export class BinaryRunError extends Error {
  override name = 'BinaryRunError';
  readonly failure: BinaryFailure;

  constructor(binary: string, failure: BinaryFailure) {
    super(failure.kind === 'missing' ? `${binary} not found` : failure.kind === 'unstartable' ? `cannot run ${binary}: ${failure.message}` : failure.kind === 'stopped' ? `${binary} ${failure.why}` : `${binary} exited with ${String(failure.code)}`);
    this.failure = failure;
  }
}

const reasonOf = (signal: AbortSignal): string => (signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted'));

export function runBinary(binary: string, args: readonly string[], run: BinaryRun): Promise<BinaryOutput> {
  return new Promise((resolve, reject) => {
    const { signal } = run;
    if (signal?.aborted) return reject(new BinaryRunError(binary, { kind: 'stopped', why: `stopped: ${reasonOf(signal)}`, output: { stdout: '', stderr: '' } }));
    const child = spawn(binary, args, { env: run.env, ...(run.cwd && { cwd: run.cwd }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stopped: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-16_384)));
    const stop = (why: string): void => {
      stopped ??= why;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    };
    const timer = setTimeout(() => stop(`did not finish within ${Math.round(run.timeoutMs / 1000)}s`), run.timeoutMs);
    const onAbort = (): void => stop(`stopped: ${reasonOf(signal!)}`);
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(new BinaryRunError(binary, error.code === 'ENOENT' ? { kind: 'missing', message: error.message } : { kind: 'unstartable', message: error.message }));
    });
    child.on('close', (code) => {
      done();
      const output = { stdout, stderr };
      if (code === 0 && !stopped) return resolve(output);
      reject(new BinaryRunError(binary, stopped ? { kind: 'stopped', why: stopped, output } : { kind: 'failed', code, output }));
    });
  });
}
