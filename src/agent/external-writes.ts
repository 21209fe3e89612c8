/**
 * Whether someone took fields threeport set: with server-side apply, a client that changes a field
 * another manager owns becomes its owner, so threeport's managed-fields entry loses that field
 * while its own timestamp stays (threeport did not write). Writes to fields threeport never set
 * (controllers' annotations, status) leave its entry alone and are no drift. Only a hint: the
 * workload controller decides, by re-applying, what drifted.
 */
import type { Manifest } from '../model/manifest.ts';
import { FIELD_MANAGER } from '../platform/kubernetes/index.ts';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  time?: string;
  fieldsV1?: unknown;
}

/** threeport's applied fields and when it last applied them, as last seen. */
export interface OwnFields {
  time: string;
  fields: string;
}

export function ownFieldsOf(object: Manifest): OwnFields | undefined {
  const entries = (object.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const own = entries.find((entry) => entry.manager === FIELD_MANAGER && entry.operation === 'Apply' && !entry.subresource);
  return own ? { time: own.time ?? '', fields: JSON.stringify(own.fieldsV1 ?? {}) } : undefined;
}

/** `previous`: ownFieldsOf the object as last seen (undefined the first time: nothing to compare). */
export function changedByOthers(previous: OwnFields | undefined, current: Manifest): boolean {
  if (!previous) return false;
  const now = ownFieldsOf(current);
  if (!now) return true; // every field threeport set was taken
  return now.time === previous.time && now.fields !== previous.fields;
}
