/**
 * The aws-secrets-manager backend in a cluster: the External Secrets Operator, installed once per
 * runtime as a support service, and per secret instance a SecretStore (how to reach the store) and
 * an ExternalSecret (which secret, into which Kubernetes Secret), both named after the instance.
 * The operator reads with the runtime's credentials — on an EKS cluster threeport made, its
 * service account assumes the runtime's external-secrets role; elsewhere the runtime's AWS
 * account's keys, kept in the operator's own namespace, never in a workload's — and a definition
 * of another account is read by assuming that account's role.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext } from '../../controller/reconciler.ts';
import { conditionsOf, findCondition } from '../../model/conditions.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { secretsManagerEndpoint } from '../../platform/aws/index.ts';
import type { KubernetesClient, ResourceRef } from '../../platform/kubernetes/index.ts';
import { accessOf, awsAccountOfRuntime, supportServiceRoleOf, type AwsAccount } from '../shared/aws-account.ts';
import { deliverObject, deliveryLabels, withdrawObject, type Deliverer } from '../shared/delivered-secret.ts';
import { isSimulatedCluster, type ReadyRuntime } from '../shared/runtime-cluster.ts';
import { deliverAccountKeys } from '../support-services/account-keys.ts';
import { externalSecretsValues } from '../support-services/service-values.ts';
import { ensureSupportService, type SupportServiceState } from '../support-services/support-services.ts';

export const EXTERNAL_SECRETS_API = 'external-secrets.io/v1';
/** Changing this annotation's value makes the operator sync at once (not at its next refresh). */
export const FORCE_SYNC = 'force-sync';
const REFRESH_INTERVAL = '1h';

type Place = { namespace: string; name: string };

/** The operator on the runtime, reading with the runtime's credentials. */
export async function ensureOperator(context: ReconcileContext, target: ReadyRuntime, controlPlaneId: string): Promise<SupportServiceState> {
  const workloadRole = await supportServiceRoleOf(context.client, target.runtime.ID, 'external-secrets');
  const sts = process.env.AWS_ENDPOINT_URL_STS ?? process.env.AWS_ENDPOINT_URL;
  const values = externalSecretsValues({ workloadRole, endpoints: { secretsManager: secretsManagerEndpoint(), sts } });
  if (workloadRole) return ensureSupportService(context, target, 'external-secrets', values);
  const account = await operatorAccount(context, target);
  const access = accessOf(account, (value) => context.decrypt(value));
  if (!access.accessKeyId || !access.secretAccessKey) {
    throw new TerminalError(`AWS account ${account.Name} has no access keys for the External Secrets Operator on runtime ${target.runtime.Name} (a cluster threeport did not make in EKS has no role for it): give the account an AccessKeyID and SecretAccessKey`);
  }
  return ensureSupportService(context, target, 'external-secrets', values, (release) => deliverAccountKeys(target.cluster, 'external-secrets', access, release, controlPlaneId, context.signal));
}

async function operatorAccount(context: ReconcileContext, target: ReadyRuntime): Promise<AwsAccount> {
  const account = await awsAccountOfRuntime(context.client, target.runtime);
  if ('waiting' in account) throw new TerminalError(account.waiting);
  return account;
}

/** The SecretStore and the ExternalSecret of one secret instance, written as its own (a user's objects of those names are refused). */
export async function deliverThroughOperator(
  context: ReconcileContext,
  target: ReadyRuntime,
  place: Place,
  definition: ObjectOf<'SecretDefinition'>,
  account: AwsAccount,
  by: Deliverer,
): Promise<void> {
  // The operator reads with the runtime's account: another account's secret through that account's role.
  const runtimeAccount = await operatorAccount(context, target);
  if (runtimeAccount.ID !== account.ID && !account.RoleArn) {
    throw new TerminalError(`the External Secrets Operator on runtime ${target.runtime.Name} reads with AWS account ${runtimeAccount.Name}, not ${account.Name}: give account ${account.Name} a RoleArn that ${runtimeAccount.Name} may assume, or keep the secret in ${runtimeAccount.Name}`);
  }
  const role = runtimeAccount.ID === account.ID ? undefined : { arn: String(account.RoleArn), externalId: account.ExternalId };
  await deliverObject(target.cluster, secretStore(place, account.DefaultRegion, role), by, context.signal);
  await deliverObject(target.cluster, externalSecret(place, definition.Name, `${definition.ID}.${definition.Generation ?? 1}`, deliveryLabels(by)), by, context.signal);
}

/** Whether the operator synced the ExternalSecret, as its Ready condition says; on a simulated cluster no operator runs, and nothing is waited for. */
export async function syncState(target: ReadyRuntime, place: Place, signal: AbortSignal): Promise<{ synced: true; note?: string } | { synced: false; why: string }> {
  if (await isSimulatedCluster(target.cluster, signal)) return { synced: true, note: 'a simulated cluster runs no operator to sync it' };
  const live = await target.cluster.get(externalSecretRef(place), signal);
  const ready = findCondition(conditionsOf({ Conditions: ((live?.status as { conditions?: unknown[] } | undefined)?.conditions ?? []) }), 'Ready');
  if (ready?.Status === 'True') return { synced: true };
  return { synced: false, why: `the External Secrets Operator has not synced ExternalSecret ${place.namespace}/${place.name} yet${ready?.Message ? `: ${ready.Message}` : ''}` };
}

/** Removes the instance's operator objects and the Secret the operator made (at once: not left to the garbage collector, which would take a direct delivery's Secret of the same name with it). */
export async function withdrawFromOperator(cluster: KubernetesClient, place: Place, by: Deliverer, signal: AbortSignal): Promise<void> {
  for (const ref of [externalSecretRef(place), { apiVersion: EXTERNAL_SECRETS_API, kind: 'SecretStore', ...place }, { apiVersion: 'v1', kind: 'Secret', ...place }] satisfies ResourceRef[]) {
    await withdrawObject(cluster, ref, by, signal);
  }
}

const externalSecretRef = (place: Place): ResourceRef => ({ apiVersion: EXTERNAL_SECRETS_API, kind: 'ExternalSecret', ...place });

function secretStore(place: Place, region: string, role: { arn: string; externalId?: string | undefined } | undefined): Manifest {
  return {
    apiVersion: EXTERNAL_SECRETS_API,
    kind: 'SecretStore',
    metadata: { name: place.name, namespace: place.namespace },
    spec: { provider: { aws: { service: 'SecretsManager', region, ...(role && { role: role.arn }), ...(role?.externalId && { externalID: role.externalId }) } } },
  };
}

/** Every key of the store's secret `storedName` into the Kubernetes Secret of the instance's name, which the ExternalSecret owns (labelled as the instance's, so it is known as threeport's). */
function externalSecret(place: Place, storedName: string, revision: string, labels: Record<string, string>): Manifest {
  return {
    apiVersion: EXTERNAL_SECRETS_API,
    kind: 'ExternalSecret',
    metadata: { name: place.name, namespace: place.namespace, annotations: { [FORCE_SYNC]: revision } },
    spec: {
      refreshInterval: REFRESH_INTERVAL,
      secretStoreRef: { name: place.name, kind: 'SecretStore' },
      target: { name: place.name, creationPolicy: 'Owner', template: { metadata: { labels } } },
      dataFrom: [{ extract: { key: storedName } }],
    },
  };
}
