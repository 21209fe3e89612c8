/**
 * Process identity without /proc (macOS, BSD): the ps-based table, forced on this Linux machine
 * with THREEPORT_PROCESS_TABLE=ps, must see what /proc sees.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandLineOf, identify, isRunning, parentOf, processGroupOf } from '../../src/local-runtime/process-identity.ts';
import { procTable } from '../../src/local-runtime/process-table/proc-table.ts';
import { psTable } from '../../src/local-runtime/process-table/ps-table.ts';
import { findMarkedProcesses, instanceMarker, ProcessRegistry } from '../../src/local-runtime/processes.ts';
import { eventually } from '../support/eventually.ts';

const children: ChildProcess[] = [];
const dirs: string[] = [];

/** A process that waits until killed, in its own process group. */
function sleeper(env: NodeJS.ProcessEnv = {}, args: string[] = ['60']): ChildProcess {
  const child = spawn('sleep', args, { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolveExit) => child.once('exit', resolveExit));
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the ps process table (the fallback where there is no /proc)', () => {
  beforeEach(() => {
    process.env.THREEPORT_PROCESS_TABLE = 'ps';
  });
  afterEach(() => {
    delete process.env.THREEPORT_PROCESS_TABLE;
  });

  it('reads state, process group and parent as /proc does', () => {
    const child = sleeper();
    const fromPs = psTable.read(child.pid!);
    const fromProc = procTable.read(child.pid!);
    expect(fromPs).toMatchObject({ processGroup: child.pid, parent: process.pid });
    expect(fromProc).toMatchObject({ processGroup: child.pid, parent: process.pid });
    expect(fromPs!.state).toMatch(/^[A-Z]$/);
    expect(fromPs!.startTime).toMatch(/^ps:\w{3} \w{3} \d{1,2} \d\d:\d\d:\d\d \d{4}$/);
    expect(psTable.read(2 ** 22 + 1)).toBeUndefined(); // above Linux's pid limit: nobody
    expect(psTable.commandLine(child.pid!)).toEqual(procTable.commandLine(child.pid!));
  });

  it('identifies a process, tells it from a later one, and sees it go', async () => {
    const child = sleeper();
    const identity = identify(child.pid!)!;
    expect(identity.startTime.startsWith('ps:')).toBe(true);
    expect(isRunning(identity)).toBe(true);
    expect(isRunning({ pid: child.pid!, startTime: 'ps:Thu Jan 1 00:00:01 1970' })).toBe(false);
    expect(processGroupOf(child.pid!)).toBe(child.pid);
    expect(parentOf(child.pid!)).toBe(process.pid);
    expect(commandLineOf(child.pid!)).toEqual(['sleep', '60']);

    // A record made with ps is still checked with ps once /proc is used again.
    delete process.env.THREEPORT_PROCESS_TABLE;
    expect(isRunning(identity)).toBe(true);
    child.kill('SIGKILL');
    await exited(child);
    expect(isRunning(identity)).toBe(false);
    expect(identify(child.pid!)).toBeUndefined();
  });

  it('takes a zombie for gone', async () => {
    // The inner sleep exits at once; its parent, exec'd into a long sleep, never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    const zombie = Number(await new Promise<string>((resolveLine) => parent.stdout.once('data', (chunk: Buffer) => resolveLine(chunk.toString()))));
    await eventually('the inner sleep to be a zombie', async () => procTable.read(zombie)?.state === 'Z' || `${procTable.read(zombie)?.state}`);
    expect(psTable.read(zombie)?.state).toBe('Z');
    expect(identify(zombie)).toBeUndefined();
  });

  it('finds the processes carrying an instance marker, nested instances included', () => {
    const instanceDir = mkdtempSync(join(tmpdir(), 'threeport-ps-table-'));
    dirs.push(instanceDir);
    const marked = sleeper({ [instanceMarker]: instanceDir });
    const nested = sleeper({ [instanceMarker]: join(instanceDir, 'private', 'one') });
    const other = sleeper({ [instanceMarker]: `${instanceDir}-other` });
    const unmarked = sleeper();
    const found = findMarkedProcesses(instanceDir).map((identity) => identity.pid);
    expect(found.sort()).toEqual([marked.pid, nested.pid].sort());
    expect(found).not.toContain(other.pid);
    expect(found).not.toContain(unmarked.pid);
  });

  it('lets a process registry start, record and stop a process and its group', async () => {
    const instanceDir = mkdtempSync(join(tmpdir(), 'threeport-ps-registry-'));
    dirs.push(instanceDir);
    const registry = new ProcessRegistry(instanceDir);
    // A shell whose child is in the same group: stopping the group must take both.
    const shell = registry.start('shell', 'sh', ['-c', 'sleep 60 & echo $! > child.pid; wait']);
    expect(shell.startTime.startsWith('ps:')).toBe(true);
    expect(shell.processGroup).toBe(shell.pid);
    const pidFile = join(instanceDir, 'child.pid');
    await eventually('the shell to start its child', () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '') || 'not yet');
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    const child = identify(childPid)!;
    expect(isRunning(child)).toBe(true);
    await registry.stopAll(1_000);
    expect(isRunning(shell)).toBe(false);
    expect(isRunning(child)).toBe(false);
    expect(registry.list()).toEqual([]);
  });
});
