import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { TestbedError } from '../errors.ts';
import { freePort } from '../../local-runtime/ports.ts';
import { isRunning } from '../../local-runtime/process-identity.ts';
import { stopProcesses, type ProcessRegistry, type TrackedProcess } from '../../local-runtime/processes.ts';
import { tail } from '../../local-runtime/run-command.ts';
import { waitFor } from '../../local-runtime/wait.ts';

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  start(): Promise<void>;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
}

export interface NatsServerOptions {
  binary: string;
  registry: ProcessRegistry;
  /** Name of its process record and log. */
  name: string;
  storeDir: string;
}

/** A nats-server with JetStream on a free loopback port, storing into `storeDir`. */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServer> {
  mkdirSync(options.storeDir, { recursive: true });
  let port = 0;
  let current: TrackedProcess | undefined;

  const launch = async () => {
    const logStart = sizeOf(`${options.registry.logsDir}/${options.name}.log`);
    const server = options.registry.start(options.name, options.binary, [
      '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', options.storeDir, '-n', options.name,
    ]);
    current = server;
    const output = () => readFileSync(server.log, 'utf8').slice(logStart);
    await waitFor(`nats-server ${options.name}`, async () => (output().includes('Server is ready') ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 50,
      failFast: () => (isRunning(server) ? undefined : `exited\n${tail(output())}`),
    });
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await options.registry.stop(options.name);
      if (attempt >= 3 || !/address already in use/i.test(String(error))) throw error;
    }
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: options.storeDir,
    stop: () => options.registry.stop(options.name, 10_000),
    start: async () => {
      if (current && isRunning(current)) throw new TestbedError(`nats-server ${options.name} is already running`);
      await launch();
    },
    kill: async () => {
      if (current) await stopProcesses([{ ...current, stopSignal: 'SIGKILL' }], 0);
    },
  };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
