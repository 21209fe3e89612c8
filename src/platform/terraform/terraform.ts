/**
 * The real terraform, run on a configuration held elsewhere (threeport keeps it, its variables and
 * its state in the control plane, encrypted): each run gets a private work folder (0700, removed
 * after) with the configuration, the variables and the last state written in, runs init and
 * apply (or destroy), and hands back the new state and outputs — the state also when apply fails
 * half-way, since what was made must not be forgotten. Providers come from their registries
 * through a shared plugin cache, or only from a mirror when one is set.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinaryRunError, runBinary } from '../run-binary.ts';

export interface TerraformOptions {
  binary: string;
  /** Where its state lives between runs: the plugin cache, and the runs' (private, short-lived) work folders. */
  home: string;
  /** Providers only from here: a filesystem mirror folder or an https network mirror. Absent: their registries. */
  providerMirror?: string;
  /** A run taking longer is stopped. @default 1800000 */
  timeoutMs?: number;
}

export interface TerraformRun {
  /** The configuration: the contents of one .tf file. */
  configuration: string;
  /** terraform.tfvars contents. */
  variables?: string | undefined;
  /** The state of the last run (JSON). */
  state?: string | undefined;
  /** Credentials and settings for the providers (AWS_ACCESS_KEY_ID…). */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface TerraformOutput {
  value: unknown;
  type: unknown;
  sensitive: boolean;
}

export interface ApplyResult {
  state: string;
  outputs: Record<string, TerraformOutput>;
  /** How many resources the state holds. */
  resources: number;
}

export class TerraformError extends Error {
  override name = 'TerraformError';
  /** The state as terraform left it (what a failed apply made before it failed), to be kept. */
  readonly state: string | undefined;

  constructor(message: string, state?: string) {
    super(message);
    this.state = state;
  }
}

const DEFAULT_TIMEOUT_MS = 1_800_000;

/** Environment variables of the controller's own that terraform and its providers may need (proxies, endpoints, CAs). */
const PASSED_ENV = /^(PATH|TMPDIR|TZ|LANG|LC_ALL|SSL_CERT_FILE|SSL_CERT_DIR|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|AWS_ENDPOINT_URL(_[A-Z0-9_]+)?|AWS_CA_BUNDLE)$/;

export class Terraform {
  readonly #o: TerraformOptions;
  /** Runs of `init` one at a time: they share the plugin cache, which terraform does not lock. */
  #initializing: Promise<unknown> = Promise.resolve();
  #swept = false;

  constructor(options: TerraformOptions) {
    this.#o = options;
  }

  /**
   * Work folders a killed process left (they hold a state and variables): removed once they are
   * older than any run can be.
   */
  #sweep(runs: string): void {
    if (this.#swept) return;
    this.#swept = true;
    const oldest = Date.now() - 2 * (this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    for (const entry of readdirSync(runs)) {
      const path = join(runs, entry);
      try {
        if (statSync(path).mtimeMs < oldest) rmSync(path, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
    }
  }

  #init(exec: (args: string[]) => Promise<string>): Promise<string> {
    const run = this.#initializing.then(() => exec(['init', '-input=false', '-no-color']));
    this.#initializing = run.catch(() => undefined);
    return run;
  }

  async apply(run: TerraformRun): Promise<ApplyResult> {
    return this.#change(run, 'apply', async (exec, dir) => {
      const state = readState(dir) ?? '';
      const outputs = JSON.parse((await exec(['output', '-json', '-no-color'])) || '{}') as Record<string, TerraformOutput>;
      return { state, outputs, resources: countResources(state) };
    });
  }

  /** Destroys what the state holds; the state left (empty when all went). */
  async destroy(run: TerraformRun): Promise<string | undefined> {
    return this.#change(run, 'destroy', async (_exec, dir) => readState(dir));
  }

  /** init, then apply or destroy; a failure carries the state as terraform left it. */
  #change<T>(run: TerraformRun, command: 'apply' | 'destroy', then: (exec: (args: string[]) => Promise<string>, dir: string) => Promise<T>): Promise<T> {
    return this.#inWorkspace(run, async (exec, dir) => {
      await this.#init(exec);
      try {
        await exec([command, '-auto-approve', '-input=false', '-no-color']);
      } catch (error) {
        throw new TerraformError((error as Error).message, readState(dir));
      }
      return then(exec, dir);
    });
  }

  async #inWorkspace<T>(run: TerraformRun, work: (exec: (args: string[]) => Promise<string>, dir: string) => Promise<T>): Promise<T> {
    const { home } = this.#o;
    const pluginCache = join(home, 'plugin-cache');
    mkdirSync(pluginCache, { recursive: true });
    mkdirSync(join(home, 'runs'), { recursive: true, mode: 0o700 });
    this.#sweep(join(home, 'runs'));
    const dir = mkdtempSync(join(home, 'runs', 'run-'));
    chmodSync(dir, 0o700);
    try {
      writeFileSync(join(dir, 'main.tf'), run.configuration, { mode: 0o600 });
      if (run.variables) writeFileSync(join(dir, 'terraform.tfvars'), run.variables, { mode: 0o600 });
      if (run.state) writeFileSync(join(dir, 'terraform.tfstate'), run.state, { mode: 0o600 });
      writeFileSync(join(dir, 'cli.tfrc'), this.#cliConfiguration(), { mode: 0o600 });
      const env: NodeJS.ProcessEnv = {
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => PASSED_ENV.test(key))),
        ...run.env,
        HOME: dir,
        TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'),
        TF_PLUGIN_CACHE_DIR: pluginCache,
        TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE: 'true',
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        CHECKPOINT_DISABLE: '1',
      };
      const exec = async (args: string[]): Promise<string> => {
        try {
          return (await runBinary(this.#o.binary, args, { env, cwd: dir, timeoutMs: this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: run.signal })).stdout;
        } catch (error) {
          throw error instanceof BinaryRunError ? new TerraformError(describeFailure(args[0]!, error)) : error;
        }
      };
      return await work(exec, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  #cliConfiguration(): string {
    const mirror = this.#o.providerMirror;
    if (!mirror) return '';
    const source = /^https:\/\//.test(mirror) ? `network_mirror {\n    url = ${JSON.stringify(mirror.endsWith('/') ? mirror : `${mirror}/`)}\n  }` : `filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }`;
    return `provider_installation {\n  ${source}\n}\n`;
  }
}

function readState(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'terraform.tfstate'), 'utf8');
  } catch {
    return undefined;
  }
}

function countResources(state: string): number {
  try {
    return ((JSON.parse(state) as { resources?: unknown[] }).resources ?? []).length;
  } catch {
    return 0;
  }
}

/** terraform's own words for a failure: each `Error:` box it drew, in one line. */
export function terraformReason(stderr: string): string {
  const blocks: string[][] = [];
  let open: string[] | undefined;
  for (const raw of stderr.split('\n')) {
    if (raw.startsWith('╵')) {
      open = undefined;
      continue;
    }
    const line = raw.replace(/^[│╷]\s?/, '').trim();
    if (line.startsWith('Error: ')) blocks.push((open = [line.slice('Error: '.length)]));
    // Not the configuration's own lines it quotes (`  3:   password = "…"`): they may hold values the Status must not.
    else if (open && line && !/^\d+:/.test(line)) open.push(line);
  }
  const reason = blocks.length > 0 ? blocks.map((block) => block.join(' ')).join('; ') : stderr.trim().split('\n').slice(-3).join(' ');
  return reason.slice(0, 2000);
}

function describeFailure(command: string, error: BinaryRunError): string {
  const { failure } = error;
  if (failure.kind === 'missing') return `terraform not found: ${error.message}`;
  if (failure.kind === 'unstartable') return `cannot run terraform: ${failure.message}`;
  const reason = terraformReason(failure.output.stderr);
  if (failure.kind === 'stopped') return `terraform ${command} ${failure.why}${reason ? ` (${reason})` : ''}`;
  return `terraform ${command} failed: ${reason || `exit code ${String(failure.code)}`}`;
}
