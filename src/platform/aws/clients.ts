/**
 * SDK clients for an account: one per service and region, made on first use and kept while the
 * account's access stays the same. Every client retries in the SDK's standard mode (throttling and
 * transient errors, with backoff) and takes its endpoint from the SDK's standard configuration
 * (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), as every AWS tool does.
 */
import { createHash } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { credentialsOf, type AwsAccountAccess, type AwsCredentials } from './credentials.ts';

const MAX_ATTEMPTS = 5;

/** The clients of one account's access; `region` defaults to the account's. */
export class AwsClients {
  readonly access: AwsAccountAccess;
  readonly credentials: AwsCredentials | undefined;
  readonly #made = new Map<string, { destroy(): void }>();

  constructor(access: AwsAccountAccess) {
    this.access = access;
    this.credentials = credentialsOf(access);
  }

  ec2(region = this.access.region): EC2Client {
    return this.#client(`ec2/${region}`, () => new EC2Client(this.#config(region)));
  }

  eks(region = this.access.region): EKSClient {
    return this.#client(`eks/${region}`, () => new EKSClient(this.#config(region)));
  }

  /** Classic load balancers. */
  elb(region = this.access.region): ElasticLoadBalancingClient {
    return this.#client(`elb/${region}`, () => new ElasticLoadBalancingClient(this.#config(region)));
  }

  /** Network and application load balancers. */
  elbv2(region = this.access.region): ElasticLoadBalancingV2Client {
    return this.#client(`elbv2/${region}`, () => new ElasticLoadBalancingV2Client(this.#config(region)));
  }

  rds(region = this.access.region): RDSClient {
    return this.#client(`rds/${region}`, () => new RDSClient(this.#config(region)));
  }

  s3(region = this.access.region): S3Client {
    // Path-style: bucket names stay out of host names (endpoints other than AWS's own need it).
    return this.#client(`s3/${region}`, () => new S3Client({ ...this.#config(region), forcePathStyle: true }));
  }

  secretsManager(region = this.access.region): SecretsManagerClient {
    return this.#client(`secretsmanager/${region}`, () => new SecretsManagerClient(this.#config(region)));
  }

  sts(region = this.access.region): STSClient {
    return this.#client(`sts/${region}`, () => new STSClient(this.#config(region)));
  }

  /** IAM is global: its region only picks the endpoint. */
  iam(): IAMClient {
    return this.#client('iam', () => new IAMClient(this.#config(this.access.region)));
  }

  destroy(): void {
    for (const client of this.#made.values()) client.destroy();
    this.#made.clear();
  }

  #config(region: string) {
    return { region, retryMode: 'standard', maxAttempts: MAX_ATTEMPTS, ...(this.credentials && { credentials: this.credentials }) };
  }

  #client<C extends { destroy(): void }>(key: string, make: () => C): C {
    let client = this.#made.get(key) as C | undefined;
    if (!client) {
      client = make();
      this.#made.set(key, client);
    }
    return client;
  }
}

/** Clients per account, replaced when the account's keys, role or region change. */
export class AwsClientCache {
  readonly #byAccount = new Map<string, { fingerprint: string; clients: AwsClients }>();

  /** `key` names the account (e.g. its ID); its access decides whether the cached clients still fit. */
  get(key: string, access: AwsAccountAccess): AwsClients {
    const fingerprint = fingerprintOf(access);
    const cached = this.#byAccount.get(key);
    if (cached?.fingerprint === fingerprint) return cached.clients;
    cached?.clients.destroy();
    const clients = new AwsClients(access);
    this.#byAccount.set(key, { fingerprint, clients });
    return clients;
  }

  forget(key: string): void {
    this.#byAccount.get(key)?.clients.destroy();
    this.#byAccount.delete(key);
  }
}

/** A digest of everything that makes the access what it is (never the secret itself in memory twice). */
const fingerprintOf = (access: AwsAccountAccess): string =>
  createHash('sha256').update(JSON.stringify([access.name, access.region, access.accessKeyId, access.secretAccessKey, access.roleArn, access.externalId])).digest('hex');
