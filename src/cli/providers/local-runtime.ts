/**
 * Registers the Kubernetes cluster a kubeconfig points at as the control plane's default runtime,
 * as the original's `tptctl up` registered its kind cluster (reference §1.2 step 8): a
 * KubernetesRuntimeDefinition and Instance named `threeport-<name>`, with the connection details
 * and DefaultRuntime. Not marked Reconciled as the original did: the runtime controller checks
 * the cluster and installs threeport's components into it.
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import { KubeconfigError, readKubeconfig } from '../../platform/kubernetes/kubeconfig.ts';
import { CliError } from '../errors.ts';

export interface ClusterConnection {
  context: string;
  APIEndpoint: string;
  CACertificate?: string;
  Certificate?: string;
  CertificateKey?: string;
  ConnectionToken?: string;
}

export function readClusterConnection(path: string, contextName?: string): ClusterConnection {
  let read: ReturnType<typeof readKubeconfig>;
  try {
    read = readKubeconfig(path, contextName);
  } catch (error) {
    if (error instanceof KubeconfigError) throw new CliError(error.message);
    throw error;
  }
  const { context, user, credentials, login } = read;
  if (login) {
    // The control plane connects on its own, later and elsewhere: a plugin on this machine cannot log it in.
    throw new CliError(`kubeconfig ${path}: user ${user} of context ${context} ${login}; threeport needs credentials it can keep: a client certificate and key, or a token (e.g. a service account's: kubectl create token <account>)`);
  }
  const connection: ClusterConnection = { context, APIEndpoint: credentials.server };
  if (credentials.caCertificate) connection.CACertificate = credentials.caCertificate;
  if (credentials.certificate) connection.Certificate = credentials.certificate;
  if (credentials.key) connection.CertificateKey = credentials.key;
  if (credentials.token) connection.ConnectionToken = credentials.token;
  return connection;
}

async function upsert(client: ApiClient, kind: string, object: ApiObject): Promise<ApiObject> {
  const kindClient = client.kind(kind);
  const existing = await kindClient.findByName(String(object.Name));
  if (!existing) return kindClient.create(object);
  return kindClient.update(existing.ID as number, object, { version: existing.Version as number });
}

export async function registerRuntime(client: ApiClient, controlPlaneName: string, connection: ClusterConnection): Promise<string> {
  const name = `threeport-${controlPlaneName}`;
  const definition = await upsert(client, 'KubernetesRuntimeDefinition', { Name: name, InfraProvider: 'kind' });
  const { context: _context, ...details } = connection;
  await upsert(client, 'KubernetesRuntimeInstance', {
    Name: name,
    KubernetesRuntimeDefinitionID: definition.ID,
    Location: 'Local',
    DefaultRuntime: true,
    ThreeportControlPlaneHost: true,
    ...details,
  });
  return name;
}
