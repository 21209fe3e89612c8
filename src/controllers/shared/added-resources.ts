/**
 * Resources another controller adds to a user's workload instance (a gateway's routes, a
 * database's Secret): written as its WorkloadResourceInstances, which the workload controller
 * applies, watches, corrects and prunes with the workload's own. Each adder marks its objects
 * with a label of its own, so it changes and removes exactly what it added and nothing else.
 */
import { isDeepStrictEqual as sameJson } from 'node:util';
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext } from '../../controller/reconciler.ts';
import type { Manifest } from '../../model/manifest.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { resourceKeyOf } from '../../model/resource-key.ts';

export type ResourceRecord = ObjectOf<'WorkloadResourceInstance'>;

/** The label that says who added a resource, and its value for this adder (e.g. the gateway instance's ID). */
export interface Adder {
  label: string;
  value: string;
  /** For messages and the reconcile request: "gateway instance web". */
  description: string;
}

export interface AddedResources {
  /** Whether the workload controller has applied every one as it is now (and removed what was taken away). */
  settled: boolean;
  /** The records, by resource key (their RuntimeDefinition is the object as the cluster has it). */
  records: Map<string, ResourceRecord>;
}

const addedBy = (record: ResourceRecord, adder: Adder): boolean => (record.JSONDefinition as Manifest | undefined)?.metadata?.labels?.[adder.label] === adder.value;

function keyOf(manifest: Manifest): string {
  const key = resourceKeyOf(manifest);
  if (typeof key !== 'string') throw new TerminalError(`an added resource ${key.problem}`);
  return key;
}

/** Makes the workload instance's added resources of `adder` exactly `manifests`, and asks the workload controller to apply them. */
export async function addResources(context: ReconcileContext, workloadInstanceId: number, adder: Adder, manifests: readonly Manifest[]): Promise<AddedResources> {
  const records = context.client.kind('WorkloadResourceInstance');
  const existing = await records.listAll({ workloadinstanceid: workloadInstanceId });
  const byKey = new Map(existing.map((record) => [String(record.ResourceKey), record]));
  const wanted = new Map<string, ResourceRecord>();
  let changed = false;
  for (const manifest of manifests) {
    const labelled: Manifest = { ...manifest, metadata: { ...manifest.metadata, labels: { ...manifest.metadata.labels, [adder.label]: adder.value } } };
    const key = keyOf(labelled);
    const record = byKey.get(key);
    if (record && !addedBy(record, adder)) {
      throw new TerminalError(`the workload instance already has ${labelled.kind} ${labelled.metadata.name}${record.WorkloadResourceDefinitionID === undefined ? ', added by something else' : ' in its definition'}: ${adder.description} cannot add one of that name`);
    }
    if (record && sameJson(record.JSONDefinition, labelled) && !record.ScheduledForDeletion) {
      wanted.set(key, record);
      continue;
    }
    changed = true;
    const stored = record
      ? await records.update(record.ID, { JSONDefinition: labelled, Reconciled: false, ScheduledForDeletion: null } as never, { version: record.Version })
      : await records.create({ JSONDefinition: labelled, WorkloadInstanceID: workloadInstanceId, Reconciled: false });
    wanted.set(key, stored);
  }
  const now = new Date().toISOString();
  const leftover = existing.filter((record) => addedBy(record, adder) && !wanted.has(String(record.ResourceKey)));
  for (const record of leftover.filter((candidate) => !candidate.ScheduledForDeletion)) {
    changed = true;
    await records.update(record.ID, { ScheduledForDeletion: now }, { version: record.Version });
  }
  const settled = leftover.length === 0 && [...wanted.values()].every((record) => record.Reconciled === true);
  // Asked also when nothing changed but something is still pending: a crash may have come between the write and the ask.
  if (!settled) await context.requestReconcile('WorkloadInstance', workloadInstanceId, `${adder.description} ${changed ? 'changed its resources' : 'waits for its resources'}`);
  return { settled, records: wanted };
}

/** Schedules every resource `adder` added for removal; true once the workload controller removed them (or the workload instance is gone). */
export async function removeAddedResources(context: ReconcileContext, workloadInstanceId: number, adder: Adder): Promise<boolean> {
  const workload = await context.client.kind('WorkloadInstance').get(workloadInstanceId).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (!workload) return true;
  const records = context.client.kind('WorkloadResourceInstance');
  const ours = (await records.listAll({ workloadinstanceid: workloadInstanceId })).filter((record) => addedBy(record, adder));
  if (ours.length === 0) return true;
  if (workload.DeletionScheduled) return false; // its own delete removes them
  const now = new Date().toISOString();
  for (const record of ours.filter((candidate) => !candidate.ScheduledForDeletion)) await records.update(record.ID, { ScheduledForDeletion: now }, { version: record.Version });
  await context.requestReconcile('WorkloadInstance', workloadInstanceId, `${adder.description} is being removed`);
  return false;
}
