/**
 * Simulated clusters on the control plane's own machine as a runtime's provider: a runtime with
 * InfraProvider kind, Location Local and no connection details gets a cluster started for it
 * (when the control plane was given the means: the all-in-one of `tptctl up --local-runtime`),
 * connected once it is up, and stopped when the runtime is deleted. Named after the runtime's ID,
 * so it is never one registered by hand.
 */
import type { ReconcileContext } from '../../controller/reconciler.ts';
import type { DirectCredentials } from '../../platform/kubernetes/transport.ts';
import type { RuntimeInstance } from '../shared/runtime-cluster.ts';
import type { RuntimeProvider } from './providers.ts';

/** Starts and stops simulated clusters on this machine (src/control-plane wires the local runtime in). */
export interface LocalClusters {
  /** Starts cluster `name` (anew, should an earlier start have stopped half-way); resolves with how to reach it. */
  start(name: string): Promise<DirectCredentials>;
  /** Starts cluster `name` again when it was started here and has stopped since (`tptctl down --keep-data`, then `up`); undefined when it runs, or is not one of these. */
  restartIfStopped(name: string): Promise<DirectCredentials | undefined>;
  /** Stops cluster `name` and removes its state; nothing when there is none. */
  stop(name: string): Promise<void>;
}

async function connect(context: ReconcileContext<RuntimeInstance>, credentials: DirectCredentials): Promise<void> {
  await context.update({
    APIEndpoint: credentials.server,
    ...(credentials.caCertificate && { CACertificate: credentials.caCertificate }),
    ...(credentials.certificate && { Certificate: credentials.certificate }),
    ...(credentials.key && { CertificateKey: credentials.key }),
    ...(credentials.token && { ConnectionToken: credentials.token }),
  });
}

const clusterName = (runtime: RuntimeInstance): string => `runtime-${runtime.ID}`;
const isLocal = (runtime: RuntimeInstance): boolean => runtime.Location === 'Local';

export function localProvider(clusters: LocalClusters): RuntimeProvider {
  return {
    async provision(context: ReconcileContext<RuntimeInstance>) {
      if (!isLocal(context.object)) return undefined;
      const name = clusterName(context.object);
      await context.recordEvent({ reason: 'Provisioning', note: `starting simulated cluster ${name} on the control plane's machine` });
      const credentials = await clusters.start(name);
      await connect(context, credentials);
      await context.recordEvent({ reason: 'Provisioned', note: `simulated cluster ${name} started at ${credentials.server}` });
      // Its connection details are a new generation, which the next look checks.
      return { waiting: `simulated cluster ${name} started; checking it`, requeueAfterMs: 1000 };
    },
    async refresh(context: ReconcileContext<RuntimeInstance>) {
      if (!isLocal(context.object)) return undefined;
      const name = clusterName(context.object);
      const restarted = await clusters.restartIfStopped(name);
      if (!restarted) return undefined;
      await connect(context, restarted);
      await context.recordEvent({ reason: 'Restarted', note: `simulated cluster ${name} had stopped (its control plane was stopped and started again): started anew at ${restarted.server}; its workloads are deployed to it again` });
      // Its new connection details are a new generation, which the next look checks.
      return { waiting: `simulated cluster ${name} started again; checking it`, requeueAfterMs: 1000 };
    },
    async deprovision(context: ReconcileContext<RuntimeInstance>) {
      if (isLocal(context.object)) await clusters.stop(clusterName(context.object));
      return undefined;
    },
  };
}
