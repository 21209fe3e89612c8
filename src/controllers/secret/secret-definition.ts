/**
 * SecretDefinition: values kept encrypted in the control plane's database, and — with the
 * aws-secrets-manager backend — in AWS Secrets Manager too, under the definition's name, tagged as
 * threeport's (a secret of that name that is not is refused, never overwritten). Where they are
 * kept is recorded (Store), so a definition that moves (renamed, another account, back to direct)
 * or goes removes exactly that copy, with the store's recovery window; one already gone is done,
 * not an endless retry. Each change of the values reaches every instance: they deliver again.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { backendOf } from '../../model/kinds/secret.ts';
import type { Owner } from '../../platform/aws/index.ts';
import { asReconcileError, type AwsAccount } from '../shared/aws-account.ts';
import { controlPlaneIdOf } from '../shared/runtime-cluster.ts';
import { accountOrGone, storeAccountOf } from './accounts.ts';
import { valuesOf } from './values.ts';

export type SecretDefinition = ObjectOf<'SecretDefinition'>;

/** Where a definition's values are kept in Secrets Manager (what its instances read). */
export interface Store {
  AwsAccountID: number;
  Region: string;
  Name: string;
  Arn: string;
  /** The copy the definition kept before it moved, while it is being removed. */
  Previous?: Omit<Store, 'Previous'>;
}

const samePlace = (a: Omit<Store, 'Previous'>, b: Omit<Store, 'Previous'>): boolean => a.AwsAccountID === b.AwsAccountID && a.Name === b.Name && a.Region === b.Region;

async function recordStore(context: ReconcileContext<SecretDefinition>, store: Store): Promise<void> {
  await context.update((current) => (JSON.stringify(current.Store) === JSON.stringify(store) ? undefined : { Store: store }));
}

const DEFAULT_RECOVERY_WINDOW_DAYS = 30;

export const storeOf = (definition: SecretDefinition): Store | undefined => (definition.Store as Store | null | undefined) ?? undefined;

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
  const kept = storeOf(definition);
  if (backendOf(definition) === 'aws-secrets-manager') {
    const account = await storeAccountOf(context.client, definition);
    const { clients, storeSecretValues } = await secretsManagerOf(account, context);
    // The new place first, then the old one goes: instances read the old copy until the new one is recorded.
    const stored = await storeSecretValues(clients.secretsManager(), account.Name, definition.Name, values, await ownerOf(context, definition.Name), `${definition.ID}.${definition.Generation ?? 1}`, context.signal).catch(asReconcileError);
    const store: Store = { AwsAccountID: account.ID, Region: account.DefaultRegion, Name: definition.Name, Arn: stored.arn };
    if (stored.change !== 'unchanged') await context.recordEvent({ reason: stored.change === 'created' ? 'Stored' : 'Updated', note: `values ${stored.change} in AWS Secrets Manager (account ${account.Name}) as ${definition.Name}` });
    // A copy elsewhere (the definition was renamed, or moved account) is recorded as the one to remove, then removed: a crash between the two is resumed.
    const previous = kept && !samePlace(kept, store) ? kept : kept?.Previous;
    await recordStore(context, previous ? { ...store, Previous: previous } : store);
    if (previous) {
      await removeStored(context, previous);
      await recordStore(context, store);
    }
  } else if (kept) {
    // Moved to the direct backend: the copy in Secrets Manager is no longer the one delivered.
    if (kept.Previous) await removeStored(context, kept.Previous);
    await removeStored(context, kept);
    await context.update({ Store: null });
  }
  const instances = await context.client.kind('SecretInstance').listAll({ secretdefinitionid: definition.ID });
  for (const instance of instances) await context.requestReconcile('SecretInstance', instance.ID, `secret definition ${definition.Name} changed`);
  return undefined;
}

async function forget(context: ReconcileContext<SecretDefinition>): Promise<ReconcileOutcome> {
  const definition = context.object;
  const kept = storeOf(definition);
  if (kept?.Previous) await removeStored(context, kept.Previous);
  if (kept) return removeStored(context, kept);
  // Stored before a crash let it be recorded: the copy under its name, if the tags say it is this definition's.
  if (backendOf(definition) !== 'aws-secrets-manager') return undefined;
  const account = await storeAccountOf(context.client, definition).catch((error: unknown) => (error instanceof TerminalError ? undefined : Promise.reject(error)));
  if (account) await removeStored(context, { AwsAccountID: account.ID, Region: account.DefaultRegion, Name: definition.Name, Arn: '' });
  return undefined;
}

/** Schedules the deletion of a stored copy (only one tagged as this definition's). */
async function removeStored(context: ReconcileContext<SecretDefinition>, store: Omit<Store, 'Previous'>): Promise<undefined> {
  const account = await accountOrGone(context.client, store.AwsAccountID);
  if (!account) {
    await context.recordEvent({ reason: 'NotRemoved', type: 'Warning', note: `AWS account ${store.AwsAccountID} is gone: threeport cannot remove ${store.Name} from its Secrets Manager (${store.Arn || store.Region}); remove it there if it is still wanted gone` });
    return undefined;
  }
  const { clients, deleteStoredSecret } = await secretsManagerOf(account, context);
  const window = context.object.RecoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS;
  const result = await deleteStoredSecret(clients.secretsManager(store.Region), account.Name, store.Name, await ownerOf(context, store.Name), window, context.signal).catch(asReconcileError);
  if (result === 'scheduled') await context.recordEvent({ reason: 'DeletionScheduled', note: `AWS Secrets Manager (account ${account.Name}) deletes ${store.Name} in ${window} days; until then it can be restored` });
  if (result === 'foreign') await context.recordEvent({ reason: 'NotRemoved', type: 'Warning', note: `the secret ${store.Name} in AWS Secrets Manager (account ${account.Name}) is not threeport's: it is left as it is` });
  return undefined;
}

/** The account's clients and Secrets Manager's steps, loaded only by a control plane that keeps secrets there (the SDK is large). */
async function secretsManagerOf(account: AwsAccount, context: ReconcileContext<SecretDefinition>) {
  const [{ awsClientsOf }, secretsManager] = await Promise.all([import('../aws/account-clients.ts'), import('../../platform/aws/secrets-manager.ts')]);
  return { clients: awsClientsOf(account, (value) => context.decrypt(value)), ...secretsManager };
}

/** The values are the definition's by name in this control plane: a definition deleted and made again takes its secret back. */
async function ownerOf(context: ReconcileContext<SecretDefinition>, name: string): Promise<Owner> {
  return { controlPlaneId: await controlPlaneIdOf(context.client), object: `SecretDefinition/${name}` };
}
