import { association, json, ref } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const SecretDefinition = defineKind({
  name: 'SecretDefinition',
  domain: 'secret',
  owners: 'developer',
  description: 'A secret kept in a provider’s secret store (AWS Secrets Manager) and synced to workloads.',
  shape: 'definition',
  controller: 'secret',
  fields: {
    AwsAccountID: ref('AwsAccount'),
    Data: json({
      required: true,
      transient: true,
      encrypted: true,
      description: 'Key/value pairs. Never stored: each value is encrypted and handed to the secret controller.',
    }),
    SecretInstances: association('SecretInstance'),
  },
});

export const SecretInstance = defineKind({
  name: 'SecretInstance',
  domain: 'secret',
  owners: 'developer',
  description: 'A secret made available to a workload on a Kubernetes runtime.',
  shape: 'instance',
  controller: 'secret',
  fields: {
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    SecretDefinitionID: ref('SecretDefinition', { required: true, blocksDelete: true }),
    WorkloadInstanceID: ref('WorkloadInstance'),
    HelmWorkloadInstanceID: ref('HelmWorkloadInstance'),
  },
});
