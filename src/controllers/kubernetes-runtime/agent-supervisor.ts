/**
 * Runs the agent inside the control plane for the runtimes whose agent can't run in their cluster
 * (their `Agent` condition says ControlPlane). Among controller replicas, one runs each runtime's
 * agent: it holds that runtime's lock in the group's lock bucket, and another takes over when it
 * stops refreshing. An agent is restarted when its runtime's connection details change.
 */
import type { Runnable, RunnableEnvironment } from '../../controller/runnable.ts';
import { ObjectLocks, type Lease } from '../../controller/object-locks.ts';
import { Agent } from '../../agent/agent.ts';
import { conditionsOf, findCondition } from '../../model/conditions.ts';
import type { ApiObject } from '../../model/kind.ts';
import { connect, connectionFingerprint } from '../../platform/kubernetes/index.ts';
import { connectionOf, controlPlaneIdOf } from '../shared/runtime-cluster.ts';
import { AGENT } from './runtime-instance.ts';
import { pause } from '../../concurrency.ts';

interface Running {
  fingerprint: string;
  stop: AbortController;
  done: Promise<void>;
}

export interface AgentSupervisorOptions {
  /** How often runtimes are looked at. @default 3000 */
  pollIntervalMs?: number;
  /** The agents' batching, for tests and benchmarks. */
  flushIntervalMs?: number;
}

export function agentSupervisor(options: AgentSupervisorOptions = {}): Runnable {
  return {
    name: 'agent-supervisor',
    group: 'kubernetes-runtime',
    run: (environment) => supervise(environment, options),
  };
}

async function supervise(environment: RunnableEnvironment, options: AgentSupervisorOptions): Promise<void> {
  const { client, logger, signal, cipher } = environment;
  const locks = new ObjectLocks({ store: await environment.lockStore(), owner: environment.ownerId, ttlMs: environment.lockTtlMs, logger });
  const running = new Map<number, Running>();
  const decrypt = (value: unknown): unknown => {
    if (!cipher) throw new Error('no encryption key to decrypt runtime credentials');
    return cipher.decryptValue(value);
  };
  const stopAgent = async (id: number): Promise<void> => {
    const agent = running.get(id);
    if (!agent) return;
    running.delete(id);
    agent.stop.abort();
    await agent.done;
  };

  while (!signal.aborted) {
    try {
      const controlPlaneId = await controlPlaneIdOf(client);
      const wanted = new Map<number, { runtime: ApiObject; fingerprint: string }>();
      for await (const page of client.kind('KubernetesRuntimeInstance').pages()) {
        for (const runtime of page) {
          const agent = findCondition(conditionsOf(runtime), AGENT);
          if (runtime.DeletionScheduled || agent?.Reason !== 'ControlPlane') continue;
          const connection = connectionOf(runtime, decrypt);
          if (connection) wanted.set(runtime.ID, { runtime, fingerprint: connectionFingerprint(connection) });
        }
      }
      for (const [id, agent] of running) {
        if (wanted.get(id)?.fingerprint !== agent.fingerprint) await stopAgent(id);
      }
      for (const [id, { runtime, fingerprint }] of wanted) {
        if (running.has(id)) continue;
        const lock = await locks.acquire({ key: `agent.${id}`, sequence: 0 });
        if (lock.state !== 'acquired') continue; // another replica runs it
        const connection = connectionOf(runtime, decrypt)!;
        const stop = new AbortController();
        const agentLogger = logger.child({ runtime: runtime.Name });
        const done = runAgent(lock.lease, stop, async (agentSignal) => {
          const cluster = await connect(connection);
          try {
            const agent = new Agent({ api: client, cluster, controlPlaneId, logger: agentLogger, ...(options.flushIntervalMs !== undefined && { flushIntervalMs: options.flushIntervalMs }) });
            await agent.run(agentSignal);
          } finally {
            cluster.transport.close();
          }
        }, agentLogger).finally(() => {
          if (running.get(id)?.stop === stop) running.delete(id);
        });
        running.set(id, { fingerprint, stop, done });
        agentLogger.info('running the agent of this runtime in the control plane');
      }
    } catch (error) {
      if (!signal.aborted) logger.warn({ err: { message: (error as Error).message } }, 'agent supervisor: cannot look at runtimes; trying again');
    }
    await pause(options.pollIntervalMs ?? 3000, signal);
  }
  await Promise.all([...running.keys()].map(stopAgent));
}

/** Runs one agent while the lease is held and until stopped; releases the lease after. */
async function runAgent(lease: Lease, stop: AbortController, work: (signal: AbortSignal) => Promise<void>, logger: RunnableEnvironment['logger']): Promise<void> {
  try {
    await work(AbortSignal.any([stop.signal, lease.signal]));
  } catch (error) {
    logger.warn({ err: { message: (error as Error).message } }, 'the agent stopped; it is started again');
  } finally {
    await lease.release();
  }
}

