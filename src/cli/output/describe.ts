/**
 * `tptctl describe` in plain text: the original's header lines, then what the object is
 * associated with, the instances derived from a definition, its status with the reason, and its
 * warning events. Gathering (I/O) is separate from the text (pure).
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import { objectStatus } from './get-table.ts';
import { formatAge, renderTable } from './table.ts';

export interface WarningEvent {
  type: string;
  reason: string;
  message: string;
  time?: string;
}

export interface Description {
  kind: Kind;
  object: ApiObject;
  /** Reference field → name of the referenced object. */
  associated: { kind: string; name: string }[];
  /** For definitions: the child kind and the names of the instances derived from it. */
  derived?: { kind: string; names: string[] };
  events: WarningEvent[];
}

function statusReason(object: ApiObject): string | undefined {
  if (object.DeletionScheduled) return `deletion scheduled at ${String(object.DeletionScheduled)}; waiting for a controller to clean up`;
  if (object.Status) return String(object.Status);
  if (object.Reconciled !== true) return 'waiting for a controller to reconcile it';
  return undefined;
}

export function describeText(description: Description, now = new Date()): string {
  const { kind, object } = description;
  const lines = [`* ${kind.name} Name: ${String(object.Name ?? object.ID)}`, `* Created: ${String(object.CreatedAt)}`, `* Last Modified: ${String(object.UpdatedAt)}`];
  for (const { kind: target, name } of description.associated) lines.push(`* Associated ${target}: ${name}`);
  if (description.derived) {
    const { kind: child, names } = description.derived;
    if (names.length === 0) lines.push(`* No ${child}s currently derived from this definition.`);
    else lines.push(`* Derived ${child}s:`, ...names.map((name) => `  * ${name}`));
  }
  if (kind.controller) {
    lines.push(`* ${kind.name} Status: ${objectStatus(object)}`);
    const reason = statusReason(object);
    if (reason) lines.push(`* ${kind.name} Status Reason: ${reason}`);
  }
  if (description.events.length > 0) {
    lines.push(
      'Failed & Warning Events:',
      renderTable(['TYPE', 'REASON', 'MESSAGE', 'AGE'], description.events.map((event) => [event.type, event.reason, event.message, formatAge(event.time, now)])),
    );
  }
  return lines.join('\n');
}

async function warningEvents(client: ApiClient, kind: Kind, id: number): Promise<WarningEvent[]> {
  const events: WarningEvent[] = [];
  const references = await client.kind('AttachedObjectReference').listAll({ objecttype: `v0.${kind.name}`, objectid: id });
  for (const reference of references) {
    for (const event of await client.kind('Event').listAll({ attachedobjectreferenceid: reference.ID as number })) {
      if (event.Type !== 'Normal') events.push({ type: String(event.Type), reason: String(event.Reason), message: String(event.Note ?? ''), time: event.LastObservedTime as string });
    }
  }
  if (kind.name === 'WorkloadInstance' || kind.name === 'HelmWorkloadInstance') {
    const filter: Record<string, number> = { [kind.name === 'WorkloadInstance' ? 'workloadinstanceid' : 'helmworkloadinstanceid']: id };
    const seen = new Set<string>();
    for (const event of await client.kind('WorkloadEvent').listAll(filter)) {
      if (event.Type === 'Normal' || seen.has(String(event.Message))) continue;
      seen.add(String(event.Message));
      events.push({ type: String(event.Type), reason: String(event.Reason), message: String(event.Message), time: event.Timestamp as string });
    }
  }
  return events;
}

/** The child kind whose objects are derived from a definition, and its field pointing back. */
function derivedKind(kind: Kind): { child: Kind; field: string } | undefined {
  if (kind.shape !== 'definition') return undefined;
  for (const field of Object.values(kind.fields)) {
    if (field.kind !== 'association' || !field.childKind.endsWith('Instance')) continue;
    const child = registry.get(field.childKind);
    const back = Object.entries(child.fields).find(([, spec]) => spec.kind === 'scalar' && spec.references === kind.name);
    if (back) return { child, field: back[0] };
  }
  return undefined;
}

export async function gatherDescription(client: ApiClient, kind: Kind, object: ApiObject): Promise<Description> {
  const associated: Description['associated'] = [];
  for (const [name, field] of Object.entries(kind.fields)) {
    const id = object[kind.jsonKey(name)];
    if (field.kind !== 'scalar' || !field.references || typeof id !== 'number') continue;
    const target = await client.kind(field.references).get(id).catch(() => undefined);
    associated.push({ kind: field.references, name: target ? String(target.Name ?? id) : `<missing ID ${id}>` });
  }
  const derivation = derivedKind(kind);
  const derived = derivation
    ? {
        kind: derivation.child.name,
        names: (await client.kind(derivation.child.name).listAll({ [derivation.field.toLowerCase()]: object.ID as number })).map((child) => String(child.Name)),
      }
    : undefined;
  return { kind, object, associated, ...(derived && { derived }), events: await warningEvents(client, kind, object.ID as number) };
}
