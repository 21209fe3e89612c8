/**
 * Child rows written with their parent (the original's non-association has-many fields, e.g.
 * GatewayDefinition.HttpPorts), and the object IDs such a write needs reserved beforehand.
 */
import type { NestedField } from '../model/fields.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';

export interface NestedChildren {
  field: NestedField;
  values: ApiObject[];
}

export function nestedChildren(kind: Kind, input: ApiObject): NestedChildren[] {
  const found: NestedChildren[] = [];
  for (const [name, field] of Object.entries(kind.fields)) {
    const values = input[kind.jsonKey(name)];
    if (field.kind === 'nested' && Array.isArray(values) && values.length > 0) found.push({ field, values: values as ApiObject[] });
  }
  return found;
}

/** IDs an insert of `input` takes: its own and those of its nested children, recursively. */
export function idsNeeded(registry: Registry, kind: Kind, input: ApiObject): number {
  return 1 + childIdsNeeded(registry, nestedChildren(kind, input));
}

export function childIdsNeeded(registry: Registry, children: NestedChildren[]): number {
  let count = 0;
  for (const { field, values } of children) {
    const childKind = registry.get(field.childKind);
    for (const child of values) count += idsNeeded(registry, childKind, child);
  }
  return count;
}
