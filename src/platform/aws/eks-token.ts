/**
 * A bearer token for an EKS cluster's API server, as `aws eks get-token` and aws-iam-authenticator
 * make it: an STS GetCallerIdentity request presigned with the account's credentials, the cluster's
 * name signed in as the `x-k8s-aws-id` header, base64url-encoded behind `k8s-aws-v1.`. The cluster
 * asks STS who signed it, so the token is worth what the credentials are, for 15 minutes.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsClients } from './clients.ts';
import { configuredEndpoint } from './endpoints.ts';

/** EKS accepts a token this long after it was signed; we count one minute less. */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60_000;
const CLUSTER_HEADER = 'x-k8s-aws-id';

export interface EksToken {
  token: string;
  expiresAt: Date;
}

/** The STS endpoint the SDK's standard configuration names for `region`. */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): URL {
  return new URL(configuredEndpoint('STS', env) ?? `https://sts.${region}.amazonaws.com`);
}

export async function eksToken(clients: AwsClients, clusterName: string, region: string, now = new Date()): Promise<EksToken> {
  const credentials = await clients.sts(region).config.credentials();
  const endpoint = stsEndpoint(region);
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: NodeSha256 });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port && { port: Number(endpoint.port) }),
      path: endpoint.pathname,
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: endpoint.host, [CLUSTER_HEADER]: clusterName },
    },
    { expiresIn: 60, signingDate: now },
  );
  const url = new URL(`${endpoint.protocol}//${endpoint.host}${presigned.path}`);
  for (const [name, value] of Object.entries(presigned.query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) if (one !== null && one !== undefined) url.searchParams.append(name, String(one));
  }
  return { token: `k8s-aws-v1.${Buffer.from(url.toString()).toString('base64url')}`, expiresAt: new Date(now.getTime() + EKS_TOKEN_LIFETIME_MS) };
}

/** The presigned URL inside a token, and the cluster it names (for checks and tests). */
export function presignedUrlOf(token: string): URL {
  if (!token.startsWith('k8s-aws-v1.')) throw new Error('not an EKS token');
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString());
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** SHA-256 (and HMAC-SHA-256 given a secret) from node:crypto, as the signer wants it. */
class NodeSha256 {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = NodeSha256.#start(secret);
  }

  static #start(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }

  reset(): void {
    this.#hash = NodeSha256.#start(this.#secret);
  }
}
