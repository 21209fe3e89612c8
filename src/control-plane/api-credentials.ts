/**
 * How a controller or agent process proves who it is to an API with auth on: a bearer token made
 * for it (tptctl token create --role controller:workload), or a client certificate; and the CA
 * that signed the API's certificate.
 */
import { readFileSync } from 'node:fs';
import type { ApiClientOptions } from '../client/api-client.ts';
import { ConfigError } from './config.ts';

export interface ApiCredentialFlags {
  apiCa?: string;
  apiToken?: string;
  apiCert?: string;
  apiKey?: string;
}

export type ApiCredentials = Pick<ApiClientOptions, 'tls' | 'token'>;

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function resolveApiCredentials(flags: ApiCredentialFlags, env: NodeJS.ProcessEnv): ApiCredentials {
  const caPath = flags.apiCa ?? env.THREEPORT_API_CA;
  const certPath = flags.apiCert ?? env.THREEPORT_API_CERT;
  const keyPath = flags.apiKey ?? env.THREEPORT_API_KEY;
  const token = flags.apiToken ?? env.THREEPORT_API_TOKEN;
  if (Boolean(certPath) !== Boolean(keyPath)) throw new ConfigError('a client certificate needs its key: give both --api-cert and --api-key (or THREEPORT_API_CERT and THREEPORT_API_KEY)');
  const tls = {
    ...(caPath && { ca: readPem(caPath, 'API CA certificate') }),
    ...(certPath && keyPath && { certificate: readPem(certPath, 'client certificate'), key: readPem(keyPath, 'client key') }),
  };
  return { ...(Object.keys(tls).length > 0 && { tls }), ...(token && { token }) };
}

/** The flags, for every command that calls the API. */
export const apiCredentialOptions: [flags: string, description: string][] = [
  ['--api-ca <file>', "the CA certificate (PEM) of an API with auth on [env THREEPORT_API_CA] (default: the system's CAs)"],
  ['--api-token <token>', 'bearer token for an API with auth on, e.g. from tptctl token create --role controller [env THREEPORT_API_TOKEN]'],
  ['--api-cert <file>', 'client certificate (PEM) for an API with auth on, instead of a token [env THREEPORT_API_CERT]'],
  ['--api-key <file>', 'its private key (PEM) [env THREEPORT_API_KEY]'],
];
