/**
 * How to reach a cluster, and one client per cluster, kept until the way to reach it changes.
 */
import { createHash } from 'node:crypto';
import { KubernetesClient } from './client.ts';
import { readKubeconfig } from './kubeconfig.ts';
import { KubernetesTransport } from './transport.ts';

/** A cluster's API server and credentials, as a KubernetesRuntimeInstance holds them (PEM text, plaintext secrets). */
export interface ClusterConnection {
  server: string;
  caCertificate?: string;
  certificate?: string;
  key?: string;
  token?: string;
  /** Or a kubeconfig file and context (a runtime registered from a kubeconfig, the agent run as a process). */
  kubeconfig?: { path: string; context?: string };
}

export async function connect(connection: ClusterConnection): Promise<KubernetesClient> {
  if (!connection.kubeconfig) return new KubernetesClient(KubernetesTransport.fromCredentials(connection));
  const { path, context } = connection.kubeconfig;
  const read = readKubeconfig(path, context);
  if (read.direct) return new KubernetesClient(KubernetesTransport.fromCredentials(read.credentials));
  // Exec plugins, auth providers, proxies: the official client knows them; loaded only for them.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(path);
  if (context) config.setCurrentContext(context);
  return new KubernetesClient(await KubernetesTransport.fromKubeConfig(config));
}

/** Changes whenever anything about how to reach the cluster does (a digest: it holds no secret). */
export const connectionFingerprint = (connection: ClusterConnection): string => createHash('sha256').update(JSON.stringify(connection)).digest('hex');

/**
 * One client per cluster (keyed by the caller, e.g. the runtime's ID), rebuilt when the
 * connection changes (rotated credentials, a new endpoint) and closed when replaced.
 */
export class ClusterClients {
  readonly #clients = new Map<string | number, { fingerprint: string; client: Promise<KubernetesClient> }>();

  async get(key: string | number, connection: ClusterConnection): Promise<KubernetesClient> {
    const fingerprint = connectionFingerprint(connection);
    const cached = this.#clients.get(key);
    if (cached?.fingerprint === fingerprint) return cached.client;
    if (cached) void cached.client.then((client) => client.transport.close(), () => undefined);
    const client = connect(connection);
    this.#clients.set(key, { fingerprint, client });
    client.catch(() => this.#clients.get(key)?.client === client && this.#clients.delete(key));
    return client;
  }

  forget(key: string | number): void {
    const cached = this.#clients.get(key);
    this.#clients.delete(key);
    if (cached) void cached.client.then((client) => client.transport.close(), () => undefined);
  }

  close(): void {
    for (const key of [...this.#clients.keys()]) this.forget(key);
  }
}
