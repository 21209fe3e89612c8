import { canonicalRepository, parseImageReference } from '../container-images.ts';
import { parseEnvironments } from '../delivery-policy.ts';
import { integer, json, ref, string, time } from '../fields.ts';
import { defineKind, type ApiObject } from '../kind.ts';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** What makes two reports one build: the repository (canonical), the tag and the digest. */
function deriveBuildKey(object: ApiObject): string | undefined {
  const repository = String(object.Repository ?? '');
  const tag = String(object.Tag ?? '');
  if (!repository || /[\s@]/.test(repository) || parseImageReference(repository).tag !== undefined) {
    return 'Repository must be an image repository without tag or digest, e.g. ghcr.io/acme/shop';
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return 'Tag must be a container image tag (letters, digits, _ . -; at most 128)';
  if (object.Digest !== undefined && object.Digest !== null && !DIGEST.test(String(object.Digest))) return 'Digest must be sha256: and 64 lowercase hex digits';
  object.BuildKey = `${canonicalRepository(repository)}:${tag}@${object.Digest ?? ''}`;
  object.CanonicalRepository = canonicalRepository(repository);
  return undefined;
}

export const ImageBuild = defineKind({
  name: 'ImageBuild',
  domain: 'delivery',
  owners: 'delivery',
  description:
    'A new build of a container image, reported by CI (`tptctl notify image-build` or one POST). Reporting the same build again returns the one already recorded. The delivery controller starts a Delivery for each delivery policy whose environments have instances using the repository.',
  shape: 'plain',
  controller: 'delivery',
  createReturnsExisting: ['BuildKey'],
  uniqueTogether: [['BuildKey']],
  fields: {
    Repository: string({ required: true, immutable: true, description: 'e.g. ghcr.io/acme/shop (no tag).' }),
    Tag: string({ required: true, immutable: true }),
    Digest: string({ immutable: true, description: 'sha256:… of the image manifest: what environments are pinned to. Without one they run the tag.' }),
    SourceCommit: string({ immutable: true }),
    CIRunURL: string({ query: false, immutable: true }),
    BuiltAt: time({ immutable: true }),
    BuildKey: string({ owner: 'server', query: false, description: 'repository:tag@digest (canonical): one build, however often reported.' }),
    CanonicalRepository: string({ owner: 'server', indexed: true, description: 'The repository as container runtimes name it (docker.io/library/nginx for nginx).' }),
  },
  rules: { derive: deriveBuildKey },
});

export const DeliveryPolicy = defineKind({
  name: 'DeliveryPolicy',
  domain: 'delivery',
  owners: 'platform',
  description:
    'How new builds reach instances: the environments in promotion order (each a set of workload and Helm workload instances), and the gate a build passes in each before it goes to the next (healthy for SoakSeconds, an Approval, a time Window in UTC).',
  shape: 'definition',
  fields: {
    Environments: json({
      required: true,
      description:
        '[{Name, WorkloadInstances: [names], HelmWorkloadInstances: [names], Gate: {SoakSeconds, Approval, Window: {Days: [Mon…], Start: "HH:MM", End: "HH:MM"}}}], first to last.',
    }),
    RolloutTimeoutSeconds: integer({
      default: 600,
      description: 'How long an environment may take to run the new build and be Healthy; after that it is rolled back to the previous image and the delivery stops.',
    }),
  },
  rules: {
    validate(object) {
      const environments = parseEnvironments(object.Environments);
      if ('problem' in environments) return environments.problem;
      const timeout = Number(object.RolloutTimeoutSeconds ?? 600);
      if (!Number.isSafeInteger(timeout) || timeout < 5 || timeout > 86_400) return 'RolloutTimeoutSeconds must be between 5 and 86400';
      return undefined;
    },
  },
});

export const Delivery = defineKind({
  name: 'Delivery',
  domain: 'delivery',
  owners: 'developer',
  description:
    "One build going through one delivery policy's environments: pinned by digest, rolled out, gated, promoted — or rolled back to the previous image when an environment does not become Healthy. Approvals are its one desired-state field a person writes (`tptctl approve`).",
  shape: 'instance',
  controller: 'delivery',
  uniqueTogether: [['ImageBuildID', 'DeliveryPolicyID']],
  fields: {
    ImageBuildID: ref('ImageBuild', { required: true, immutable: true, cascade: true }),
    DeliveryPolicyID: ref('DeliveryPolicy', { required: true, immutable: true, cascade: true }),
    Approvals: json({ description: '[{Environment, Note}]: environments whose approval gate a person passed.' }),
    Image: string({ owner: 'controller', description: 'The reference delivered: repository:tag@digest.' }),
    Repository: string({ owner: 'controller', description: 'The canonical repository delivered (a newer delivery of it supersedes this one).' }),
    Phase: string({
      owner: 'controller',
      description:
        'RollingOut, Soaking, AwaitingApproval, WaitingForWindow, Complete, RolledBack (an environment failed; promotion stopped) or Superseded (a newer build of the repository, or another writer of an instance\'s pin, took over).',
    }),
    Environment: string({ owner: 'controller', description: 'The environment the build is in now.' }),
    Progress: json({
      owner: 'controller',
      description:
        '[{Name, State, Message, StartedAt, HealthyAt, PassedAt, Instances: [{Kind, ID, Name, Previous, Pinned}]}] per environment reached; Previous is what the instance ran before (for rollback), Pinned that this delivery pinned it.',
    }),
  },
  rules: {
    validate(object) {
      const approvals = object.Approvals;
      if (approvals === undefined || approvals === null) return undefined;
      const valid = Array.isArray(approvals) && approvals.every((entry) => typeof entry === 'object' && entry !== null && typeof (entry as Record<string, unknown>).Environment === 'string');
      return valid ? undefined : 'Approvals must be a list of {Environment, Note}';
    },
  },
});

export const ImageUse = defineKind({
  name: 'ImageUse',
  domain: 'delivery',
  // Written by the workload and Helm workload controllers (their groups' alsoWrites), not by agents or developers: deliveries trust it.
  owners: 'platform',
  description:
    'A repository a workload definition, Helm workload definition or Helm workload instance runs, recorded by its controller: how a new build finds what uses it without reading every definition.',
  shape: 'plain',
  uniqueTogether: [['Repository', 'UsedBy']],
  fields: {
    Repository: string({ required: true, indexed: true, description: 'Canonical repository, e.g. docker.io/library/nginx.' }),
    UsedBy: string({ owner: 'server', description: 'Kind/ID of what uses it.' }),
    WorkloadDefinitionID: ref('WorkloadDefinition', { cascade: true }),
    HelmWorkloadDefinitionID: ref('HelmWorkloadDefinition', { cascade: true }),
    HelmWorkloadInstanceID: ref('HelmWorkloadInstance', { cascade: true }),
  },
  rules: {
    derive(object) {
      const users = (['WorkloadDefinitionID', 'HelmWorkloadDefinitionID', 'HelmWorkloadInstanceID'] as const).filter((key) => object[key] !== undefined && object[key] !== null);
      if (users.length !== 1) return 'an image use names exactly one of WorkloadDefinitionID, HelmWorkloadDefinitionID, HelmWorkloadInstanceID';
      object.UsedBy = `${users[0]!.slice(0, -2)}/${String(object[users[0]!])}`;
      return undefined;
    },
  },
});
