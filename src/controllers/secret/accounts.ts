/** The AWS account whose Secrets Manager keeps a definition's values: the one it names, else the default account. */
import type { ApiClient } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import { isNotFound } from '../../client/api-client.ts';
import type { AwsAccount } from '../shared/aws-account.ts';

export async function storeAccountOf(api: ApiClient, definition: { Name: string; AwsAccountID?: number | null }): Promise<AwsAccount> {
  const accounts = api.kind('AwsAccount');
  if (definition.AwsAccountID) return accounts.get(definition.AwsAccountID);
  const [account] = (await accounts.list({ defaultaccount: true }, { size: 1 })).objects;
  if (!account) throw new TerminalError(`secret definition ${definition.Name} keeps its values in AWS Secrets Manager but names no AWS account and none is the default: set AwsAccountID (AwsAccountName in a tptctl config), or make an account the DefaultAccount`);
  return account;
}

/** The account of that ID, or undefined when it is gone. */
export async function accountOrGone(api: ApiClient, id: number): Promise<AwsAccount | undefined> {
  return api.kind('AwsAccount').get(id).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
}
