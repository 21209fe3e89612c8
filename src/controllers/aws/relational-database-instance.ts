/**
 * AwsRelationalDatabaseInstance: an RDS database for a workload, in the private subnets of the
 * workload's EKS cluster, reachable from the cluster's subnets on its port, encrypted, not public.
 * Its master user and password are made once and kept encrypted in the inventory (the original
 * made a new password on every retry). When the database is available its connection — db-endpoint,
 * db-port, db-name, db-user, db-password — goes to the workload as a Secret named by the
 * definition, in the workload's namespace, written straight into the cluster and checked again
 * every few minutes. Deleting removes the Secret, then the database and what it needed.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { TerminalError } from '../../controller/errors.ts';
import { databaseInstanceClasses } from '../../model/machine-sizes.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { awsName, databaseSteps, describeDatabase, provision, teardown, type DatabasePlan, type Owner } from '../../platform/aws/index.ts';
import { asReconcileError, awsClientsOf } from '../shared/aws-account.ts';
import { deliverSecret, withdrawSecret } from '../shared/delivered-secret.ts';
import { workloadNamespaceOf } from '../shared/workload-namespace.ts';
import { controlPlaneIdOf, readyRuntime } from '../shared/runtime-cluster.ts';
import { decideOnce, inventoryOf, progressLine, recordingProgress } from './inventory.ts';
import { attachToWorkload, eksPlacementOf } from './workload-placement.ts';

export type DatabaseInstance = ObjectOf<'AwsRelationalDatabaseInstance'>;
type DatabaseDefinition = ObjectOf<'AwsRelationalDatabaseDefinition'>;

export const READY = 'Ready';
export const DATABASE_LABEL = 'control-plane.threeport.io/aws-relational-database-instance';

export interface ManagedServiceSettings {
  /** How soon a database or bucket being made or removed is looked at again. @default 15000 */
  pollIntervalMs?: number;
  /** How often a ready one is checked again (its Secret or wiring restored if changed). @default 300000 */
  checkIntervalMs?: number;
}

/** What the instance decided once and keeps. */
interface Decided {
  identifier: string;
  region: string;
  username: string;
  /** Encrypted with the control plane's key. */
  password: string;
  namespace?: string;
}

export function relationalDatabaseInstanceReconciler(settings: ManagedServiceSettings = {}): Reconciler<DatabaseInstance> {
  const pollMs = settings.pollIntervalMs ?? 15_000;
  return {
    kind: 'AwsRelationalDatabaseInstance',
    statusCondition: READY,
    resyncIntervalMs: settings.checkIntervalMs ?? 300_000,
    maxRetryDelayMs: 120_000,
    async reconcile(context) {
      return context.operation === 'Deleted' ? remove(context, pollMs) : make(context, pollMs);
    },
  };
}

const letters = (count: number): string => Array.from({ length: count }, () => String.fromCharCode(97 + randomInt(26))).join('');

async function make(context: ReconcileContext<DatabaseInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const api = context.client;
  const instance = context.object;
  const definition = await api.kind('AwsRelationalDatabaseDefinition').get(instance.AwsRelationalDatabaseDefinitionID);
  const placement = await eksPlacementOf(api, instance.WorkloadInstanceID, 'database');
  if ('waiting' in placement) return { ...placement, requeueAfterMs: pollMs };
  await attachToWorkload(context, instance.WorkloadInstanceID);
  const account = await api.kind('AwsAccount').get(definition.AwsAccountID);
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const decided: Decided = {
    identifier: await decideOnce(context, 'Identifier', async () => awsName(['threeport', instance.Name, instance.ID], { max: 63, lower: true })),
    region: await decideOnce(context, 'Region', async () => placement.region),
    username: await decideOnce(context, 'Username', async () => `u${letters(11)}`),
    password: await decideOnce(context, 'Password', async () => context.encrypt(randomBytes(24).toString('base64url'))),
  };
  const owner = await ownerOf(context);
  const instanceClass = databaseInstanceClasses[definition.MachineSize];
  if (!instanceClass) throw new TerminalError(`MachineSize ${definition.MachineSize} has no RDS instance class: use one of ${Object.keys(databaseInstanceClasses).join(', ')}`);
  const plan: DatabasePlan = {
    identifier: decided.identifier,
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
    username: decided.username,
    password: () => String(context.decrypt(decided.password)),
  };
  const steps = databaseSteps(clients.ec2(decided.region), clients.rds(decided.region), account.Name, owner, plan);
  if (!instance.CreationConfirmed) await context.acknowledgeCreation();
  const outcome = await provision(steps, inventoryOf(context.object).Resources, recordingProgress(context, 'database'), context.signal).catch(asReconcileError);
  if (!outcome.done) return { waiting: progressLine(outcome), requeueAfterMs: pollMs };

  const database = await describeDatabase(clients.rds(decided.region), account.Name, decided.identifier, context.signal).catch(asReconcileError);
  const endpoint = database?.Endpoint;
  if (!endpoint?.Address) return { waiting: `database ${decided.identifier} has no endpoint yet`, requeueAfterMs: pollMs };

  const namespace = await workloadNamespaceOf(api, placement.workload);
  if (!namespace) return { waiting: `workload instance ${placement.workload.Name} is not deployed yet: its connection Secret goes into its namespace`, requeueAfterMs: pollMs };
  const target = await readyRuntime(api, placement.runtime.ID, (value) => context.decrypt(value));
  if ('waiting' in target) return { ...target, requeueAfterMs: pollMs };
  // Where it was delivered, kept so the Secret is removed from there even if the workload moves or goes.
  await decideOnce(context, 'SecretNamespace', async () => namespace);
  await deliverSecret(
    target.cluster,
    {
      namespace,
      name: definition.WorkloadSecretName,
      data: {
        'db-endpoint': endpoint.Address,
        'db-port': String(endpoint.Port ?? definition.DatabasePort),
        'db-name': definition.DatabaseName,
        'db-user': decided.username,
        'db-password': plan.password(),
      },
      owner: secretOwner(instance),
      controlPlaneId: owner.controlPlaneId,
    },
    context.signal,
  );
  await context.setCondition({
    Type: READY,
    Status: 'True',
    Reason: 'Available',
    Message: `${describe(definition, instanceClass)} ${decided.identifier} at ${endpoint.Address}:${endpoint.Port ?? definition.DatabasePort}; workload instance ${placement.workload.Name} reads it from Secret ${namespace}/${definition.WorkloadSecretName}`,
  });
  return undefined;
}

const describe = (definition: DatabaseDefinition, instanceClass: string): string => `${definition.Engine} ${definition.EngineVersion} (${instanceClass}, ${definition.StorageGb} GB${definition.BackupDays ? `, backups ${definition.BackupDays} days` : ''})`;

const secretOwner = (instance: DatabaseInstance) => ({ label: DATABASE_LABEL, value: String(instance.ID), description: `database instance ${instance.Name}` });

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
  if (namespace) {
    const workload = await api.kind('WorkloadInstance').get(instance.WorkloadInstanceID).catch(() => undefined);
    const target = workload ? await readyRuntime(api, workload.KubernetesRuntimeInstanceID, (value) => context.decrypt(value)).catch(() => undefined) : undefined;
    if (target && !('waiting' in target)) await withdrawSecret(target.cluster, { namespace, name: definition.WorkloadSecretName, owner: secretOwner(instance), controlPlaneId: owner.controlPlaneId }, context.signal);
  }
  const identifier = inventory.Identifier as string | undefined;
  const region = inventory.Region as string | undefined;
  if (!identifier || !region) return undefined;
  const account = await api.kind('AwsAccount').get(definition.AwsAccountID);
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const steps = databaseSteps(clients.ec2(region), clients.rds(region), account.Name, owner, {
    identifier,
    vpcId: '',
    subnetIds: [],
    clientCidrs: [],
    engine: definition.Engine,
    engineVersion: definition.EngineVersion,
    instanceClass: '',
    storageGb: 0,
    backupDays: 0,
    databaseName: definition.DatabaseName,
    port: definition.DatabasePort,
    username: '',
    password: () => '',
  });
  const outcome = await teardown(steps, inventory.Resources, recordingProgress(context, 'database'), context.signal).catch(asReconcileError);
  return outcome.done ? undefined : { waiting: `removing: ${outcome.waiting}`, requeueAfterMs: pollMs };
}
