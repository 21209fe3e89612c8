/**
 * AwsAccount: its credentials are tried when they are set or changed, and again every few minutes
 * (keys get rotated, roles lose their trust): STS says who they act as, which must be the account
 * named. Status says as whom they work, or why they don't — the permission, the key, the account.
 */
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import { verifyIdentity } from '../../platform/aws/index.ts';
import { asReconcileError, type AwsAccount } from '../shared/aws-account.ts';
import { awsClientsOf, forgetAwsClients } from './account-clients.ts';
import { CREDENTIALS } from './names.ts';

export async function checkAccount(context: ReconcileContext<AwsAccount>): Promise<ReconcileOutcome> {
  const account = context.object;
  if (context.operation === 'Deleted') {
    forgetAwsClients(account.ID);
    return undefined;
  }
  const how = account.RoleArn ? `role ${account.RoleArn}${account.AccessKeyID ? ' assumed with its access key' : " assumed with the control plane's own identity"}` : account.AccessKeyID ? 'its access key' : "the control plane's own identity";
  try {
    const identity = await verifyIdentity(awsClientsOf(account, (value) => context.decrypt(value)), account.AccountID, context.signal);
    await context.setCondition({ Type: CREDENTIALS, Status: 'True', Reason: 'Verified', Message: `${how} acts as ${identity.arn}` });
    return undefined;
  } catch (error) {
    await context.setCondition({ Type: CREDENTIALS, Status: 'False', Reason: 'Invalid', Message: `${how}: ${(error as Error).message}` });
    return asReconcileError(error);
  }
}
