/**
 * A secret's values kept in AWS Secrets Manager under a name, as one JSON document of key/value
 * pairs (what the External Secrets Operator's `extract` reads). A secret of that name is
 * threeport's only when its tags say it is the owner's: one that is not is never written or
 * deleted. Deleting schedules the deletion with the store's recovery window, in which the owner
 * may take it back (a definition deleted and made again under the same name restores it).
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { isDeepStrictEqual } from 'node:util';
import { absentAsUndefined, AwsProblem, clientToken, serviceCaller } from './errors.ts';
import { isOwnedBy, tagsFor, type Owner } from './tags.ts';

export type SecretValues = Record<string, string>;

export interface StoredSecret {
  arn: string;
  /** Set while the secret is scheduled for deletion (its recovery window). */
  deletedAt?: Date;
  owned: boolean;
}

/** The code of the problem raised for a secret of that name that is someone else's. */
export const FOREIGN_SECRET = 'ForeignSecret';

const RESOURCE_KEY = 'secret';

/** The secret of that name, if there is one (also while scheduled for deletion). */
export async function describeStoredSecret(client: SecretsManagerClient, account: string, name: string, owner: Owner, signal?: AbortSignal): Promise<StoredSecret | undefined> {
  const call = serviceCaller('secretsmanager', account);
  const found = await call('DescribeSecret', { signal }, (abortSignal) => client.send(new DescribeSecretCommand({ SecretId: name }), { abortSignal })).catch(absentAsUndefined);
  if (!found?.ARN) return undefined;
  return { arn: found.ARN, ...(found.DeletedDate && { deletedAt: found.DeletedDate }), owned: isOwnedBy(found.Tags, owner, RESOURCE_KEY) };
}

/**
 * Makes the secret hold `values`: created (tagged as the owner's), or its value replaced when it
 * differs; one scheduled for deletion is restored first. Resolves with what was done.
 */
export async function storeSecretValues(
  client: SecretsManagerClient,
  account: string,
  name: string,
  values: SecretValues,
  owner: Owner,
  /** Which revision of the values this is (a definition's ID and generation): a retry of one revision is not a second version, and going back to earlier values is a new one. */
  revision: string,
  signal?: AbortSignal,
): Promise<{ arn: string; change: 'created' | 'updated' | 'unchanged' }> {
  const call = serviceCaller('secretsmanager', account);
  const run = { signal };
  const document = JSON.stringify(values);
  // Never derived from the values: a version's ID is visible to whoever may list versions.
  const token = clientToken(owner.controlPlaneId, owner.object, revision);
  const existing = await describeStoredSecret(client, account, name, owner, signal);
  if (!existing) {
    const made = await call('CreateSecret', run, (abortSignal) =>
      client.send(new CreateSecretCommand({ Name: name, SecretString: document, ClientRequestToken: token, Tags: tagsFor(owner, RESOURCE_KEY), Description: `made by threeport for ${owner.object}` }), { abortSignal }),
    );
    return { arn: String(made.ARN), change: 'created' };
  }
  if (!existing.owned) {
    throw new AwsProblem(`AWS Secrets Manager in account ${account} already has a secret named ${name} that threeport did not make for ${owner.object}: it is left as it is; name the secret definition differently or remove that secret`, true, FOREIGN_SECRET);
  }
  if (existing.deletedAt) await call('RestoreSecret', run, (abortSignal) => client.send(new RestoreSecretCommand({ SecretId: existing.arn }), { abortSignal }));
  const current = await call('GetSecretValue', run, (abortSignal) => client.send(new GetSecretValueCommand({ SecretId: existing.arn }), { abortSignal })).catch(absentAsUndefined);
  if (current?.SecretString !== undefined && isDeepStrictEqual(parseValues(current.SecretString), values)) return { arn: existing.arn, change: 'unchanged' };
  await call('PutSecretValue', run, (abortSignal) => client.send(new PutSecretValueCommand({ SecretId: existing.arn, SecretString: document, ClientRequestToken: token }), { abortSignal }));
  return { arn: existing.arn, change: 'updated' };
}

/**
 * Schedules the owner's secret for deletion with a recovery window of `recoveryWindowDays` (7 to
 * 30); gone, already scheduled, or someone else's: nothing is done. Resolves with what was found.
 */
export async function deleteStoredSecret(
  client: SecretsManagerClient,
  account: string,
  name: string,
  owner: Owner,
  recoveryWindowDays: number,
  signal?: AbortSignal,
): Promise<'scheduled' | 'absent' | 'foreign'> {
  const existing = await describeStoredSecret(client, account, name, owner, signal);
  if (!existing || existing.deletedAt) return 'absent';
  if (!existing.owned) return 'foreign';
  const call = serviceCaller('secretsmanager', account);
  await call('DeleteSecret', { signal }, (abortSignal) => client.send(new DeleteSecretCommand({ SecretId: existing.arn, RecoveryWindowInDays: recoveryWindowDays }), { abortSignal })).catch(absentAsUndefined);
  return 'scheduled';
}

function parseValues(document: string): unknown {
  try {
    return JSON.parse(document);
  } catch {
    return undefined;
  }
}
