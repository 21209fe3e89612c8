/**
 * How to reach a cluster, and one client per cluster, kept until the way to reach it changes.
 */
import { createHash } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesClient } from './client.ts';
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

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The official client's KubeConfig for a connection (it knows exec plugins, token files, proxies). */
export function kubeConfigOf(connection: ClusterConnection): KubeConfig {
  const config = new KubeConfig();
  if (connection.kubeconfig) {
    config.loadFromFile(connection.kubeconfig.path);
    if (connection.kubeconfig.context) config.setCurrentContext(connection.kubeconfig.context);
    return config;
  }
  config.loadFromOptions({
    clusters: [{ name: 'cluster', server: connection.server, ...(connection.caCertificate && { caData: base64(connection.caCertificate) }), skipTLSVerify: false }],
    users: [
      {
        name: 'threeport',
        ...(connection.certificate && { certData: base64(connection.certificate) }),
        ...(connection.key && { keyData: base64(connection.key) }),
        ...(connection.token && { token: connection.token }),
      },
    ],
    contexts: [{ name: 'threeport', cluster: 'cluster', user: 'threeport' }],
    currentContext: 'threeport',
  });
  return config;
}

export async function connect(connection: ClusterConnection): Promise<KubernetesClient> {
  return new KubernetesClient(await KubernetesTransport.fromKubeConfig(kubeConfigOf(connection)));
}

const fingerprintOf = (connection: ClusterConnection): string => createHash('sha256').update(JSON.stringify(connection)).digest('hex');

/**
 * One client per cluster (keyed by the caller, e.g. the runtime's ID), rebuilt when the
 * connection changes (rotated credentials, a new endpoint) and closed when replaced.
 */
export class ClusterClients {
  readonly #clients = new Map<string | number, { fingerprint: string; client: Promise<KubernetesClient> }>();

  async get(key: string | number, connection: ClusterConnection): Promise<KubernetesClient> {
    const fingerprint = fingerprintOf(connection);
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
