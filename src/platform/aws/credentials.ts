/**
 * The credentials threeport acts with in an AWS account: the account's access keys, or a role it
 * assumes (RoleArn with the account's ExternalId) from those keys or from the control plane's own
 * identity (the SDK's default chain: environment, profile, instance or pod role). The endpoint
 * and the rest come from the SDK's standard configuration (AWS_ENDPOINT_URL…), as every AWS tool
 * reads it.
 */
import { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';

/** What an SDK client's `credentials` takes: fixed keys, or a function asked when they are needed. */
export type AwsCredentials = NonNullable<STSClientConfig['credentials']>;
type AwsCredentialIdentity = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };

export interface AwsAccountAccess {
  /** The account's name, for messages. */
  name: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  roleArn?: string;
  externalId?: string;
}

/** How long an assumed role's credentials are used before they are asked for again (they last an hour). */
const ASSUMED_FOR_MS = 50 * 60_000;

export function credentialsOf(access: AwsAccountAccess): AwsCredentials | undefined {
  const keys = access.accessKeyId && access.secretAccessKey ? { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey } : undefined;
  if (!access.roleArn) return keys;
  const sts = new STSClient({ region: access.region, ...(keys && { credentials: keys }) });
  let current: { identity: AwsCredentialIdentity; until: number } | undefined;
  return async (): Promise<AwsCredentialIdentity> => {
    if (current && current.until > Date.now()) return current.identity;
    const { Credentials: assumed } = await sts.send(
      new AssumeRoleCommand({ RoleArn: access.roleArn, RoleSessionName: 'threeport', ...(access.externalId && { ExternalId: access.externalId }) }),
    );
    if (!assumed?.AccessKeyId || !assumed.SecretAccessKey) throw new Error(`assuming ${access.roleArn} gave no credentials`);
    const identity = { accessKeyId: assumed.AccessKeyId, secretAccessKey: assumed.SecretAccessKey, ...(assumed.SessionToken && { sessionToken: assumed.SessionToken }), ...(assumed.Expiration && { expiration: assumed.Expiration }) };
    current = { identity, until: Date.now() + ASSUMED_FOR_MS };
    return identity;
  };
}

/** The keys the access acts with right now (assumed, or from the default chain), for tools that take them as environment variables. */
export async function resolveCredentials(access: AwsAccountAccess): Promise<AwsCredentialIdentity> {
  const given = credentialsOf(access);
  if (typeof given === 'function') return given();
  if (given) return given;
  const sts = new STSClient({ region: access.region });
  try {
    return await sts.config.credentials();
  } finally {
    sts.destroy();
  }
}
