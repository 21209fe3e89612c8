/**
 * Whether someone other than threeport changed a resource: a manager other than threeport wrote
 * it (a spec, label or scale change — status updates by controllers don't count) since the agent
 * last saw it. Only a hint: the workload controller decides, by re-applying, whether anything
 * drifted.
 */
import type { Manifest } from '../model/manifest.ts';
import { FIELD_MANAGER } from '../platform/kubernetes/index.ts';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  time?: string;
}

/** The writes of other managers, outside the status subresource. */
function foreignWrites(object: Manifest): string {
  const entries = (object.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return entries
    .filter((entry) => entry.manager !== FIELD_MANAGER && entry.subresource !== 'status')
    .map((entry) => `${entry.manager}|${entry.operation}|${entry.subresource ?? ''}|${entry.time ?? ''}`)
    .sort()
    .join(',');
}

export function changedByOthers(previous: Manifest | undefined, current: Manifest): boolean {
  if (!previous) return false;
  return foreignWrites(previous) !== foreignWrites(current);
}
