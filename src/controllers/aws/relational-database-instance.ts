/**
 * AwsRelationalDatabaseInstance: an RDS database for a workload, in the private subnets of the
 * workload's EKS cluster, reachable from the cluster's subnets on its port, encrypted, not public.
 * Its master user is made once and its password once, kept in the instance's encrypted
 * DatabasePassword (the original made a new password on every retry). When the database is
 * available its connection — db-endpoint, db-port, db-name, db-user, db-password — goes to the
 * workload as a Secret named by the definition, in the workload's namespace, written straight into
 * the cluster and checked again every few minutes, when an edited definition's size class, storage
 * (more only) and backups are applied too. Deleting removes the Secret, then the database and
 * what it needed.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { RetryableError, TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import { databaseInstanceClasses } from '../../model/machine-sizes.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { awsName, databaseSteps, describeDatabase, provision, resizeDatabase, teardown, type AwsClients, type DatabaseSettings, type Owner, type StackStep } from '../../platform/aws/index.ts';
import { awsClientsOf } from './account-clients.ts';
import { asReconcileError } from '../shared/aws-account.ts';
import { deliverSecret, withdrawSecret, type Deliverer } from '../shared/delivered-secret.ts';
import { controlPlaneIdOf, readyRuntime } from '../shared/runtime-cluster.ts';
import { workloadNamespaceOf } from '../shared/workload-namespace.ts';
import { decideOnce, inventoryOf, progressLine, recordingProgress } from './inventory.ts';
import { workloadOrGone } from './managed-services.ts';
import { DATABASE_LABEL, READY } from './names.ts';
import type { ManagedServiceSettings } from './settings.ts';
import { attachToWorkload, eksPlacementOf } from './workload-placement.ts';

export type DatabaseInstance = ObjectOf<'AwsRelationalDatabaseInstance'>;
type DatabaseDefinition = ObjectOf<'AwsRelationalDatabaseDefinition'>;

export function reconcileDatabase(context: ReconcileContext<DatabaseInstance>, settings: ManagedServiceSettings): Promise<ReconcileOutcome> {
  const pollMs = settings.pollIntervalMs ?? 15_000;
  return context.operation === 'Deleted' ? remove(context, pollMs) : make(context, pollMs);
}

const letters = (count: number): string => Array.from({ length: count }, () => String.fromCharCode(97 + randomInt(26))).join('');

function stackOf(clients: AwsClients, accountName: string, owner: Owner, region: string, identifier: string, settings: () => DatabaseSettings): StackStep[] {
  return databaseSteps(clients.ec2(region), clients.rds(region), accountName, owner, { identifier, settings });
}

/** The password, made once: written encrypted into the instance before anything is made with it. */
async function passwordOf(context: ReconcileContext<DatabaseInstance>): Promise<string> {
  if (!context.object.DatabasePassword) {
    const made = randomBytes(24).toString('base64url');
    await context.update((current) => (current.DatabasePassword ? undefined : { DatabasePassword: made }));
  }
  return String(context.decrypt(context.object.DatabasePassword));
}

async function make(context: ReconcileContext<DatabaseInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const api = context.client;
  const instance = context.object;
  const definition = await api.kind('AwsRelationalDatabaseDefinition').get(instance.AwsRelationalDatabaseDefinitionID);
  const placement = await eksPlacementOf(api, instance.WorkloadInstanceID, 'database');
  if ('waiting' in placement) return { ...placement, requeueAfterMs: pollMs };
  await attachToWorkload(context, instance.WorkloadInstanceID);
  const account = await api.kind('AwsAccount').get(definition.AwsAccountID);
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const owner = await ownerOf(context);
  const instanceClass = databaseInstanceClasses[definition.MachineSize];
  if (!instanceClass) throw new TerminalError(`MachineSize ${definition.MachineSize} has no RDS instance class: use one of ${Object.keys(databaseInstanceClasses).join(', ')}`);
  const identifier = await decideOnce(context, 'Identifier', async () => awsName(['threeport', owner.controlPlaneId.slice(0, 8), instance.Name, instance.ID], { max: 63, lower: true }));
  const region = await decideOnce(context, 'Region', async () => placement.region);
  // Its runtime's teardown waits for the database to leave the VPC.
  await decideOnce(context, 'KubernetesRuntimeInstanceID', async () => String(placement.runtime.ID));
  const username = await decideOnce(context, 'Username', async () => `u${letters(11)}`);
  const password = await passwordOf(context);
  const settings: DatabaseSettings = {
    vpcId: placement.vpcId,
    subnetIds: placement.privateSubnets.map((subnet) => subnet.id),
    clientCidrs: placement.privateSubnets.map((subnet) => subnet.cidr),
    engine: definition.Engine,
    engineVersion: definition.EngineVersion,
    instanceClass,
    storageGb: definition.StorageGb,
    backupDays: definition.BackupDays,
    databaseName: definition.DatabaseName,
    port: definition.DatabasePort,
    username,
    password,
  };
  if (!instance.CreationConfirmed) await context.acknowledgeCreation();
  const steps = stackOf(clients, account.Name, owner, region, identifier, () => settings);
  const outcome = await provision(steps, inventoryOf(context.object).Resources, recordingProgress(context, 'database'), context.signal).catch(asReconcileError);
  if (!outcome.done) return { waiting: progressLine(outcome), requeueAfterMs: pollMs };

  const database = await describeDatabase(clients.rds(region), account.Name, identifier, context.signal).catch(asReconcileError);
  const endpoint = database?.Endpoint;
  if (!database || !endpoint?.Address) return { waiting: `database ${identifier} has no endpoint yet`, requeueAfterMs: pollMs };
  // An edited definition (size, storage, backups) is followed, at the next look.
  const resized = await resizeDatabase(clients.rds(region), account.Name, database, { instanceClass, storageGb: definition.StorageGb, backupDays: definition.BackupDays }, context.signal).catch(asReconcileError);
  if (resized.length > 0) {
    await context.recordEvent({ reason: 'Resized', note: `database ${identifier} follows its definition: ${resized.join(', ')}` });
    return { waiting: `database ${identifier} is being changed (${resized.join(', ')})`, requeueAfterMs: pollMs };
  }

  const namespace = await workloadNamespaceOf(api, placement.workload);
  if (!namespace) return { waiting: `workload instance ${placement.workload.Name} is not deployed yet: its connection Secret goes into its namespace`, requeueAfterMs: pollMs };
  const target = await readyRuntime(api, placement.runtime.ID, (value) => context.decrypt(value));
  if ('waiting' in target) return { ...target, requeueAfterMs: pollMs };
  // Where it was delivered, kept so the Secret is removed from there even if the workload moves or goes.
  await decideOnce(context, 'SecretNamespace', async () => namespace);
  const port = String(endpoint.Port ?? definition.DatabasePort);
  await deliverSecret(
    target.cluster,
    {
      namespace,
      name: definition.WorkloadSecretName,
      data: { 'db-endpoint': endpoint.Address, 'db-port': port, 'db-name': definition.DatabaseName, 'db-user': username, 'db-password': password },
    },
    deliverer(instance, owner.controlPlaneId),
    context.signal,
  );
  await context.setCondition({
    Type: READY,
    Status: 'True',
    Reason: 'Available',
    Message: `${describe(definition, instanceClass)} ${identifier} at ${endpoint.Address}:${port}; workload instance ${placement.workload.Name} reads it from Secret ${namespace}/${definition.WorkloadSecretName}`,
  });
  return undefined;
}

const describe = (definition: DatabaseDefinition, instanceClass: string): string => `${definition.Engine} ${definition.EngineVersion} (${instanceClass}, ${definition.StorageGb} GB${definition.BackupDays ? `, backups ${definition.BackupDays} days` : ''})`;

const deliverer = (instance: DatabaseInstance, controlPlaneId: string): Deliverer => ({ label: DATABASE_LABEL, value: String(instance.ID), description: `database instance ${instance.Name}`, controlPlaneId });

async function ownerOf(context: ReconcileContext<DatabaseInstance>): Promise<Owner> {
  return { controlPlaneId: await controlPlaneIdOf(context.client), object: `AwsRelationalDatabaseInstance/${context.object.ID}` };
}

async function remove(context: ReconcileContext<DatabaseInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const api = context.client;
  const instance = context.object;
  const inventory = inventoryOf(instance);
  const owner = await ownerOf(context);
  const definition = await api.kind('AwsRelationalDatabaseDefinition').get(instance.AwsRelationalDatabaseDefinitionID);
  const namespace = inventory.SecretNamespace as string | undefined;
  const workload = namespace ? await workloadOrGone(api, instance.WorkloadInstanceID) : undefined;
  if (namespace && workload) {
    const target = await readyRuntime(api, workload.KubernetesRuntimeInstanceID, (value) => context.decrypt(value)).catch((error: unknown) => {
      if (error instanceof TerminalError) return undefined; // its runtime is being deleted, and the Secret with it
      throw error;
    });
    if (target && 'waiting' in target) throw new RetryableError(`cannot remove Secret ${namespace}/${definition.WorkloadSecretName} yet: ${target.waiting}`);
    if (target) await withdrawSecret(target.cluster, { namespace, name: definition.WorkloadSecretName }, deliverer(instance, owner.controlPlaneId), context.signal);
  }
  const identifier = inventory.Identifier as string | undefined;
  const region = inventory.Region as string | undefined;
  if (!identifier || !region) return undefined;
  const account = await api.kind('AwsAccount').get(definition.AwsAccountID);
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const steps = stackOf(clients, account.Name, owner, region, identifier, () => {
    throw new Error('a database being removed is made with nothing');
  });
  const outcome = await teardown(steps, inventory.Resources, recordingProgress(context, 'database'), context.signal).catch(asReconcileError);
  return outcome.done ? undefined : { waiting: `removing: ${outcome.waiting}`, requeueAfterMs: pollMs };
}
