/**
 * AwsObjectStorageBucketInstance: an S3 bucket for a workload, and the workload wired to it. The
 * bucket is encrypted and closed to the public unless the definition asks for public read; the role
 * the workload's service account assumes through its EKS cluster's OIDC provider gets a policy for
 * it alone (one role per service account, shared by the workload's buckets: a service account
 * names one role). The workload's service account gets the role's
 * annotation, and every container of the workload the bucket's name in the definition's variable —
 * both through the workload's own resources, so drift correction keeps them and a definition edit
 * keeps them. (A workload without that service account gets one.) Deleting takes the wiring out of
 * the workload, then the bucket's policy from the role (the role with its last policy), and the
 * bucket with what is in it.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import {
  awsName,
  bucketStep,
  configureBucket,
  policy,
  provision,
  serviceAccountTrust,
  sharedRoleStep,
  teardown,
  type AwsClients,
  type BucketPlan,
  type Owner,
  type StackStep,
} from '../../platform/aws/index.ts';
import { addResources, removeAddedResources, type Adder } from '../shared/added-resources.ts';
import { awsClientsOf } from './account-clients.ts';
import { asReconcileError } from '../shared/aws-account.ts';
import { conflictingContributor, contribute, contributionsOf, podSpecOf, withdrawContribution, type Contribution } from '../shared/contributions.ts';
import { workloadNamespaceOf } from '../shared/workload-namespace.ts';
import { controlPlaneIdOf } from '../shared/runtime-cluster.ts';
import { decideOnce, inventoryOf, progressLine, recordingProgress } from './inventory.ts';
import { workloadOrGone } from './managed-services.ts';
import { BUCKET_SERVICE_ACCOUNT_LABEL, READY, ROLE_ANNOTATION } from './names.ts';
import type { ManagedServiceSettings } from './settings.ts';
import { attachToWorkload, eksPlacementOf } from './workload-placement.ts';

export type BucketInstance = ObjectOf<'AwsObjectStorageBucketInstance'>;
type BucketDefinition = ObjectOf<'AwsObjectStorageBucketDefinition'>;


const keys = { bucket: 'bucket', role: 'role/workload' };
/** Wiring is the workload controller's, done in seconds: looked at this often while it is under way. */
const WIRING_POLL_MS = 2000;

/** What the instance decided once and keeps. */
interface Decided {
  bucket: string;
  region: string;
  /** The workload namespace and service account the role trusts. */
  namespace: string;
  serviceAccount: string;
}

export function reconcileBucket(context: ReconcileContext<BucketInstance>, settings: ManagedServiceSettings): Promise<ReconcileOutcome> {
  const pollMs = settings.pollIntervalMs ?? 15_000;
  return context.operation === 'Deleted' ? remove(context, pollMs) : make(context, pollMs);
}

/**
 * The bucket, and its access on the role the workload's service account assumes — one role per
 * service account (it can be annotated with one), shared by every bucket of the workload, each
 * adding its own policy.
 */
function stackOf(clients: AwsClients, accountName: string, owner: Owner, workloadInstanceId: number, decided: Decided, publicRead: boolean, provider: () => { arn: string; url: string }): StackStep[] {
  const bucket: BucketPlan = { key: keys.bucket, name: decided.bucket, region: decided.region, publicRead };
  const serviceAccountOwner: Owner = { controlPlaneId: owner.controlPlaneId, object: `WorkloadInstance/${workloadInstanceId}/ServiceAccount/${decided.serviceAccount}` };
  return [
    bucketStep(clients.s3(decided.region), accountName, owner, bucket),
    sharedRoleStep(clients.iam(), accountName, serviceAccountOwner, {
      key: keys.role,
      name: awsName(['threeport', owner.controlPlaneId.slice(0, 8), 'workload', workloadInstanceId, decided.serviceAccount], { max: 64 }),
      what: `IAM role of service account ${decided.serviceAccount} of workload instance ${workloadInstanceId}`,
      trust: () => serviceAccountTrust(provider(), decided.namespace, decided.serviceAccount),
      policyName: awsName([decided.bucket], { max: 128 }),
      policy: () =>
        policy(
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: [`arn:aws:s3:::${decided.bucket}`] },
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: [`arn:aws:s3:::${decided.bucket}/*`] },
        ),
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
    serviceAccount: await decideOnce(context, 'ServiceAccount', async () => definition.WorkloadServiceAccountName),
  };
  const steps = stackOf(clients, account.Name, owner, instance.WorkloadInstanceID, decided, definition.PublicReadAccess, () => placement.oidcProvider);
  if (!instance.CreationConfirmed) await context.acknowledgeCreation();
  const outcome = await provision(steps, inventoryOf(context.object).Resources, recordingProgress(context, 'bucket'), context.signal).catch(asReconcileError);
  if (!outcome.done) return { waiting: progressLine(outcome), requeueAfterMs: pollMs };
  // Made with its settings; on each later check they are set again, as the definition says now.
  if (instance.Reconciled) await configureBucket(clients.s3(decided.region), account.Name, { key: keys.bucket, name: decided.bucket, region: decided.region, publicRead: definition.PublicReadAccess }, context.signal).catch(asReconcileError);

  const roleArn = String(inventoryOf(context.object).Resources[keys.role]?.arn);
  const wiring = await wire(context, placement.workload, definition, decided, roleArn);
  // The workload controller asks again once it applied the wiring; this is in case that ask is lost.
  if (wiring) return { ...wiring, requeueAfterMs: Math.min(pollMs, WIRING_POLL_MS) };
  await context.setCondition({
    Type: READY,
    Status: 'True',
    Reason: 'Available',
    Message: `S3 bucket ${decided.bucket} in ${decided.region} (${definition.PublicReadAccess ? 'public read' : 'private'}, encrypted); workload instance ${placement.workload.Name} has it in ${definition.WorkloadBucketEnvVar} and service account ${decided.serviceAccount} assumes ${roleArn}`,
  });
  return undefined;
}

/** The bucket's part of the workload: its env var everywhere and the role on the service account (added when the workload has none). */
async function wire(context: ReconcileContext<BucketInstance>, workload: ObjectOf<'WorkloadInstance'>, definition: BucketDefinition, decided: Decided, roleArn: string): Promise<{ waiting: string } | undefined> {
  const account = decided.serviceAccount;
  const records = await context.client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workload.ID });
  const ownAccount = records.some((record) => record.WorkloadResourceDefinitionID !== undefined && isServiceAccount(record.JSONDefinition as Manifest, account));
  const annotations = { [ROLE_ANNOTATION]: roleArn };
  const contribution = partOf(context.object, definition.WorkloadBucketEnvVar, decided, ownAccount ? roleArn : undefined);
  const conflict = conflictingContributor(contributionsOf(workload), contributorKey(context.object), contribution);
  if (conflict) throw new TerminalError(`workload instance ${workload.Name} already gets ${conflict.name} from ${conflict.key}: give this bucket's definition another WorkloadBucketEnvVar`);
  const contributed = await contribute(context, workload.ID, contributorKey(context.object), contribution);
  const added = await addResources(context, workload.ID, adderOf(account), ownAccount ? [] : [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: decided.namespace, annotations } }]);
  if (!contributed.settled || !added.settled) return { waiting: `wiring bucket ${decided.bucket} into workload instance ${workload.Name} (${definition.WorkloadBucketEnvVar} on its containers, the role on service account ${account})` };
  const runsAs = records.some((record) => serviceAccountOfPods(record.JSONDefinition as Manifest) === account);
  if (!runsAs) {
    await context.recordEvent({ reason: 'ServiceAccountUnused', type: 'Warning', note: `no pod of workload instance ${workload.Name} runs as service account ${account} (spec.serviceAccountName): its pods cannot assume the bucket's role` });
  }
  return undefined;
}

const isServiceAccount = (manifest: Manifest, name: string): boolean => manifest.apiVersion === 'v1' && manifest.kind === 'ServiceAccount' && manifest.metadata.name === name;

const serviceAccountOfPods = (manifest: Manifest): string | undefined => (podSpecOf(manifest) as { serviceAccountName?: string } | undefined)?.serviceAccountName;

/** What the bucket adds to the workload: its name in the variable everywhere, and (when the service account is the workload's own) the role's annotation on it. */
function partOf(instance: BucketInstance, variable: string, decided: Decided, roleArn: string | undefined): Contribution {
  return {
    description: `S3 bucket instance ${instance.Name}`,
    env: [{ name: variable, value: decided.bucket }],
    ...(roleArn && { serviceAccountAnnotations: { [decided.serviceAccount]: { [ROLE_ANNOTATION]: roleArn } } }),
  };
}

const contributorKey = (instance: BucketInstance): string => `AwsObjectStorageBucketInstance/${instance.ID}`;
const adderOf = (serviceAccount: string): Adder => ({ label: BUCKET_SERVICE_ACCOUNT_LABEL, value: serviceAccount, description: `the S3 buckets using service account ${serviceAccount}` });

async function ownerOf(context: ReconcileContext<BucketInstance>): Promise<Owner> {
  return { controlPlaneId: await controlPlaneIdOf(context.client), object: `AwsObjectStorageBucketInstance/${context.object.ID}` };
}

/** How many other buckets of the workload use the service account. */
async function othersUsing(context: ReconcileContext<BucketInstance>, workloadInstanceId: number, serviceAccount: string): Promise<number> {
  const buckets = await context.client.kind('AwsObjectStorageBucketInstance').listAll({ workloadinstanceid: workloadInstanceId });
  return buckets.filter((bucket) => bucket.ID !== context.object.ID && !bucket.DeletionScheduled && inventoryOf(bucket).ServiceAccount === serviceAccount).length;
}

async function remove(context: ReconcileContext<BucketInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const api = context.client;
  const instance = context.object;
  const workload = await workloadOrGone(api, instance.WorkloadInstanceID);
  const inventory = inventoryOf(instance);
  const [bucket, region, namespace, serviceAccount] = [inventory.BucketName, inventory.Region, inventory.Namespace, inventory.ServiceAccount] as (string | undefined)[];
  const definition = await api.kind('AwsObjectStorageBucketDefinition').get(instance.AwsObjectStorageBucketDefinitionID);
  if (workload && !workload.DeletionScheduled && bucket && serviceAccount) {
    const role = inventory.Resources[keys.role]?.arn;
    const part = partOf(instance, definition.WorkloadBucketEnvVar, { bucket, region: String(region), namespace: String(namespace), serviceAccount }, role);
    const { settled } = await withdrawContribution(context, workload.ID, contributorKey(instance), part);
    // A service account threeport added goes with the last bucket that uses it.
    const sharing = serviceAccount ? await othersUsing(context, workload.ID, serviceAccount) : 0;
    const removed = !serviceAccount || sharing > 0 || (await removeAddedResources(context, workload.ID, adderOf(serviceAccount)));
    if (!settled || !removed) return { waiting: `taking the bucket out of workload instance ${workload.Name}`, requeueAfterMs: Math.min(pollMs, WIRING_POLL_MS) };
  }
  if (!bucket || !region) return undefined;
  const account = await api.kind('AwsAccount').get(definition.AwsAccountID);
  const clients = awsClientsOf(account, (value) => context.decrypt(value));
  const decided = { bucket, region, namespace: namespace ?? '', serviceAccount: serviceAccount ?? definition.WorkloadServiceAccountName };
  const steps = stackOf(clients, account.Name, await ownerOf(context), instance.WorkloadInstanceID, decided, definition.PublicReadAccess, () => ({ arn: '', url: '' }));
  const outcome = await teardown(steps, inventory.Resources, recordingProgress(context, 'bucket'), context.signal).catch(asReconcileError);
  return outcome.done ? undefined : { waiting: `removing: ${outcome.waiting}`, requeueAfterMs: pollMs };
}
