import { association, json, nested, ref, string, time, boolean } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const WorkloadDefinition = defineKind({
  name: 'WorkloadDefinition',
  domain: 'workload',
  description: 'A workload as Kubernetes manifests: the reusable configuration of an application.',
  shape: 'definition',
  controller: 'workload',
  fields: {
    YAMLDocument: string({ required: true, query: false, description: 'Multi-document Kubernetes YAML.' }),
    WorkloadResourceDefinitions: association('WorkloadResourceDefinition'),
    WorkloadInstances: association('WorkloadInstance'),
  },
});

export const WorkloadResourceDefinition = defineKind({
  name: 'WorkloadResourceDefinition',
  domain: 'workload',
  description: 'One Kubernetes manifest of a workload definition, split out by the workload controller.',
  shape: 'plain',
  fields: {
    JSONDefinition: json({ required: true, description: 'The manifest as JSON.' }),
    WorkloadDefinitionID: ref('WorkloadDefinition', { required: true }),
  },
});

export const WorkloadInstance = defineKind({
  name: 'WorkloadInstance',
  domain: 'workload',
  description: 'A deployment of a workload definition to a Kubernetes runtime.',
  shape: 'instance',
  controller: 'workload',
  fields: {
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true, blocksDelete: true }),
    WorkloadDefinitionID: ref('WorkloadDefinition', { required: true, blocksDelete: true }),
    WorkloadResourceInstances: association('WorkloadResourceInstance'),
    Events: nested('WorkloadEvent', 'WorkloadInstanceID'),
  },
});

export const WorkloadResourceInstance = defineKind({
  name: 'WorkloadResourceInstance',
  domain: 'workload',
  description: 'One Kubernetes resource of a workload instance as deployed, with its live state.',
  shape: 'plain',
  fields: {
    JSONDefinition: json({ required: true, description: 'The manifest as applied.' }),
    WorkloadInstanceID: ref('WorkloadInstance', { required: true }),
    LastOperation: string({ owner: 'controller', description: 'Last Kubernetes operation performed.' }),
    Reconciled: boolean({ default: false }),
    RuntimeDefinition: json({ owner: 'controller', description: 'The resource as stored by the Kubernetes API.' }),
    Events: nested('WorkloadEvent', 'WorkloadResourceInstanceID'),
    ScheduledForDeletion: time({ description: 'Another controller asks for this resource to be removed.' }),
  },
});

export const WorkloadEvent = defineKind({
  name: 'WorkloadEvent',
  domain: 'workload',
  description: 'A Kubernetes event concerning a workload, reported from the cluster.',
  shape: 'plain',
  fields: {
    RuntimeEventUID: string({ required: true, description: 'UID of the Kubernetes event (deduplication key).' }),
    Type: string({ required: true }),
    Reason: string({ required: true }),
    Message: string({ required: true }),
    Timestamp: time({ required: true, description: 'Time of the event in the cluster.' }),
    WorkloadInstanceID: ref('WorkloadInstance'),
    WorkloadResourceInstanceID: ref('WorkloadResourceInstance'),
    HelmWorkloadInstanceID: ref('HelmWorkloadInstance'),
  },
});
