/**
 * Reaching the cluster of a KubernetesRuntimeInstance from a controller: its connection details
 * (secrets decrypted with the control plane's key), and one client per runtime, rebuilt when those
 * details change.
 */
import type { ApiClient } from '../../client/api-client.ts';
import { SharedLoads } from '../../concurrency.ts';
import { RetryableError, TerminalError } from '../../controller/errors.ts';
import { conditionsOf, findCondition } from '../../model/conditions.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { ClusterClients, type ClusterConnection, type KubernetesClient } from '../../platform/kubernetes/index.ts';

export type RuntimeInstance = ObjectOf<'KubernetesRuntimeInstance'>;

const clients = new ClusterClients();

/** The runtime's connection, or undefined while it has none (no API endpoint yet). */
export function connectionOf(runtime: ApiObject, decrypt: (value: unknown) => unknown): ClusterConnection | undefined {
  const server = typeof runtime.APIEndpoint === 'string' ? runtime.APIEndpoint.trim() : '';
  if (!server) return undefined;
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
  const secret = (value: unknown): string | undefined => (text(value) ? String(decrypt(value)) : undefined);
  const connection: ClusterConnection = { server: /^https?:\/\//.test(server) ? server : `https://${server}` };
  const ca = text(runtime.CACertificate);
  const certificate = text(runtime.Certificate);
  const key = secret(runtime.CertificateKey);
  const token = secret(runtime.ConnectionToken);
  if (ca) connection.caCertificate = ca;
  if (certificate) connection.certificate = certificate;
  if (key) connection.key = key;
  if (token) connection.token = token;
  return connection;
}

/** The runtime's cluster client (cached per runtime until its connection changes); undefined without a connection. */
export async function clusterOf(runtime: ApiObject, decrypt: (value: unknown) => unknown): Promise<KubernetesClient | undefined> {
  const connection = connectionOf(runtime, decrypt);
  return connection ? clients.get(Number(runtime.ID), connection) : undefined;
}

export function forgetCluster(runtimeId: number): void {
  clients.forget(runtimeId);
}

const identities = new SharedLoads<string>({ keep: true });

/** The control plane's identity (GET /version), asked once per API. */
export function controlPlaneIdOf(client: ApiClient): Promise<string> {
  const ask = async (): Promise<string> => {
    const info = await client.unbound().info();
    if (!info.controlPlaneId) throw new Error(`the API at ${client.baseUrl} reports no control plane identity (an older threeport?)`);
    return info.controlPlaneId;
  };
  return identities.get(client.baseUrl, ask, client.signal);
}

/** A workload's runtime, ready to deploy to: the runtime, its connection and its client. */
export interface ReadyRuntime {
  runtime: RuntimeInstance;
  connection: ClusterConnection;
  cluster: KubernetesClient;
}

/**
 * The runtime a workload instance deploys to, once it can: `{ waiting }` while it is not ready
 * (it asks its workloads to reconcile when it is), an error while it is unreachable (retried) or
 * being deleted (terminal).
 */
export async function readyRuntime(api: ApiClient, runtimeId: number, decrypt: (value: unknown) => unknown): Promise<ReadyRuntime | { waiting: string }> {
  const runtime = await api.kind('KubernetesRuntimeInstance').get(runtimeId);
  if (runtime.DeletionScheduled) throw new TerminalError(`its Kubernetes runtime ${runtime.Name} is being deleted`);
  const ready = findCondition(conditionsOf(runtime), 'Ready');
  if (!ready) return { waiting: `Kubernetes runtime ${runtime.Name} is not ready yet${runtime.Status ? ` (${runtime.Status})` : ''}` };
  if (ready.Status !== 'True') throw new RetryableError(`Kubernetes runtime ${runtime.Name} is not reachable: ${ready.Message ?? ready.Reason}`);
  const connection = connectionOf(runtime, decrypt);
  if (!connection) return { waiting: `Kubernetes runtime ${runtime.Name} has no connection details` };
  return { runtime, connection, cluster: await clients.get(Number(runtime.ID), connection) };
}

/** A node that only looks like one (kwok: pods report Running, but nothing runs). */
export const isSimulatedNode = (node: Manifest): boolean => node.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake' || node.metadata.labels?.type === 'kwok';

/** What does not change while a cluster is the same one, asked once per API server (kept: a few entries per runtime). */
const simulatedClusters = new SharedLoads<boolean>({ keep: true });
const clusterIdentities = new SharedLoads<string>({ keep: true });

/** Whether every node of the cluster is simulated: nothing there serves a webhook or answers a request. */
export function isSimulatedCluster(cluster: KubernetesClient, signal: AbortSignal): Promise<boolean> {
  const ask = async (): Promise<boolean> => {
    const { items } = await cluster.list('v1', 'Node');
    return items.length > 0 && items.every(isSimulatedNode);
  };
  return simulatedClusters.get(cluster.transport.server, ask, signal);
}

/** The cluster's identity, the same whichever runtime or control plane looks at it: its kube-system namespace's UID. */
export function clusterIdentityOf(cluster: KubernetesClient, signal: AbortSignal): Promise<string> {
  const ask = async (): Promise<string> => {
    const uid = (await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' }))?.metadata.uid;
    if (!uid) throw new RetryableError('the cluster has no kube-system namespace to tell it by');
    return uid;
  };
  return clusterIdentities.get(cluster.transport.server, ask, signal);
}
