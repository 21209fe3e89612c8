/** Controller replicas as separate processes (fixtures/recording-controller.ts), and their records. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanUp, killOnExit } from '../../support/control-plane.ts';
import type { RuntimeOptions } from '../../../src/controller/options.ts';
import type { Behaviour, CallRecord } from './recording-reconciler.ts';
import { fastRuntime } from './harness.ts';

const fixture = new URL('../fixtures/recording-controller.ts', import.meta.url).pathname;

export interface Replica {
  name: string;
  child: ChildProcess;
  output(): string;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export interface ReplicaOptions {
  apiUrl: string;
  natsUrl: string;
  recordFile: string;
  name: string;
  behaviour?: Behaviour;
  runtime?: RuntimeOptions;
}

export async function spawnReplica(options: ReplicaOptions): Promise<Replica> {
  const child = spawn(process.execPath, [fixture], {
    env: {
      ...process.env,
      API_URL: options.apiUrl,
      NATS_URL: options.natsUrl,
      RECORD_FILE: options.recordFile,
      REPLICA: options.name,
      BEHAVIOUR: JSON.stringify(options.behaviour ?? {}),
      RUNTIME: JSON.stringify({ ...fastRuntime, ...options.runtime }),
      LOG_LEVEL: process.env.THREEPORT_TEST_LOG ? 'debug' : 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  if (process.env.THREEPORT_TEST_LOG) child.stderr.pipe(process.stderr);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!output.includes('ready\n')) {
    if (child.exitCode !== null) throw new Error(`replica ${options.name} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`replica ${options.name} not ready within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const replica: Replica = {
    name: options.name,
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  cleanUp(() => replica.kill());
  return replica;
}

export function readRecords(path: string): CallRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as CallRecord);
}

export const recordPath = (dir: string, name: string): string => join(dir, `${name}.jsonl`);
