/**
 * AwsAccount: its credentials are tried when they are set or changed, and again every few minutes
 * (keys get rotated, roles lose their trust): STS says who they act as, which must be the account
 * named. Status says as whom they work, or why they don't — the permission, the key, the account.
 */
import type { Reconciler } from '../../controller/reconciler.ts';
import { verifyIdentity } from '../../platform/aws/index.ts';
import { asReconcileError, awsClientsOf, forgetAwsClients, type AwsAccount } from '../shared/aws-account.ts';

export const CREDENTIALS = 'Credentials';

export interface AwsAccountSettings {
  /** How often credentials are tried again. @default 600000 */
  checkIntervalMs?: number;
}

export function awsAccountReconciler(settings: AwsAccountSettings = {}): Reconciler<AwsAccount> {
  return {
    kind: 'AwsAccount',
    statusCondition: CREDENTIALS,
    resyncIntervalMs: settings.checkIntervalMs ?? 600_000,
    maxRetryDelayMs: 60_000,
    async reconcile(context) {
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
    },
  };
}
