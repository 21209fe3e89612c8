import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { TestbedDescription } from './description.ts';
import { clusterRecipe } from '../local-runtime/cluster-recipe.ts';
import { messageOf } from '../local-runtime/errors.ts';
import { probeMoto } from './peers/moto.ts';
import { probePostgres } from './peers/postgres.ts';
import { isRunning } from '../local-runtime/process-identity.ts';
import { ProcessRegistry } from '../local-runtime/processes.ts';

export interface PeerHealth {
  peer: string;
  healthy: boolean;
  detail: string;
  /** It serves, but was started by other code than this (a cluster made differently). */
  stale?: true;
}

class StaleCluster extends Error {}

async function probe(peer: string, check: () => Promise<string>): Promise<PeerHealth> {
  try {
    return { peer, healthy: true, detail: await check() };
  } catch (error) {
    const health: PeerHealth = { peer, healthy: false, detail: messageOf(error).split('\n')[0] ?? 'unhealthy' };
    if (error instanceof StaleCluster) health.stale = true;
    return health;
  }
}

/** Asks each peer of a test bed whether it serves, and checks every recorded process runs. */
export async function checkHealth(description: TestbedDescription): Promise<PeerHealth[]> {
  const checks: Promise<PeerHealth>[] = [
    probe('postgres', async () => {
      await probePostgres(description.postgres.url);
      return description.postgres.url;
    }),
    probe('nats', async () => {
      const connection = await connect({ servers: description.nats.url, timeout: 2_000, reconnect: false });
      try {
        const info = await (await jetstreamManager(connection)).getAccountInfo();
        return `${description.nats.url} (JetStream, ${info.streams} streams)`;
      } finally {
        await connection.close();
      }
    }),
  ];
  if (description.aws) {
    const endpoint = description.aws.endpoint;
    checks.push(probe('moto', async () => ((await probeMoto(endpoint)) ? endpoint : Promise.reject(new Error('not answering')))));
  }
  for (const cluster of description.clusters) {
    checks.push(
      probe(`cluster ${cluster.name}`, async () => {
        const kubeConfig = new KubeConfig();
        kubeConfig.loadFromFile(cluster.kubeconfigPath);
        const version = await kubeConfig.makeApiClient(VersionApi).getCode();
        if (cluster.recipe !== clusterRecipe()) throw new StaleCluster(`${cluster.server} was started by other test-bed code (its kwok stages or node resources differ from this code's)`);
        return `${cluster.server} (Kubernetes ${version.gitVersion}, context ${cluster.context})`;
      }),
    );
  }
  const registry = new ProcessRegistry(description.dir);
  checks.push(
    probe('processes', async () => {
      const processes = registry.list();
      const dead = processes.filter((process) => !isRunning(process));
      if (dead.length > 0) throw new Error(`not running: ${dead.map((process) => process.name).join(', ')}`);
      return `${processes.length} running`;
    }),
  );
  return Promise.all(checks);
}
