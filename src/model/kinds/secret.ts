import { association, integer, json, REDACTED_PLACEHOLDER, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

/** Where a secret definition's values are kept and how they reach the clusters. */
export const secretBackends = ['direct', 'aws-secrets-manager'] as const;
export type SecretBackend = (typeof secretBackends)[number];

/** The backend a definition uses: the one it names, else Secrets Manager when it names an AWS account, else direct. */
export const backendOf = (definition: { Backend?: string | null; AwsAccountID?: number | null }): SecretBackend =>
  (definition.Backend as SecretBackend | undefined | null) ?? (definition.AwsAccountID != null ? 'aws-secrets-manager' : 'direct');

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What is wrong with secret values (key → string), if anything: the key at fault (`badKey`: the key itself) and why. */
export function secretValuesProblem(data: unknown): { key?: string; badKey?: boolean; problem: string } | undefined {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return { problem: 'must be a map of keys to string values' };
  const entries = Object.entries(data);
  if (entries.length === 0) return { problem: 'must hold at least one key' };
  const badKey = entries.find(([key]) => !SECRET_KEY.test(key) || key.length > 253);
  if (badKey) return { key: badKey[0], badKey: true, problem: "cannot name a key of a Kubernetes Secret: use letters, digits, '-', '_' and '.'" };
  const badValue = entries.find(([, value]) => typeof value !== 'string');
  return badValue ? { key: badValue[0], problem: 'must be a string (quote numbers and booleans in YAML)' } : undefined;
}

export const SecretDefinition = defineKind({
  name: 'SecretDefinition',
  domain: 'secret',
  owners: 'developer',
  description: 'Secret values, kept encrypted, delivered to workloads directly or through a cloud secret store (AWS Secrets Manager).',
  shape: 'definition',
  controller: 'secret',
  fields: {
    AwsAccountID: ref('AwsAccount', { blocksDelete: true }),
    Backend: string({
      oneOf: secretBackends,
      description: 'direct: the control plane writes the Kubernetes Secret itself; aws-secrets-manager: the values are kept in AWS Secrets Manager and synced by the External Secrets Operator. Default: aws-secrets-manager when AwsAccountID is set, direct otherwise.',
    }),
    Data: json({
      required: true,
      hidden: true,
      description: 'Key/value pairs (strings). Kept encrypted; returned to no one but the secret controller: every other reader gets the placeholder.',
    }),
    RecoveryWindowDays: integer({ description: 'aws-secrets-manager: days AWS keeps a deleted definition’s secret recoverable (7–30). @default 30' }),
    Store: json({ owner: 'controller', description: 'aws-secrets-manager: where the values are kept, {AwsAccountID, Region, Name, Arn}; removed from there when the definition goes or moves.' }),
    SecretInstances: association('SecretInstance'),
  },
  rules: {
    validate(definition, previous) {
      const data = definition.Data;
      // A client writing back what it read sends the redaction placeholder: the store keeps the values.
      const writtenBack = previous !== undefined && data === REDACTED_PLACEHOLDER;
      if (data !== previous?.Data && !writtenBack) {
        const problem = secretValuesProblem(data);
        if (problem) return problem.badKey ? `Data key ${JSON.stringify(problem.key)} ${problem.problem}` : `Data${problem.key === undefined ? '' : `.${problem.key}`} ${problem.problem}`;
      }
      const window = definition.RecoveryWindowDays;
      if (window != null && (typeof window !== 'number' || window < 7 || window > 30)) return `RecoveryWindowDays must be 7 to 30 (AWS Secrets Manager's range), not ${JSON.stringify(window)}`;
      if (definition.Backend === 'direct' && definition.AwsAccountID != null) return 'a direct secret keeps its values in the control plane: leave AwsAccountID out, or use Backend aws-secrets-manager';
      return undefined;
    },
  },
});

export const SecretInstance = defineKind({
  name: 'SecretInstance',
  domain: 'secret',
  owners: 'developer',
  description: 'A secret delivered to a workload (or Helm workload) on a Kubernetes runtime, as a Kubernetes Secret named after the instance.',
  shape: 'instance',
  controller: 'secret',
  fields: {
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    SecretDefinitionID: ref('SecretDefinition', { required: true, blocksDelete: true }),
    WorkloadInstanceID: ref('WorkloadInstance'),
    HelmWorkloadInstanceID: ref('HelmWorkloadInstance'),
    Delivery: json({ owner: 'controller', description: 'Where the values go: {Backend, KubernetesRuntimeInstanceID, Namespace, SecretName, Workload, RestartDue} (never the values).' }),
  },
  rules: {
    validate(instance) {
      if ((instance.WorkloadInstanceID == null) === (instance.HelmWorkloadInstanceID == null)) return 'a secret instance is for one workload: set WorkloadInstanceID or HelmWorkloadInstanceID (one of them)';
      const name = String(instance.Name ?? '');
      if (!DNS_SUBDOMAIN.test(name) || name.length > 253) return `the secret instance's Name is its Kubernetes Secret's name: "${name}" is not one (lower-case letters, digits, '-' and '.')`;
      return undefined;
    },
  },
});
