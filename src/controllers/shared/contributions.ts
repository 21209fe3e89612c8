/**
 * What other controllers add to a workload instance's own resources: a bucket's name as an
 * environment variable on every container, the role a service account assumes, an annotation that
 * restarts pods. Each contributor writes its part into the instance's Contributions under its own
 * key; the workload controller applies every part to the definition's manifests as it deploys them,
 * so drift correction keeps them and a definition edit keeps them, and removing the part removes
 * exactly what it added.
 */
import { isDeepStrictEqual as sameJson } from 'node:util';
import type { ReconcileContext } from '../../controller/reconciler.ts';
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
  /** Added to every pod template's annotations. */
  podAnnotations?: Record<string, string>;
  /** Added to the annotations of the service accounts named. */
  serviceAccountAnnotations?: Record<string, Record<string, string>>;
}

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
      if (part.podAnnotations) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, ...part.podAnnotations } };
    }
    const accountAnnotations = result.kind === 'ServiceAccount' && result.apiVersion === 'v1' ? part.serviceAccountAnnotations?.[result.metadata.name] : undefined;
    if (accountAnnotations) result.metadata = { ...result.metadata, annotations: { ...result.metadata.annotations, ...accountAnnotations } };
  }
  return sameJson(result, manifest) ? manifest : result;
}

/** Whether `manifest` already has everything `contribution` adds. */
export const includesContribution = (manifest: Manifest, contribution: Contribution): boolean => applyContributions(manifest, { only: contribution }) === manifest;

/** Whether `manifest` has a pod template `contribution`'s environment applies to. */
export const hasPodTemplate = (manifest: Manifest): boolean => Boolean(podTemplateOf(manifest)?.spec);

type WorkloadInstance = ObjectOf<'WorkloadInstance'>;
type ResourceRecord = ObjectOf<'WorkloadResourceInstance'>;

/**
 * Sets (or, with undefined, removes) this contributor's part of the workload instance's resources
 * and asks the workload controller to apply it; resolves with whether every resource it concerns
 * is applied as it should be now.
 */
export async function contribute(context: ReconcileContext, workloadInstanceId: number, key: string, contribution: Contribution | undefined): Promise<{ settled: boolean; instance: WorkloadInstance }> {
  const instances = context.client.kind('WorkloadInstance');
  let instance = await instances.get(workloadInstanceId);
  const current = contributionsOf(instance);
  if (!sameJson(current[key], contribution)) {
    const { [key]: _previous, ...others } = current;
    const next = contribution ? { ...others, [key]: contribution } : others;
    instance = await instances.update(instance.ID, { Contributions: next }, { version: instance.Version });
  }
  const records = await context.client.kind('WorkloadResourceInstance').listAll({ workloadinstanceid: workloadInstanceId });
  const settled = isSettled(records, contribution, current[key]);
  if (!settled) await context.requestReconcile('WorkloadInstance', workloadInstanceId, `${(contribution ?? current[key])?.description ?? key} changed what it adds to the workload`);
  return { settled, instance };
}

/** Every record the contribution concerns has it (or, once it is removed, has lost it) and is applied. */
function isSettled(records: readonly ResourceRecord[], contribution: Contribution | undefined, previous: Contribution | undefined): boolean {
  const live = records.filter((record) => !record.ScheduledForDeletion && record.WorkloadResourceDefinitionID !== undefined);
  const part = contribution ?? previous;
  if (!part) return true;
  const concerned = live.filter((record) => concerns(record.JSONDefinition as Manifest, part));
  return concerned.every((record) => record.Reconciled === true && includesContribution(record.JSONDefinition as Manifest, part) === Boolean(contribution));
}

/** Whether the contribution has anything to add to this kind of resource at all. */
function concerns(manifest: Manifest, contribution: Contribution): boolean {
  if (hasPodTemplate(manifest) && (contribution.env?.length || contribution.podAnnotations)) return true;
  return manifest.kind === 'ServiceAccount' && contribution.serviceAccountAnnotations?.[manifest.metadata.name] !== undefined;
}
