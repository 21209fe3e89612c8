/**
 * Who an account's credentials are: STS GetCallerIdentity with them (after assuming the account's
 * role, when it has one), checked against the account number they should act in.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AwsClients } from './clients.ts';
import { awsProblem, AwsProblem } from './errors.ts';

export interface CallerIdentity {
  account: string;
  arn: string;
}

/** The identity the account's access acts as; an AwsProblem saying what to fix when it does not work or is another account's. */
export async function verifyIdentity(clients: AwsClients, expectedAccount: string, signal?: AbortSignal): Promise<CallerIdentity> {
  const { access } = clients;
  let answer;
  try {
    answer = await clients.sts().send(new GetCallerIdentityCommand({}), { abortSignal: signal });
  } catch (error) {
    const action = access.roleArn ? `sts:AssumeRole on ${access.roleArn}` : 'sts:GetCallerIdentity';
    throw awsProblem(error, action, access.name);
  }
  const identity = { account: String(answer.Account ?? ''), arn: String(answer.Arn ?? '') };
  if (identity.account !== expectedAccount) {
    throw new AwsProblem(`the credentials of AWS account ${access.name} act in account ${identity.account} (as ${identity.arn}), not in ${expectedAccount}: fix its AccountID, or give it keys or a role of that account`, true, 'AccountMismatch');
  }
  return identity;
}
