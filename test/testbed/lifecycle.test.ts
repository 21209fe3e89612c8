import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typeScriptNode } from '../../src/local-runtime/node-runtime.ts';
import { repoRoot, stateRoot } from '../../src/testbed/paths.ts';
import { isRunning, type ProcessIdentity } from '../../src/local-runtime/process-identity.ts';
import { findMarkedProcesses } from '../../src/local-runtime/processes.ts';
import { checkHealth } from '../../src/testbed/health.ts';
import { down } from '../../src/testbed/testbed.ts';
import { testbed } from '../support/peers.ts';
import { eventually } from '../support/eventually.ts';

const cli = join(repoRoot, 'scripts', 'testbed', 'main.ts');

function testbedCommand(...args: string[]): ChildProcess {
  return spawn(typeScriptNode(), [cli, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function finished(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  return { code, output };
}

/** The processes an instance recorded, plus any carrying its marker. */
function processesOf(dir: string): ProcessIdentity[] {
  const recordsDir = join(dir, 'processes');
  const recorded = existsSync(recordsDir)
    ? readdirSync(recordsDir).map((file) => JSON.parse(readFileSync(join(recordsDir, file), 'utf8')) as ProcessIdentity)
    : [];
  return [...recorded, ...findMarkedProcesses(dir)];
}

const instanceDirs: string[] = [];

function newInstanceDir(): string {
  testbed(); // the tools are built once the shared test bed is up
  const dir = mkdtempSync(join(stateRoot, 'lifecycle-test-'));
  instanceDirs.push(dir);
  return dir;
}

// Should a test fail half-way, its test bed must not outlive it.
afterAll(async () => {
  for (const dir of instanceDirs) await down(dir);
});

describe('test bed lifecycle', () => {
  it('down after up leaves no process behind', { timeout: 240_000 }, async () => {
    const dir = newInstanceDir();
    const started = await finished(testbedCommand('up', '--dir', dir, '--clusters', '1'));
    expect(started.code, started.output).toBe(0);
    const processes = processesOf(dir);
    // postgres, nats, moto, and the cluster: etcd, apiserver, controller-manager, scheduler, kwok, provisioner
    expect(processes.length).toBeGreaterThanOrEqual(9);
    expect(processes.every(isRunning)).toBe(true);

    const stopped = await finished(testbedCommand('down', '--dir', dir));
    expect(stopped.code, stopped.output).toBe(0);
    expect(processes.filter(isRunning)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('down after kill -9 of up, in the middle of starting a cluster, leaves no process behind', { timeout: 240_000 }, async () => {
    const dir = newInstanceDir();
    const starting = testbedCommand('up', '--dir', dir, '--clusters', '1');
    const exited = finished(starting);
    await eventually(
      'up to be starting the cluster',
      async () => readdirSync(join(dir, 'processes')).some((file) => file.startsWith('cluster-a-')) || 'not yet',
      120_000,
    );
    starting.kill('SIGKILL');
    await exited;
    const processes = processesOf(dir);
    expect(processes.filter(isRunning).length).toBeGreaterThan(0);

    const stopped = await finished(testbedCommand('down', '--dir', dir));
    expect(stopped.code, stopped.output).toBe(0);
    await eventually('every process of the crashed up gone', async () => {
      const left = [...processes, ...findMarkedProcesses(dir)].filter(isRunning);
      return left.length === 0 || `still running: ${left.map((process) => process.pid).join(', ')}`;
    }, 10_000);
  });

  it('does not take clusters started by other test-bed code (other stages or nodes) for healthy ones', async () => {
    const running = testbed();
    expect((await checkHealth(running)).every((peer) => peer.healthy)).toBe(true);
    const older = { ...running, clusters: running.clusters.map((cluster) => ({ ...cluster, recipe: 'made-by-older-code' })) };
    const stale = (await checkHealth(older)).filter((peer) => !peer.healthy);
    expect(stale.map((peer) => peer.peer)).toEqual(running.clusters.map((cluster) => `cluster ${cluster.name}`));
    expect(stale.every((peer) => peer.stale && peer.detail.includes('started by other test-bed code'))).toBe(true);
  });
});
