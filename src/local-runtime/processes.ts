import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalRuntimeError } from './errors.ts';
import { tail } from './run-command.ts';
import { commandLineOf, identify, isRunning, parentOf, processGroupOf, type ProcessIdentity } from './process-identity.ts';
import { processTable } from './process-table/index.ts';

/** Every process started through a registry carries this variable, so `down` finds even untracked ones. */
export const instanceMarker = 'THREEPORT_TESTBED_INSTANCE';

export interface TrackedProcess extends ProcessIdentity {
  name: string;
  /** The process group; the whole group is killed at the end, children included. */
  processGroup: number;
  command: string[];
  log: string;
  /** What asks it to exit cleanly (PostgreSQL's fast shutdown is SIGINT). */
  stopSignal: NodeJS.Signals;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  stopSignal?: NodeJS.Signals;
}

let halted = false;

/** From now on this process starts nothing more (it is being interrupted and cleans up). */
export function haltNewProcesses(): void {
  halted = true;
}

/**
 * The processes of one instance (a test bed, or a control plane's local runtime), recorded as
 * files under `<instance>/processes/` the moment they start: a crash of whoever started them
 * (even kill -9) leaves the records behind for `down`.
 */
export class ProcessRegistry {
  readonly instanceDir: string;
  readonly recordsDir: string;
  readonly logsDir: string;

  constructor(instanceDir: string) {
    this.instanceDir = instanceDir;
    this.recordsDir = join(instanceDir, 'processes');
    this.logsDir = join(instanceDir, 'logs');
  }

  /** Environment for anything started on behalf of this instance. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, ...extra, [instanceMarker]: this.instanceDir };
  }

  /** Starts a long-running process in its own process group, output to `logs/<name>.log`. */
  start(name: string, command: string, args: string[], options: SpawnOptions = {}): TrackedProcess {
    return this.launch(name, command, args, options).tracked;
  }

  /**
   * Runs a command to its end, recorded like any other process while it runs (a crash of the
   * caller must not orphan it). Throws with the end of its log if it fails.
   */
  async runToEnd(name: string, command: string, args: string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<void> {
    const { tracked, exited } = this.launch(name, command, args, options);
    const timer = options.timeoutMs ? setTimeout(() => void this.stop(name, 1_000), options.timeoutMs) : undefined;
    const { code, signal } = await exited;
    clearTimeout(timer);
    rmSync(join(this.recordsDir, `${name}.json`), { force: true });
    if (code !== 0) {
      const how = signal ? `was stopped by ${signal}` : `exited with ${code}`;
      throw new LocalRuntimeError(`${[command, ...args].join(' ')} ${how}\n${tail(readFileSync(tracked.log, 'utf8'))}`);
    }
  }

  private launch(name: string, command: string, args: string[], options: SpawnOptions): { tracked: TrackedProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
    if (halted) throw new LocalRuntimeError(`${name}: not started, the test bed is stopping`);
    mkdirSync(this.recordsDir, { recursive: true });
    mkdirSync(this.logsDir, { recursive: true });
    const log = join(this.logsDir, `${name}.log`);
    const output = openSync(log, 'a');
    let pid: number | undefined;
    let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    try {
      const child = spawn(command, args, {
        cwd: options.cwd ?? this.instanceDir,
        env: this.env(options.env),
        uid: options.uid,
        gid: options.gid,
        detached: true,
        stdio: ['ignore', output, output],
      });
      exited = new Promise((resolveExit) => {
        child.on('error', () => resolveExit({ code: -1, signal: null }));
        child.on('exit', (code, signal) => resolveExit({ code, signal }));
      });
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(output);
    }
    if (pid === undefined) throw new LocalRuntimeError(`${name}: could not start ${command} (see ${log})`);
    const identity = identify(pid);
    const stopSignal = options.stopSignal ?? 'SIGTERM';
    // Started and already ended (a zombie until Node reaps it): nothing left to record; how it ended is in `exited` and its log.
    if (!identity) return { tracked: { name, pid, startTime: '', processGroup: pid, command: [command, ...args], log, stopSignal }, exited };
    return { tracked: this.record(name, identity, [command, ...args], log, stopSignal), exited };
  }

  /** Records a process someone else started (kwokctl's control-plane components). */
  adopt(name: string, pid: number, log: string): TrackedProcess | undefined {
    const identity = identify(pid);
    if (!identity) return undefined;
    return this.record(name, identity, commandLineOf(pid), log, 'SIGTERM');
  }

  private record(name: string, identity: ProcessIdentity, command: string[], log: string, stopSignal: NodeJS.Signals): TrackedProcess {
    const tracked: TrackedProcess = {
      name,
      ...identity,
      processGroup: processGroupOf(identity.pid) ?? identity.pid,
      command,
      log,
      stopSignal,
    };
    mkdirSync(this.recordsDir, { recursive: true });
    writeFileSync(join(this.recordsDir, `${name}.json`), JSON.stringify(tracked, null, 2));
    return tracked;
  }

  list(): TrackedProcess[] {
    let files: string[];
    try {
      files = readdirSync(this.recordsDir).filter((file) => file.endsWith('.json'));
    } catch {
      return [];
    }
    return files.flatMap((file) => {
      try {
        return [JSON.parse(readFileSync(join(this.recordsDir, file), 'utf8')) as TrackedProcess];
      } catch {
        return [];
      }
    });
  }

  get(name: string): TrackedProcess | undefined {
    return this.list().find((process) => process.name === name);
  }

  /** Stops one recorded process and its group; its record goes. */
  async stop(name: string, graceMs = 5_000): Promise<void> {
    const tracked = this.get(name);
    if (tracked) await stopProcesses([tracked], graceMs);
    rmSync(join(this.recordsDir, `${name}.json`), { force: true });
  }

  /**
   * Stops every recorded process, then anything else still carrying this instance's marker
   * (children of a crashed start-up that never got recorded).
   */
  async stopAll(graceMs = 5_000): Promise<void> {
    await stopProcesses(this.list(), graceMs);
    const strays = findMarkedProcesses(this.instanceDir);
    if (strays.length > 0) await stopProcesses(strays.map((identity) => ({ ...identity, processGroup: 0, stopSignal: 'SIGTERM' as const })), 2_000);
    rmSync(this.recordsDir, { recursive: true, force: true });
  }
}

type Stoppable = ProcessIdentity & { processGroup: number; stopSignal: NodeJS.Signals };

/** Asks each process to exit, waits up to `graceMs`, then kills what remains, groups included. */
export async function stopProcesses(processes: Stoppable[], graceMs: number): Promise<void> {
  const running = processes.filter(isRunning);
  for (const process of running) signal(process.pid, process.stopSignal);
  const deadline = Date.now() + graceMs;
  while (running.some(isRunning) && Date.now() < deadline) await sleep(100);
  for (const process of processes) {
    if (isRunning(process)) signal(process.pid, 'SIGKILL');
    // Only while the leader is gone or ours: a group id is a pid, and could have been reused.
    if (process.processGroup > 1 && (isRunning(process) || !identify(process.processGroup))) signal(-process.processGroup, 'SIGKILL');
  }
  const killDeadline = Date.now() + 5_000;
  while (processes.some(isRunning) && Date.now() < killDeadline) await sleep(50);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Running processes whose environment carries this instance's marker, except this process and its ancestors. */
export function findMarkedProcesses(instanceDir: string): ProcessIdentity[] {
  // Nested registries (a test's private servers under the instance) belong to the instance too.
  const ours = (value: string) => value === instanceDir || value.startsWith(`${instanceDir}/`);
  const spared = ancestorsOfThisProcess();
  return processTable()
    .withEnvironment(instanceMarker, ours)
    .filter((pid) => !spared.has(pid))
    .flatMap((pid) => identify(pid) ?? []);
}

function ancestorsOfThisProcess(): Set<number> {
  const pids = new Set<number>();
  let pid: number | undefined = process.pid;
  while (pid !== undefined && pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    pid = parentOf(pid);
  }
  return pids;
}
