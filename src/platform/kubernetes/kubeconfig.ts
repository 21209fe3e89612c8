/**
 * Reading a kubeconfig the way most are written — a server, its CA, and a client certificate or a
 * token, inline or in files next to it — without the official client, whose generated API a
 * process pays tens of megabytes for. What this cannot do (exec plugins, auth providers) is said,
 * so the caller can refuse it or hand the file to the official client.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { DirectCredentials } from './transport.ts';

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context: { cluster: string; user: string } }>[];
  clusters?: Named<{ cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean; 'proxy-url'?: string } }>[];
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

export interface KubeconfigCredentials {
  context: string;
  user: string;
  credentials: DirectCredentials;
  /** How the user logs in when it is not with `credentials` alone: "runs the command aws to log in". */
  login?: string;
  /** Whether `credentials` are all it takes (else: the official client reads the file). */
  direct: boolean;
}

export class KubeconfigError extends Error {}

/** Inline data (base64) or a file next to the kubeconfig, as PEM text. */
function pem(data: string | undefined, file: string | undefined, base: string): string | undefined {
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  if (file) return readFileSync(resolve(base, file), 'utf8');
  return undefined;
}

export function readKubeconfig(path: string, contextName?: string): KubeconfigCredentials {
  let config: KubeconfigFile;
  try {
    config = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  } catch (error) {
    throw new KubeconfigError(`cannot read kubeconfig ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const name = contextName ?? config['current-context'];
  const context = config.contexts?.find((candidate) => candidate.name === name)?.context;
  if (!name || !context) throw new KubeconfigError(`kubeconfig ${path} has no context ${name ?? '(no current-context)'}`);
  const cluster = config.clusters?.find((candidate) => candidate.name === context.cluster)?.cluster;
  const user = config.users?.find((candidate) => candidate.name === context.user)?.user ?? {};
  if (!cluster?.server) throw new KubeconfigError(`kubeconfig ${path}: cluster ${context.cluster} of context ${name} has no server`);
  const base = dirname(resolve(path));
  const credentials: DirectCredentials = { server: cluster.server };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority'], base);
  const certificate = pem(user['client-certificate-data'], user['client-certificate'], base);
  const key = pem(user['client-key-data'], user['client-key'], base);
  const token = user.token ?? (user['token-file'] ? readFileSync(resolve(base, user['token-file']), 'utf8').trim() : undefined);
  if (ca) credentials.caCertificate = ca;
  if (certificate) credentials.certificate = certificate;
  if (key) credentials.key = key;
  if (token) credentials.token = token;
  const login = user.exec?.command
    ? `runs the command ${user.exec.command} to log in`
    : user['auth-provider']?.name
      ? `logs in with the ${user['auth-provider'].name} auth provider`
      : !token && !(certificate && key)
        ? 'has no client certificate or token'
        : undefined;
  const direct = !login && !cluster['insecure-skip-tls-verify'] && !cluster['proxy-url'];
  return { context: name, user: context.user, credentials, direct, ...(login && { login }) };
}
