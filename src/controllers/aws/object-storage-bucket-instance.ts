/**
 * AwsObjectStorageBucketInstance: an S3 bucket for a workload, and the workload wired to it. The
 * bucket is encrypted and closed to the public unless the definition asks for public read; an IAM
 * policy gives access to it alone, and a role with that policy trusts the workload's service
 * account through its EKS cluster's OIDC provider. The workload's service account gets the role's
 * annotation, and every container of the workload the bucket's name in the definition's variable —
 * both through the workload's own resources, so drift correction keeps them and a definition edit
 * keeps them. (A workload without that service account gets one.) Deleting takes the wiring out of
 * the workload, then removes the role, the policy and the bucket with what is in it.
 */
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import {
  awsName,
  bucketStep,
  configureBucket,
  managedPolicyStep,
  policy,
  provision,
  roleStep,
  serviceAccountTrust,
  teardown,
  type AwsClients,
  type BucketPlan,
  type Owner,
  type StackStep,
} from '../../platform/aws/index.ts';
import { addResources, removeAddedResources, type Adder } from '../shared/added-resources.ts';
import { asReconcileError, awsClientsOf } from '../shared/aws-account.ts';
import { contribute, type Contribution } from '../shared/contributions.ts';
import { workloadNamespaceOf } from '../shared/workload-namespace.ts';
import { controlPlaneIdOf } from '../shared/runtime-cluster.ts';
import { decideOnce, inventoryOf, progressLine, recordingProgress } from './inventory.ts';
import type { ManagedServiceSettings } from './relational-database-instance.ts';
import { attachToWorkload, eksPlacementOf } from './workload-placement.ts';

export type BucketInstance = ObjectOf<'AwsObjectStorageBucketInstance'>;
type BucketDefinition = ObjectOf<'AwsObjectStorageBucketDefinition'>;

export const READY = 'Ready';
export const BUCKET_LABEL = 'control-plane.threeport.io/aws-object-storage-bucket-instance';
/** The annotation EKS's pod identity webhook reads: the role the service account's pods assume. */
export const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

const keys = { bucket: 'bucket', policy: 'policy/access', role: 'role/workload' };

/** What the instance decided once and keeps. */
interface Decided {
  bucket: string;
  region: string;
  /** The workload namespace the role trusts. */
  namespace: string;
}

export function objectStorageBucketInstanceReconciler(settings: ManagedServiceSettings = {}): Reconciler<BucketInstance> {
  const pollMs = settings.pollIntervalMs ?? 15_000;
  return {
    kind: 'AwsObjectStorageBucketInstance',
    statusCondition: READY,
    resyncIntervalMs: settings.checkIntervalMs ?? 300_000,
    maxRetryDelayMs: 120_000,
    async reconcile(context) {
      return context.operation === 'Deleted' ? remove(context, pollMs) : make(context, pollMs);
    },
  };
}

function stackOf(clients: AwsClients, accountName: string, accountId: string, owner: Owner, decided: Decided, definition: BucketDefinition, provider: () => { arn: string; url: string }): StackStep[] {
  const bucket: BucketPlan = { key: keys.bucket, name: decided.bucket, region: decided.region, publicRead: definition.PublicReadAccess };
  const iam = clients.iam();
  return [
    bucketStep(clients.s3(decided.region), accountName, owner, bucket),
    managedPolicyStep(iam, accountName, owner, {
      key: keys.policy,
      name: awsName([decided.bucket, 'access'], { max: 128 }),
      what: `IAM policy for bucket ${decided.bucket}`,
      accountId,
      document: () =>
        policy(
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: [`arn:aws:s3:::${decided.bucket}`] },
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: [`arn:aws:s3:::${decided.bucket}/*`] },
        ),
    }),
    roleStep(iam, accountName, owner, {
      key: keys.role,
      name: awsName([decided.bucket], { max: 64 }),
      what: `IAM role of service account ${definition.WorkloadServiceAccountName} for bucket ${decided.bucket}`,
      trust: () => serviceAccountTrust(provider(), decided.namespace, definition.WorkloadServiceAccountName),
      managedPolicies: (run) => [run.made(keys.policy).id],
    }),
  ];
}

async function make(context: ReconcileContext<BucketInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const api = context.client;
  const instance = context.object;
  const definition = await api.kind('AwsObjectStorageBucketDefinition').get(instance.AwsObjectStorageBucketDefinitionID);
  const placement = await eksPlacementOf(api, instance.WorkloadInstanceID, 'bucket');
  if ('waiting' in placement) return { ...placement, requeueAfterMs: pollMs };
  await attachToWorkload(context, instance.WorkloadInstanceID);
  const namespace = await workloadNamespaceOf(api, placement.workload);
  if (!namespace) return { waiting: `workload instance ${placement.workload.Name} is not deployed yet: the bucket's role trusts a service account in its namespace`, requeueAfterMs: pollMs };
  const account = await api.kind('AwsAccount').get(definition.AwsAccountID);
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const owner = await ownerOf(context);
  const decided: Decided = {
    bucket: await decideOnce(context, 'BucketName', async () => awsName(['threeport', owner.controlPlaneId.slice(0, 8), instance.Name, instance.ID], { max: 63, lower: true })),
    region: await decideOnce(context, 'Region', async () => placement.region),
    namespace: await decideOnce(context, 'Namespace', async () => namespace),
  };
  const steps = stackOf(clients, account.Name, account.AccountID, owner, decided, definition, () => placement.oidcProvider);
  if (!instance.CreationConfirmed) await context.acknowledgeCreation();
  const outcome = await provision(steps, inventoryOf(context.object).Resources, recordingProgress(context, 'bucket'), context.signal).catch(asReconcileError);
  if (!outcome.done) return { waiting: progressLine(outcome), requeueAfterMs: pollMs };
  // The definition's public read setting, kept as it is now (a definition edit is seen at the next check).
  await configureBucket(clients.s3(decided.region), account.Name, { key: keys.bucket, name: decided.bucket, region: decided.region, publicRead: definition.PublicReadAccess }, context.signal).catch(asReconcileError);

  const roleArn = String(inventoryOf(context.object).Resources[keys.role]?.arn);
  const wiring = await wire(context, placement.workload, definition, decided, roleArn);
  if (wiring) return { ...wiring, requeueAfterMs: pollMs };
  await context.setCondition({
    Type: READY,
    Status: 'True',
    Reason: 'Available',
    Message: `S3 bucket ${decided.bucket} in ${decided.region} (${definition.PublicReadAccess ? 'public read' : 'private'}, encrypted); workload instance ${placement.workload.Name} has it in ${definition.WorkloadBucketEnvVar} and service account ${definition.WorkloadServiceAccountName} assumes ${roleArn}`,
  });
  return undefined;
}

/** The bucket's part of the workload: its env var everywhere and the role on the service account (added when the workload has none). */
async function wire(context: ReconcileContext<BucketInstance>, workload: ObjectOf<'WorkloadInstance'>, definition: BucketDefinition, decided: Decided, roleArn: string): Promise<{ waiting: string } | undefined> {
  const account = definition.WorkloadServiceAccountName;
  const records = await context.client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workload.ID });
  const ownAccount = records.some((record) => record.WorkloadResourceDefinitionID !== undefined && isServiceAccount(record.JSONDefinition as Manifest, account));
  const annotations = { [ROLE_ANNOTATION]: roleArn };
  const contribution: Contribution = {
    description: `S3 bucket instance ${context.object.Name}`,
    env: [{ name: definition.WorkloadBucketEnvVar, value: decided.bucket }],
    ...(ownAccount && { serviceAccountAnnotations: { [account]: annotations } }),
  };
  const contributed = await contribute(context, workload.ID, contributorKey(context.object), contribution);
  const added = await addResources(context, workload.ID, adderOf(context.object), ownAccount ? [] : [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: decided.namespace, annotations } }]);
  if (!contributed.settled || !added.settled) return { waiting: `wiring bucket ${decided.bucket} into workload instance ${workload.Name} (${definition.WorkloadBucketEnvVar} on its containers, the role on service account ${account})` };
  const runsAs = records.some((record) => serviceAccountOfPods(record.JSONDefinition as Manifest) === account);
  if (!runsAs) {
    await context.recordEvent({ reason: 'ServiceAccountUnused', type: 'Warning', note: `no pod of workload instance ${workload.Name} runs as service account ${account} (spec.serviceAccountName): its pods cannot assume the bucket's role` });
  }
  return undefined;
}

const isServiceAccount = (manifest: Manifest, name: string): boolean => manifest.apiVersion === 'v1' && manifest.kind === 'ServiceAccount' && manifest.metadata.name === name;

function serviceAccountOfPods(manifest: Manifest): string | undefined {
  const spec = manifest.spec as Record<string, unknown> | undefined;
  const podSpec = (manifest.kind === 'Pod' ? spec : manifest.kind === 'CronJob' ? (((spec?.jobTemplate as Record<string, unknown>)?.spec as Record<string, unknown>)?.template as Record<string, unknown>)?.spec : (spec?.template as Record<string, unknown>)?.spec) as
    | { serviceAccountName?: string }
    | undefined;
  return podSpec?.serviceAccountName;
}

const contributorKey = (instance: BucketInstance): string => `AwsObjectStorageBucketInstance/${instance.ID}`;
const adderOf = (instance: BucketInstance): Adder => ({ label: BUCKET_LABEL, value: String(instance.ID), description: `S3 bucket instance ${instance.Name}` });

async function ownerOf(context: ReconcileContext<BucketInstance>): Promise<Owner> {
  return { controlPlaneId: await controlPlaneIdOf(context.client), object: `AwsObjectStorageBucketInstance/${context.object.ID}` };
}

async function remove(context: ReconcileContext<BucketInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const api = context.client;
  const instance = context.object;
  const workload = await api.kind('WorkloadInstance').get(instance.WorkloadInstanceID).catch(() => undefined);
  if (workload && !workload.DeletionScheduled) {
    const { settled } = await contribute(context, workload.ID, contributorKey(instance), undefined);
    const removed = await removeAddedResources(context, workload.ID, adderOf(instance));
    if (!settled || !removed) return { waiting: `taking the bucket out of workload instance ${workload.Name}`, requeueAfterMs: pollMs };
  }
  const inventory = inventoryOf(instance);
  const [bucket, region, namespace] = [inventory.BucketName, inventory.Region, inventory.Namespace] as (string | undefined)[];
  if (!bucket || !region) return undefined;
  const definition = await api.kind('AwsObjectStorageBucketDefinition').get(instance.AwsObjectStorageBucketDefinitionID);
  const account = await api.kind('AwsAccount').get(definition.AwsAccountID);
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const steps = stackOf(clients, account.Name, account.AccountID, await ownerOf(context), { bucket, region, namespace: namespace ?? '' }, definition, () => ({ arn: '', url: '' }));
  const outcome = await teardown(steps, inventory.Resources, recordingProgress(context, 'bucket'), context.signal).catch(asReconcileError);
  return outcome.done ? undefined : { waiting: `removing: ${outcome.waiting}`, requeueAfterMs: pollMs };
}
