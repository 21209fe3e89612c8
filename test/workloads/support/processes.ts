/** threeport's own processes for workload tests: controller replicas and agents, killed after the test file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { cleanUp, killOnExit, repoRoot } from '../../support/control-plane.ts';

export interface Spawned {
  child: ChildProcess;
  output(): string;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
}

async function spawnThreeport(args: string[], env: NodeJS.ProcessEnv, readyWhen: RegExp, what: string): Promise<Spawned> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/threeport.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  if (process.env.THREEPORT_TEST_LOG) child.stderr.pipe(process.stderr);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!readyWhen.test(output)) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} not ready within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const spawned: Spawned = {
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  cleanUp(() => spawned.kill());
  return spawned;
}

/** `threeport controller workload kubernetes-runtime` (or the groups given) on NATS, with short lock TTLs and backoff. */
export function spawnController(options: { apiUrl: string; natsUrl: string; encryptionKey: string; lockTtlSeconds?: number; groups?: string[]; env?: NodeJS.ProcessEnv }): Promise<Spawned> {
  return spawnThreeport(
    ['controller', ...(options.groups ?? ['workload', 'kubernetes-runtime']), '--api-url', options.apiUrl, '--nats-url', options.natsUrl, '--metrics-listen', 'off', '--lock-ttl', String(options.lockTtlSeconds ?? 3), '--log-level', process.env.THREEPORT_TEST_LOG ? 'debug' : 'info'],
    { ...options.env, THREEPORT_ENCRYPTION_KEY: options.encryptionKey },
    /"controllers running"/,
    'threeport controller',
  );
}

/** `threeport agent` for one cluster, as a user runs it for a runtime with AgentLocation External. */
export function spawnAgent(options: { apiUrl: string; kubeconfig: string; context: string }): Promise<Spawned> {
  return spawnThreeport(
    ['agent', '--api-url', options.apiUrl, '--kubeconfig', options.kubeconfig, '--context', options.context, '--log-level', process.env.THREEPORT_TEST_LOG ? 'debug' : 'info'],
    {},
    /"agent watching the cluster"/,
    'threeport agent',
  );
}
