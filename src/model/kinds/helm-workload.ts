import { association, json, ref, string } from '../fields.ts';
import { imagePinsField, imagePinsProblem } from '../image-pins.ts';
import { defineKind } from '../kind.ts';

export const HelmWorkloadDefinition = defineKind({
  name: 'HelmWorkloadDefinition',
  domain: 'helm-workload',
  owners: 'developer',
  description: 'A workload packaged as a Helm chart, with default values.',
  shape: 'definition',
  controller: 'helm-workload',
  fields: {
    Repo: string({ required: true, description: 'Chart repository: an https:// or oci:// URL.' }),
    Chart: string({ required: true }),
    ChartVersion: string(),
    ValuesDocument: string({ query: false, description: 'Helm values (YAML) inherited by instances.' }),
    HelmWorkloadInstances: association('HelmWorkloadInstance'),
    AdditionalResources: json({ description: 'Extra Kubernetes manifests deployed with the chart.' }),
  },
});

export const HelmWorkloadInstance = defineKind({
  name: 'HelmWorkloadInstance',
  domain: 'helm-workload',
  owners: 'developer',
  reportedByAgents: true,
  description: 'A release of a Helm workload definition on a Kubernetes runtime.',
  shape: 'instance',
  controller: 'helm-workload',
  fields: {
    ValuesDocument: string({ query: false, description: 'Helm values merged over the definition’s.' }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', {
      blocksDelete: true,
      defaultToFlagged: 'DefaultRuntime',
      description: 'The runtime to deploy to; when left out, the runtime with DefaultRuntime true.',
    }),
    ReleaseNamespace: string(),
    HelmWorkloadDefinitionID: ref('HelmWorkloadDefinition', { required: true, blocksDelete: true }),
    AdditionalResources: json(),
    Images: imagePinsField,
  },
  rules: { validate: (object) => imagePinsProblem(object.Images) },
});
