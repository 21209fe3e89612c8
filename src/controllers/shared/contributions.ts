/**
 * What other controllers add to a workload instance's own resources: a bucket's name as an
 * environment variable on every container, the role a service account assumes. Each contributor
 * writes its part into the instance's Contributions under its own key; the workload controller
 * applies every part to the definition's manifests as it deploys them, so drift correction keeps
 * them and a definition edit keeps them, and removing the part removes exactly what it added.
 */
import { isDeepStrictEqual as sameJson } from 'node:util';
import type { ReconcileContext } from '../../controller/reconciler.ts';
import { updateWithVersion } from '../../controller/write-back.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';

export interface EnvVar {
  name: string;
  value: string;
}

export interface Contribution {
  /** Who: "S3 bucket instance uploads", for messages. */
  description: string;
  /** Set on every container and init container of every pod template (replacing a variable of the same name). */
  env?: EnvVar[];
  /** Added to the annotations of the service accounts named. */
  serviceAccountAnnotations?: Record<string, Record<string, string>>;
}

/** By contributor: `<Kind>/<ID>` of the object contributing (the workload controller asks it to look again once its part is applied). */
export type Contributions = Record<string, Contribution>;

type Spec = Record<string, unknown>;
type PodTemplate = { metadata?: { annotations?: Record<string, string> }; spec?: Spec };

export function contributionsOf(instance: { Contributions?: unknown }): Contributions {
  const value = instance.Contributions;
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Contributions) : {};
}

/** Where a manifest keeps its pod template, if it has one. */
function podTemplateOf(manifest: Manifest): PodTemplate | undefined {
  const spec = manifest.spec as Spec | undefined;
  if (manifest.kind === 'Pod') return manifest;
  if (manifest.kind === 'CronJob') return ((spec?.jobTemplate as Spec | undefined)?.spec as Spec | undefined)?.template as PodTemplate | undefined;
  return spec?.template as PodTemplate | undefined;
}

/** `manifest` with every contribution applied (in key order, so every replica renders the same); the same object when none applies. */
export function applyContributions(manifest: Manifest, contributions: Contributions): Manifest {
  const parts = Object.keys(contributions)
    .sort()
    .map((key) => contributions[key]!);
  if (parts.length === 0) return manifest;
  const result = structuredClone(manifest);
  const template = podTemplateOf(result);
  for (const part of parts) {
    if (template?.spec) {
      for (const field of ['initContainers', 'containers']) {
        const containers: unknown = template.spec[field];
        if (!Array.isArray(containers)) continue;
        for (const container of containers as { env?: { name: string }[] }[]) {
          if (!part.env?.length) continue;
          // A variable of the same name is replaced where it is, so applying a part twice changes nothing.
          const env: { name: string }[] = [...(container.env ?? [])];
          for (const variable of part.env) {
            const at = env.findIndex((existing) => existing.name === variable.name);
            if (at >= 0) env[at] = { ...variable };
            else env.push({ ...variable });
          }
          container.env = env;
        }
      }
    }
    const accountAnnotations = result.kind === 'ServiceAccount' && result.apiVersion === 'v1' ? part.serviceAccountAnnotations?.[result.metadata.name] : undefined;
    if (accountAnnotations) result.metadata = { ...result.metadata, annotations: { ...result.metadata.annotations, ...accountAnnotations } };
  }
  return sameJson(result, manifest) ? manifest : result;
}

/** Whether `manifest` already has everything `contribution` adds. */
export const includesContribution = (manifest: Manifest, contribution: Contribution): boolean => applyContributions(manifest, { only: contribution }) === manifest;

/** The pod spec of a Pod or of a workload kind's pod template, if the manifest has one. */
export const podSpecOf = (manifest: Manifest): Spec | undefined => podTemplateOf(manifest)?.spec;

const hasPodTemplate = (manifest: Manifest): boolean => Boolean(podSpecOf(manifest));

type WorkloadInstance = ObjectOf<'WorkloadInstance'>;
type ResourceRecord = ObjectOf<'WorkloadResourceInstance'>;

/** Writes the instance's Contributions with this contributor's part set (or gone); the instance as stored. */
async function writePart(context: ReconcileContext, workloadInstanceId: number, key: string, part: Contribution | undefined): Promise<{ instance: WorkloadInstance; others: Contributions }> {
  const instances = context.client.kind('WorkloadInstance');
  let others: Contributions = {};
  // Recomputed on the fresh instance when its controller or agent wrote in between.
  const instance = await updateWithVersion(instances, await instances.get(workloadInstanceId), (current) => {
    const { [key]: written, ...rest } = contributionsOf(current);
    others = rest;
    return sameJson(written, part) ? undefined : { Contributions: part ? { ...rest, [key]: part } : rest };
  });
  return { instance, others };
}

const definitionRecords = async (context: ReconcileContext, workloadInstanceId: number): Promise<ResourceRecord[]> =>
  (await context.client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workloadInstanceId })).filter((record) => !record.ScheduledForDeletion && record.WorkloadResourceDefinitionID !== undefined);

/**
 * Sets this contributor's part of the workload instance's resources and asks the workload
 * controller to apply it; resolves with whether every resource it concerns has it, applied.
 */
export async function contribute(context: ReconcileContext, workloadInstanceId: number, key: string, part: Contribution): Promise<{ settled: boolean }> {
  const { instance } = await writePart(context, workloadInstanceId, key, part);
  const records = await definitionRecords(context, workloadInstanceId);
  const settled = records.filter((record) => concerns(record.JSONDefinition as Manifest, part)).every((record) => record.Reconciled === true && includesContribution(record.JSONDefinition as Manifest, part));
  if (!settled) await context.requestReconcile('WorkloadInstance', instance.ID, `${part.description} changed what it adds to the workload`);
  return { settled };
}

/**
 * Takes this contributor's part (what it added: the caller says, since the instance may have
 * forgotten it already) out of the workload instance's resources; resolves with whether every
 * resource has lost what only this part gave it (a variable or annotation another contributor
 * also sets stays), applied.
 */
export async function withdrawContribution(context: ReconcileContext, workloadInstanceId: number, key: string, part: Contribution): Promise<{ settled: boolean }> {
  const { instance, others } = await writePart(context, workloadInstanceId, key, undefined);
  const stillSet = Object.values(others);
  const own: Contribution = {
    description: part.description,
    env: (part.env ?? []).filter((variable) => !stillSet.some((other) => other.env?.some((kept) => kept.name === variable.name))),
    serviceAccountAnnotations: Object.fromEntries(
      Object.entries(part.serviceAccountAnnotations ?? {}).filter(([account]) => !stillSet.some((other) => other.serviceAccountAnnotations?.[account] !== undefined)),
    ),
  };
  const records = await definitionRecords(context, workloadInstanceId);
  const settled = records.every((record) => record.Reconciled === true && !carriesAny(record.JSONDefinition as Manifest, own));
  if (!settled) await context.requestReconcile('WorkloadInstance', instance.ID, `${part.description} is taken out of the workload`);
  return { settled };
}

/** The contributor that already sets one of the variables `part` sets, if another does (a container can have one value per name). */
export function conflictingContributor(contributions: Contributions, key: string, part: Contribution): { key: string; name: string } | undefined {
  for (const [other, contribution] of Object.entries(contributions)) {
    if (other === key) continue;
    const name = part.env?.find((variable) => contribution.env?.some((set) => set.name === variable.name))?.name;
    if (name) return { key: other, name };
  }
  return undefined;
}

/** Whether the manifest still has any of the part's variables (whatever value) or annotations. */
function carriesAny(manifest: Manifest, part: Contribution): boolean {
  const template = podTemplateOf(manifest);
  const names = new Set((part.env ?? []).map((variable) => variable.name));
  if (names.size > 0 && template?.spec) {
    for (const field of ['initContainers', 'containers']) {
      const containers: unknown = template.spec[field];
      if (Array.isArray(containers) && (containers as { env?: { name: string }[] }[]).some((container) => container.env?.some((variable) => names.has(variable.name)))) return true;
    }
  }
  const annotations = manifest.kind === 'ServiceAccount' ? part.serviceAccountAnnotations?.[manifest.metadata.name] : undefined;
  return Object.keys(annotations ?? {}).some((name) => manifest.metadata.annotations?.[name] !== undefined);
}

/** Whether the contribution has anything to add to this kind of resource at all. */
function concerns(manifest: Manifest, contribution: Contribution): boolean {
  if (hasPodTemplate(manifest) && contribution.env?.length) return true;
  return manifest.kind === 'ServiceAccount' && contribution.serviceAccountAnnotations?.[manifest.metadata.name] !== undefined;
}
