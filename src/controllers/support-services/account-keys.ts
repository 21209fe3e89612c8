/**
 * An AWS account's keys for a support service that calls AWS (external-dns, the External Secrets
 * Operator) on a runtime without a workload identity for it: a Secret in the service's own
 * namespace — never in a workload's, never in an API object, whose reads would return them —
 * labelled as its Helm workload instance's, so uninstalling the service removes them. The
 * service reads them as environment variables.
 */
import type { KubernetesClient } from '../../platform/kubernetes/index.ts';
import type { AwsAccountAccess } from '../../platform/aws/credentials.ts';
import { supportServices, type SupportServiceName } from '../../model/support-services.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { labels } from '../../platform/kubernetes/index.ts';

const ACCESS_KEY_ID = 'accessKeyId';
const SECRET_ACCESS_KEY = 'secretAccessKey';

/** The Secret of a service's keys: `threeport-<service>-aws`. */
export const accountKeysSecret = (service: SupportServiceName): string => `threeport-${service}-aws`;

export async function deliverAccountKeys(cluster: KubernetesClient, service: SupportServiceName, access: AwsAccountAccess, release: { ID: number }, controlPlaneId: string, signal: AbortSignal): Promise<void> {
  const { namespace } = supportServices[service];
  const owner = { 'app.kubernetes.io/managed-by': 'threeport', [labels.HELM_WORKLOAD_INSTANCE]: String(release.ID), [CONTROL_PLANE_LABEL]: controlPlaneId };
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: owner } }, { signal, force: true });
  await cluster.apply(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: accountKeysSecret(service), namespace, labels: owner }, type: 'Opaque', stringData: { [ACCESS_KEY_ID]: String(access.accessKeyId), [SECRET_ACCESS_KEY]: String(access.secretAccessKey) } },
    { signal, force: true },
  );
}

/** The environment variables the AWS SDKs read the keys from, taken from the service's Secret. */
export function accountKeysEnv(service: SupportServiceName): { name: string; valueFrom: unknown }[] {
  const fromSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: accountKeysSecret(service), key } } });
  return [fromSecret('AWS_ACCESS_KEY_ID', ACCESS_KEY_ID), fromSecret('AWS_SECRET_ACCESS_KEY', SECRET_ACCESS_KEY)];
}
