/**
 * The External Secrets Operator's objects that bring a Secrets Manager secret into a workload's
 * namespace: a SecretStore (how to reach the store) and an ExternalSecret (which secret, into
 * which Kubernetes Secret), both named after the secret instance. On a cluster threeport made in
 * EKS the operator's service account assumes the runtime's external-secrets role and the store
 * needs no keys; elsewhere the store reads the AWS account's keys from a Secret beside it.
 */
import type { Manifest } from '../../model/manifest.ts';

export const EXTERNAL_SECRETS_API = 'external-secrets.io/v1';
/** Changing this annotation's value makes the operator sync at once (not at its next refresh). */
export const FORCE_SYNC = 'force-sync';
const REFRESH_INTERVAL = '1h';

export interface StoreAccess {
  region: string;
  /** The Secret (beside the store) holding the account's keys, as accessKeyId / secretAccessKey; none when the operator's service account has a role. */
  keysSecret?: string;
  /** A role to assume with those keys (the account's RoleArn). */
  role?: string;
  externalId?: string;
}

export const ACCESS_KEY_ID = 'accessKeyId';
export const SECRET_ACCESS_KEY = 'secretAccessKey';

export function secretStore(name: string, namespace: string, access: StoreAccess, labels: Record<string, string>): Manifest {
  const auth = access.keysSecret
    ? { auth: { secretRef: { accessKeyIDSecretRef: { name: access.keysSecret, key: ACCESS_KEY_ID }, secretAccessKeySecretRef: { name: access.keysSecret, key: SECRET_ACCESS_KEY } } } }
    : {};
  return {
    apiVersion: EXTERNAL_SECRETS_API,
    kind: 'SecretStore',
    metadata: { name, namespace, labels },
    spec: {
      provider: {
        aws: {
          service: 'SecretsManager',
          region: access.region,
          ...auth,
          ...(access.role && { role: access.role }),
          ...(access.externalId && { externalID: access.externalId }),
        },
      },
    },
  };
}

/** Every key of the store's secret `storedName` into the Kubernetes Secret `name`, which the ExternalSecret owns (it goes when the ExternalSecret does). */
export function externalSecret(name: string, namespace: string, storedName: string, revision: number, labels: Record<string, string>): Manifest {
  return {
    apiVersion: EXTERNAL_SECRETS_API,
    kind: 'ExternalSecret',
    metadata: { name, namespace, labels, annotations: { [FORCE_SYNC]: String(revision) } },
    spec: {
      refreshInterval: REFRESH_INTERVAL,
      secretStoreRef: { name, kind: 'SecretStore' },
      target: { name, creationPolicy: 'Owner', template: { metadata: { labels } } },
      dataFrom: [{ extract: { key: storedName } }],
    },
  };
}
