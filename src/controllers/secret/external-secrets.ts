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
import { configuredEndpoint } from '../../platform/aws/endpoints.ts';
import type { KubernetesClient, ResourceRef } from '../../platform/kubernetes/index.ts';
import { accessOf, awsAccountOfRuntime, supportServiceRoleOf, type AwsAccount } from '../shared/aws-account.ts';
import { deliverObject, deliveryLabels, withdrawObject, type Deliverer } from '../shared/delivered-secret.ts';
import { isSimulatedCluster, type ReadyRuntime } from '../shared/runtime-cluster.ts';
import { deliverAccountKeys } from '../support-services/account-keys.ts';
import { externalSecretsValues } from '../support-services/service-values.ts';
import { ensureSupportService, SUPPORT_SERVICE_POLL_MS, type SupportServiceState } from '../support-services/support-services.ts';
import type { Store } from './secret-definition.ts';

export const EXTERNAL_SECRETS_API = 'external-secrets.io/v1';
/** Changing this annotation's value makes the operator sync at once (not at its next refresh). */
export const FORCE_SYNC = 'force-sync';
const REFRESH_INTERVAL = '1h';

type Place = { namespace: string; name: string };

type Waiting = { waiting: string; requeueAfterMs: number };

/** What the operator on a runtime reads with: the runtime's AWS account, through the role threeport made for it on EKS (`workloadRole`) or with the account's keys. */
export interface OperatorCredentials {
  account: AwsAccount;
  workloadRole?: string;
}

export async function operatorCredentials(context: ReconcileContext, target: ReadyRuntime): Promise<OperatorCredentials | Waiting> {
  const account = await awsAccountOfRuntime(context.client, target.runtime);
  if ('waiting' in account) return { waiting: account.waiting, requeueAfterMs: SUPPORT_SERVICE_POLL_MS };
  const workloadRole = await supportServiceRoleOf(context.client, target.runtime.ID, 'external-secrets');
  return { account, ...(workloadRole && { workloadRole }) };
}

/** The operator on the runtime, reading with the runtime's credentials. */
export async function ensureOperator(context: ReconcileContext, target: ReadyRuntime, credentials: OperatorCredentials, controlPlaneId: string): Promise<SupportServiceState> {
  const { account, workloadRole } = credentials;
  const values = externalSecretsValues({ workloadRole, endpoints: { secretsManager: configuredEndpoint('SECRETS_MANAGER'), sts: configuredEndpoint('STS') } });
  if (workloadRole) return ensureSupportService(context, target, 'external-secrets', values);
  const access = accessOf(account, (value) => context.decrypt(value));
  if (!access.accessKeyId || !access.secretAccessKey) {
    throw new TerminalError(`AWS account ${account.Name} has no access keys for the External Secrets Operator on runtime ${target.runtime.Name} (a cluster threeport did not make in EKS has no role for it): give the account an AccessKeyID and SecretAccessKey`);
  }
  return ensureSupportService(context, target, 'external-secrets', values, (release) => deliverAccountKeys(target.cluster, 'external-secrets', access, release, controlPlaneId, context.signal));
}

/**
 * The roles the operator assumes, in turn, to read a secret of `storeAccount`: with keys, the
 * runtime account's own RoleArn first (its keys are only for assuming it, as everywhere in
 * threeport); for another account, that account's RoleArn. The ExternalId goes with the last.
 */
function rolesFor(target: ReadyRuntime, credentials: OperatorCredentials, storeAccount: AwsAccount): { chain: string[]; externalId?: string } {
  const { account: runtimeAccount, workloadRole } = credentials;
  const chain: string[] = [];
  if (!workloadRole && runtimeAccount.RoleArn) chain.push(runtimeAccount.RoleArn);
  if (storeAccount.ID !== runtimeAccount.ID) {
    if (!storeAccount.RoleArn) {
      throw new TerminalError(`the External Secrets Operator on runtime ${target.runtime.Name} reads with AWS account ${runtimeAccount.Name}, not ${storeAccount.Name}: give account ${storeAccount.Name} a RoleArn that ${runtimeAccount.Name} may assume, or keep the secret in ${runtimeAccount.Name}`);
    }
    chain.push(storeAccount.RoleArn);
  }
  const last = chain.length === 0 ? undefined : chain.at(-1) === storeAccount.RoleArn ? storeAccount : runtimeAccount;
  return { chain, ...(last?.ExternalId && { externalId: last.ExternalId }) };
}

/** The SecretStore and the ExternalSecret of one secret instance, reading where its definition keeps the values, written as its own (a user's objects of those names are refused). */
export async function deliverThroughOperator(context: ReconcileContext, target: ReadyRuntime, credentials: OperatorCredentials, place: Place, store: Store, revision: string, by: Deliverer): Promise<void> {
  const storeAccount = store.AwsAccountID === credentials.account.ID ? credentials.account : await context.client.kind('AwsAccount').get(store.AwsAccountID);
  const roles = rolesFor(target, credentials, storeAccount);
  await deliverObject(target.cluster, secretStore(place, store.Region, roles), by, context.signal);
  await deliverObject(target.cluster, externalSecret(place, store.Name, revision, deliveryLabels(by)), by, context.signal);
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

function secretStore(place: Place, region: string, roles: { chain: string[]; externalId?: string }): Manifest {
  const role = roles.chain.at(-1);
  const before = roles.chain.slice(0, -1);
  return {
    apiVersion: EXTERNAL_SECRETS_API,
    kind: 'SecretStore',
    metadata: { name: place.name, namespace: place.namespace },
    spec: {
      provider: {
        aws: { service: 'SecretsManager', region, ...(before.length > 0 && { additionalRoles: before }), ...(role && { role }), ...(role && roles.externalId && { externalID: roles.externalId }) },
      },
    },
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
