/**
 * SecretDefinition: values kept encrypted in the control plane's database, and — with the
 * aws-secrets-manager backend — in AWS Secrets Manager too, under the definition's name, tagged as
 * threeport's (a secret of that name that is not is refused, never overwritten). Each change of
 * the values reaches every instance: they are asked to deliver again. Deleting the definition
 * (possible once no instance uses it) schedules the stored secret's deletion with its recovery
 * window; one already gone is done, not an endless retry.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { backendOf } from '../../model/kinds/secret.ts';
import { deleteStoredSecret, storeSecretValues, type Owner } from '../../platform/aws/index.ts';
import { awsClientsOf } from '../aws/account-clients.ts';
import { asReconcileError, type AwsAccount } from '../shared/aws-account.ts';
import { controlPlaneIdOf } from '../shared/runtime-cluster.ts';
import { valuesOf } from './values.ts';

export type SecretDefinition = ObjectOf<'SecretDefinition'>;

const DEFAULT_RECOVERY_WINDOW_DAYS = 30;

export function secretDefinitionReconciler(): Reconciler<SecretDefinition> {
  return {
    kind: 'SecretDefinition',
    async reconcile(context) {
      return context.operation === 'Deleted' ? forget(context) : keep(context);
    },
  };
}

async function keep(context: ReconcileContext<SecretDefinition>): Promise<ReconcileOutcome> {
  const definition = context.object;
  const values = valuesOf(definition, context.decrypt);
  if (backendOf(definition) === 'aws-secrets-manager') {
    const account = await accountOf(context, definition);
    const owner = await ownerOf(context, definition);
    const clients = awsClientsOf(account, (value) => context.decrypt(value));
    const stored = await storeSecretValues(clients.secretsManager(), account.Name, definition.Name, values, owner, definition.Generation ?? 1, context.signal).catch(asReconcileError);
    if (definition.StoreArn !== stored.arn) await context.update({ StoreArn: stored.arn });
    if (stored.change !== 'unchanged') await context.recordEvent({ reason: stored.change === 'created' ? 'Stored' : 'Updated', note: `values ${stored.change} in AWS Secrets Manager (account ${account.Name}) as ${definition.Name}` });
  } else if (definition.StoreArn) {
    // Moved to the direct backend: the copy in Secrets Manager is no longer the one delivered.
    await removeStored(context, definition);
    await context.update({ StoreArn: null } as never);
  }
  const instances = await context.client.kind('SecretInstance').listAll({ secretdefinitionid: definition.ID });
  for (const instance of instances) await context.requestReconcile('SecretInstance', instance.ID, `secret definition ${definition.Name} changed`);
  return undefined;
}

async function forget(context: ReconcileContext<SecretDefinition>): Promise<ReconcileOutcome> {
  if (context.object.StoreArn || backendOf(context.object) === 'aws-secrets-manager') await removeStored(context, context.object);
  return undefined;
}

async function removeStored(context: ReconcileContext<SecretDefinition>, definition: SecretDefinition): Promise<void> {
  const account = await accountOf(context, definition).catch((error: unknown) => {
    // No account left to reach the store with: nothing threeport can remove.
    if (error instanceof TerminalError && !definition.StoreArn) return undefined;
    throw error;
  });
  if (!account) return;
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const window = definition.RecoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS;
  const result = await deleteStoredSecret(clients.secretsManager(), account.Name, definition.Name, await ownerOf(context, definition), window, context.signal).catch(asReconcileError);
  if (result === 'scheduled') await context.recordEvent({ reason: 'DeletionScheduled', note: `AWS Secrets Manager deletes ${definition.Name} in ${window} days; until then it can be restored` });
  if (result === 'foreign') await context.recordEvent({ reason: 'NotRemoved', type: 'Warning', note: `the secret ${definition.Name} in AWS Secrets Manager is not threeport's: it is left as it is` });
}

/** The account whose Secrets Manager keeps the values: the definition's, else the default account. */
async function accountOf(context: ReconcileContext<SecretDefinition>, definition: SecretDefinition): Promise<AwsAccount> {
  const accounts = context.client.kind('AwsAccount');
  if (definition.AwsAccountID) return accounts.get(definition.AwsAccountID);
  const [account] = (await accounts.list({ defaultaccount: true }, { size: 1 })).objects;
  if (!account) throw new TerminalError('the aws-secrets-manager backend needs an AWS account: set AwsAccountID (AwsAccountName in a tptctl config), or make one the DefaultAccount');
  return account;
}

/** The values are the definition's by name in this control plane: a definition deleted and made again takes its secret back. */
async function ownerOf(context: ReconcileContext<SecretDefinition>, definition: SecretDefinition): Promise<Owner> {
  return { controlPlaneId: await controlPlaneIdOf(context.client), object: `SecretDefinition/${definition.Name}` };
}
