/**
 * Registers the Kubernetes cluster a kubeconfig points at as the control plane's default runtime,
 * as the original's `tptctl up` registered its kind cluster (reference §1.2 step 8): a
 * KubernetesRuntimeDefinition and Instance named `threeport-<name>`, with the connection details
 * and DefaultRuntime. Not marked Reconciled as the original did: the runtime controller checks
 * the cluster and installs threeport's components into it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import { CliError } from '../errors.ts';

export interface ClusterConnection {
  context: string;
  APIEndpoint: string;
  CACertificate?: string;
  Certificate?: string;
  CertificateKey?: string;
  ConnectionToken?: string;
}

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context: { cluster: string; user: string } }>[];
  clusters?: Named<{ cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }>[];
  users?: Named<{
    user: {
      'client-certificate-data'?: string;
      'client-key-data'?: string;
      'client-certificate'?: string;
      'client-key'?: string;
      token?: string;
      'token-file'?: string;
      exec?: { command?: string };
      'auth-provider'?: { name?: string };
    };
  }>[];
}

/** Inline data (base64) or a file next to the kubeconfig, as PEM text. */
function pem(data: string | undefined, file: string | undefined, base: string): string | undefined {
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  if (file) return readFileSync(resolve(base, file), 'utf8');
  return undefined;
}

export function readClusterConnection(path: string, contextName?: string): ClusterConnection {
  let config: KubeconfigFile;
  try {
    config = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  } catch (error) {
    throw new CliError(`cannot read kubeconfig ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const name = contextName ?? config['current-context'];
  const context = config.contexts?.find((candidate) => candidate.name === name)?.context;
  if (!name || !context) throw new CliError(`kubeconfig ${path} has no context ${name ?? '(no current-context)'}`);
  const cluster = config.clusters?.find((candidate) => candidate.name === context.cluster)?.cluster;
  const user = config.users?.find((candidate) => candidate.name === context.user)?.user ?? {};
  if (!cluster?.server) throw new CliError(`kubeconfig ${path}: cluster ${context.cluster} of context ${name} has no server`);
  const base = dirname(resolve(path));
  const connection: ClusterConnection = { context: name, APIEndpoint: cluster.server };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority'], base);
  const certificate = pem(user['client-certificate-data'], user['client-certificate'], base);
  const key = pem(user['client-key-data'], user['client-key'], base);
  if (ca) connection.CACertificate = ca;
  if (certificate) connection.Certificate = certificate;
  if (key) connection.CertificateKey = key;
  const token = user.token ?? (user['token-file'] ? readFileSync(resolve(base, user['token-file']), 'utf8').trim() : undefined);
  if (token) connection.ConnectionToken = token;
  if (!connection.ConnectionToken && !(connection.Certificate && connection.CertificateKey)) {
    // The control plane connects on its own, later and elsewhere: a plugin on this machine cannot log it in.
    const plugin = user.exec?.command ? `runs the command ${user.exec.command} to log in` : user['auth-provider']?.name ? `logs in with the ${user['auth-provider'].name} auth provider` : 'has no client certificate or token';
    throw new CliError(
      `kubeconfig ${path}: user ${context.user} of context ${name} ${plugin}; threeport needs credentials it can keep: a client certificate and key, or a token (e.g. a service account's: kubectl create token <account>)`,
    );
  }
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
