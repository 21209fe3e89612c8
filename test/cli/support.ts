/**
 * Runs the real tptctl executable (bin/tptctl.js, on the esbuild bundle as users get it) as a
 * child process, each test with its own threeport config file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { withFileLock } from '../../src/local-runtime/file-lock.ts';
import { run } from '../../src/local-runtime/run-command.ts';
import { repoRoot, tempDir } from '../support/control-plane.ts';

export const samplesDir = join(repoRoot, 'test/cli/samples');
export const sample = (name: string): string => join(samplesDir, name);

export interface TptctlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds dist/tptctl.js when the sources are newer (once for concurrent test files). */
export async function ensureBundle(): Promise<void> {
  const bundle = join(repoRoot, 'dist/tptctl.js');
  mkdirSync(join(repoRoot, 'dist'), { recursive: true });
  await withFileLock(join(repoRoot, 'dist/.build.lock'), 'the tptctl bundle', async () => {
    if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(join(repoRoot, 'src'))) return;
    await run(process.execPath, [join(repoRoot, 'scripts/build-cli.ts')], { timeoutMs: 120_000 });
  });
}

export interface RunningTptctl {
  /** What it wrote so far. */
  output(): { stdout: string; stderr: string };
  done: Promise<TptctlResult>;
}

export class Tptctl {
  readonly configPath: string;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = {}) {
    this.dir = tempDir('tptctl');
    this.configPath = join(this.dir, 'config.yaml');
    this.env = env;
  }

  /** Writes a config entry for an API this test started itself. */
  useControlPlane(name: string, url: string, encryptionKey?: string): void {
    writeFileSync(
      this.configPath,
      stringify({ ControlPlanes: [{ Name: name, AuthEnabled: false, APIServer: url.replace(/^http:\/\//, ''), ...(encryptionKey && { EncryptionKey: encryptionKey }) }], CurrentControlPlane: name }),
      { mode: 0o600 },
    );
  }

  /** Starts tptctl; what it has written so far can be read while it runs. */
  start(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunningTptctl {
    const env: NodeJS.ProcessEnv = { ...process.env, THREEPORT_CONFIG: this.configPath, ...this.env, ...options.env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    const child = spawn(process.execPath, [join(repoRoot, 'bin/tptctl.js'), ...args], {
      cwd: this.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const done = new Promise<TptctlResult>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`tptctl ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    return { output: () => ({ stdout, stderr }), done };
  }

  run(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<TptctlResult> {
    return this.start(args, options).done;
  }

  /** Runs and expects exit code 0; returns stdout. */
  async ok(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new Error(`tptctl ${args.join(' ')} exited with ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    return result.stdout;
  }

  /** Runs and expects a failure; returns stderr. */
  async fails(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<TptctlResult> {
    const result = await this.run(args, options);
    if (result.code === 0) throw new Error(`tptctl ${args.join(' ')} succeeded, expected a failure\nstdout: ${result.stdout}`);
    return result;
  }
}
