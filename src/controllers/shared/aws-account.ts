/**
 * The AWS account a runtime's cloud resources (DNS zones, secrets…) belong to — the one its
 * definition names in InfraProviderAccountName, else the default account — and the clients that
 * act in an account.
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { RetryableError, TerminalError } from '../../controller/errors.ts';
import type { AwsAccountAccess } from '../../platform/aws/credentials.ts';
import { AwsProblem } from '../../platform/aws/errors.ts';
import type { RuntimeInstance } from './runtime-cluster.ts';

export type AwsAccount = ObjectOf<'AwsAccount'>;

export async function awsAccountOfRuntime(api: ApiClient, runtime: RuntimeInstance): Promise<AwsAccount | { waiting: string }> {
  const definition = await api.kind('KubernetesRuntimeDefinition').get(runtime.KubernetesRuntimeDefinitionID);
  const named = definition.InfraProviderAccountName ? String(definition.InfraProviderAccountName) : undefined;
  const account = named ? await api.kind('AwsAccount').findByName(named) : (await api.kind('AwsAccount').list({ defaultaccount: true }, { size: 1 })).objects[0];
  if (account) return account;
  return {
    waiting: named
      ? `AWS account ${named} (the InfraProviderAccountName of runtime definition ${definition.Name}) does not exist: create it`
      : `no AWS account to use for runtime ${runtime.Name}: create an AwsAccount with DefaultAccount true, or name one in its definition's InfraProviderAccountName`,
  };
}

/** How threeport reaches the account: its keys decrypted, or its role. */
export function accessOf(account: AwsAccount, decrypt: (value: unknown) => unknown): AwsAccountAccess {
  return {
    name: account.Name,
    region: account.DefaultRegion,
    ...(account.AccessKeyID && { accessKeyId: String(decrypt(account.AccessKeyID)) }),
    ...(account.SecretAccessKey && { secretAccessKey: String(decrypt(account.SecretAccessKey)) }),
    ...(account.RoleArn && { roleArn: account.RoleArn }),
    ...(account.ExternalId && { externalId: account.ExternalId }),
  };
}

/**
 * An AWS failure as the runtime should treat it: terminal when only a change to the object can fix
 * it (bad input, a name taken), retried with backoff otherwise — also when the fix is made in AWS
 * (a permission, a quota, a key), which changes nothing threeport would see.
 */
export function asReconcileError(error: unknown): never {
  if (!(error instanceof AwsProblem)) throw error;
  if (error.fixedElsewhere) throw new RetryableError(error.message, { cause: error });
  throw error.permanent ? new TerminalError(error.message, { cause: error }) : new RetryableError(error.message, { cause: error });
}

/**
 * The IAM role threeport made for a support service (external-dns, cert-manager…) when it made the
 * runtime's EKS cluster (its inventory's `role/<service>`): the service's pods assume it through
 * the cluster's OIDC provider, so no keys need go into the cluster. Undefined for other clusters.
 */
export async function supportServiceRoleOf(api: ApiClient, runtimeId: number, service: string): Promise<string | undefined> {
  const [eks] = await api.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtimeId });
  const resources = (eks?.ResourceInventory as { Resources?: Record<string, { arn?: string }> } | undefined)?.Resources;
  return resources?.[`role/${service}`]?.arn;
}
