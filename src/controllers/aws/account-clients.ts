/** The SDK clients of an account, one per service and region, kept until its keys, role or region change. */
import { AwsClientCache, type AwsClients } from '../../platform/aws/index.ts';
import { accessOf, type AwsAccount } from '../shared/aws-account.ts';

const clientCache = new AwsClientCache();

/** The account's SDK clients (one per service and region, kept until its keys, role or region change). */
export function awsClientsOf(account: AwsAccount, decrypt: (value: unknown) => unknown): AwsClients {
  return clientCache.get(String(account.ID), accessOf(account, decrypt));
}

export function forgetAwsClients(accountId: number): void {
  clientCache.forget(String(accountId));
}
