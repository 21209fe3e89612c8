import { association, boolean, integer, json, nested, ref, string, time } from '../fields.ts';
import { defineKind, type ApiObject } from '../kind.ts';
import { imagePinsField, imagePinsProblem } from '../image-pins.ts';
import { resourceKeyOf } from '../resource-key.ts';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function overridesProblem(overrides: unknown): string | undefined {
  if (overrides === undefined || overrides === null) return undefined;
  if (!isRecord(overrides)) return 'Overrides must be an object: {"Kind/name": {merge patch}}';
  for (const [key, patch] of Object.entries(overrides)) {
    const parts = key.split('/');
    const kindAndName = parts.length === 2 && parts.every(Boolean);
    const resourceKey = parts.length === 4 && parts[1] !== '' && parts[3] !== '';
    if (!kindAndName && !resourceKey) {
      return `Overrides key ${JSON.stringify(key)} must be Kind/name or group/Kind/namespace/name`;
    }
    if (!isRecord(patch)) return `Overrides.${key} must be an object (a JSON merge patch of the resource)`;
    if ('kind' in patch || 'apiVersion' in patch || (isRecord(patch.metadata) && ('name' in patch.metadata || 'namespace' in patch.metadata))) {
      return `Overrides.${key} must not change the resource's apiVersion, kind, name or namespace`;
    }
  }
  return undefined;
}

/** The natural key of a manifest's resource, kept in ResourceKey; a JSONDefinition without one is a 400. */
function deriveResourceKey(object: ApiObject): string | undefined {
  const key = resourceKeyOf(object.JSONDefinition);
  if (typeof key !== 'string') return `JSONDefinition ${key.problem}`;
  object.ResourceKey = key;
  return undefined;
}

const resourceKey = string({
  owner: 'server',
  description: 'group/Kind/namespace/name of the resource (derived from JSONDefinition); unique per parent.',
});

export const WorkloadDefinition = defineKind({
  name: 'WorkloadDefinition',
  domain: 'workload',
  owners: 'developer',
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
  owners: 'developer',
  description: 'One Kubernetes manifest of a workload definition, split out by the workload controller.',
  shape: 'plain',
  uniqueTogether: [['WorkloadDefinitionID', 'ResourceKey']],
  fields: {
    JSONDefinition: json({ required: true, description: 'The manifest as JSON.' }),
    WorkloadDefinitionID: ref('WorkloadDefinition', { required: true, cascade: true }),
    ResourceKey: resourceKey,
  },
  rules: { derive: deriveResourceKey },
});

export const WorkloadInstance = defineKind({
  name: 'WorkloadInstance',
  domain: 'workload',
  owners: 'developer',
  reportedByAgents: true,
  description: 'A deployment of a workload definition to a Kubernetes runtime.',
  shape: 'instance',
  controller: 'workload',
  fields: {
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', {
      blocksDelete: true,
      defaultToFlagged: 'DefaultRuntime',
      description: 'The runtime to deploy to; when left out, the runtime with DefaultRuntime true.',
    }),
    WorkloadDefinitionID: ref('WorkloadDefinition', { required: true, blocksDelete: true }),
    WorkloadResourceInstances: association('WorkloadResourceInstance'),
    Events: nested('WorkloadEvent', 'WorkloadInstanceID'),
    Contributions: json({
      owner: 'controller',
      description:
        "What other controllers add to this instance's own resources, by contributor (e.g. a bucket instance): environment variables on every container, pod template annotations, service account annotations. Applied with the definition's resources, restored by drift correction, removed when the contributor goes.",
    }),
    Images: imagePinsField,
    Overrides: json({
      description:
        'Per-instance differences from the definition, as a JSON merge patch per resource: {"Deployment/web": {"spec": {"replicas": 3}}}. Keys are Kind/name (or group/Kind/namespace/name when a name is not unique); null removes a field.',
    }),
    DriftPolicy: string({
      default: 'Correct',
      oneOf: ['Correct', 'DetectOnly'],
      description: 'What to do when someone changes or deletes a managed resource in the cluster: restore it (Correct) or only record an event (DetectOnly).',
    }),
  },
  rules: { validate: (object) => imagePinsProblem(object.Images) ?? overridesProblem(object.Overrides) },
});

export const WorkloadResourceInstance = defineKind({
  name: 'WorkloadResourceInstance',
  domain: 'workload',
  owners: 'developer',
  reportedByAgents: true,
  description: 'One Kubernetes resource of a workload instance as deployed, with its live state.',
  shape: 'plain',
  uniqueTogether: [['WorkloadInstanceID', 'ResourceKey']],
  fields: {
    JSONDefinition: json({ required: true, description: 'The manifest as applied.' }),
    WorkloadInstanceID: ref('WorkloadInstance', { required: true, cascade: true }),
    LastOperation: string({ owner: 'controller', description: 'Last Kubernetes operation performed.' }),
    Reconciled: boolean({ default: false }),
    RuntimeDefinition: json({ owner: 'controller', description: 'The resource as stored by the Kubernetes API.' }),
    Events: nested('WorkloadEvent', 'WorkloadResourceInstanceID'),
    ScheduledForDeletion: time({ description: 'Another controller asks for this resource to be removed.' }),
    WorkloadResourceDefinitionID: ref('WorkloadResourceDefinition', {
      description: 'The manifest of the definition it comes from; absent for resources threeport or other controllers add (the managed namespace, a gateway route).',
    }),
    ResourceKey: resourceKey,
  },
  rules: { derive: deriveResourceKey },
});

export const WorkloadEvent = defineKind({
  name: 'WorkloadEvent',
  domain: 'workload',
  owners: 'report',
  description: 'A Kubernetes event concerning a workload, reported from the cluster.',
  shape: 'plain',
  uniqueTogether: [['RuntimeEventUID']],
  fields: {
    RuntimeEventUID: string({ required: true, description: 'UID of the Kubernetes event (unique: a report of the same event updates it).' }),
    Type: string({ required: true }),
    Reason: string({ required: true }),
    Message: string({ required: true }),
    Timestamp: time({ required: true, description: 'Time of the event in the cluster (its last occurrence).' }),
    Count: integer({ default: 1, description: 'How many times the cluster saw it.' }),
    WorkloadInstanceID: ref('WorkloadInstance', { cascade: true }),
    WorkloadResourceInstanceID: ref('WorkloadResourceInstance', { cascade: true }),
    HelmWorkloadInstanceID: ref('HelmWorkloadInstance', { cascade: true }),
  },
});

/** One entry of a WorkloadPlan's Changes. */
export interface PlannedChange {
  Instance: string;
  Runtime?: string;
  Resource?: string;
  Action?: 'create' | 'update' | 'unchanged' | 'delete';
  Before?: unknown;
  After?: unknown;
  Problem?: string;
}

export const WorkloadPlan = defineKind({
  name: 'WorkloadPlan',
  domain: 'workload',
  owners: 'developer',
  description:
    "What a proposed change of a workload definition or instance would do in each cluster, before it is made: the workload controller renders the instance's resources with the proposal and server-side-applies them as a dry run against the live ones. `tptctl apply --dry-run` makes one per changed workload object and removes it after.",
  shape: 'plain',
  controller: 'workload',
  fields: {
    Target: string({ required: true, immutable: true, oneOf: ['WorkloadDefinition', 'WorkloadInstance'], description: 'The kind of the object the proposal changes or creates.' }),
    TargetName: string({ required: true, immutable: true, description: 'Its name (existing, or to be created).' }),
    Proposed: json({
      required: true,
      immutable: true,
      description:
        'The desired state proposed: a definition\'s {YAMLDocument}; an instance\'s {WorkloadDefinitionID, KubernetesRuntimeInstanceID, Overrides, Images}, with {YAMLDocument} when its definition is proposed too.',
    }),
    Changes: json({
      owner: 'controller',
      description: '[{Instance, Runtime, Resource, Action: create|update|unchanged|delete, Before, After, Problem}]: per affected instance and resource, the live object and what the cluster would store.',
    }),
    Summary: string({ owner: 'controller', description: 'One line: how many instances and resources would change.' }),
  },
});
