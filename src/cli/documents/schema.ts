/**
 * The YAML schema of each kind's config file, derived from the model registry with the original's
 * conventions (reference §3): scalar fields under their own name; a reference `FooID` as
 * `Foo: {Name: …}` or `FooName: …`; a `…Document` field as a file path relative to the config
 * file, or inline under the name without `Document` (`ValuesDocument` / `Values`); nested lists
 * (gateway ports, control plane components) as lists of mappings.
 */
import type { Field, NestedField, ScalarField } from '../../model/fields.ts';
import { reconciliationMixin, type Kind } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';

export type YamlKey =
  | { form: 'scalar'; field: string; spec: ScalarField }
  | { form: 'reference'; field: string; target: string; spec: ScalarField }
  | { form: 'referenceName'; field: string; target: string; spec: ScalarField }
  | { form: 'file'; field: string; spec: ScalarField }
  | { form: 'inline'; field: string; spec: ScalarField }
  | { form: 'terraformDir'; field: string; spec: ScalarField }
  | { form: 'nested'; field: string; spec: NestedField };

/** Fields only controllers or the API write (and the reserved TierID): never in a config file. A definition's Profile is (by name, ProfileName or Profile: {Name}). */
const controllerOwned = new Set(['Status', 'ResourceInventory', 'StateDocument', 'Outputs', 'TierID', ...Object.keys(reconciliationMixin)]);

/** Fields whose config-file value is something to load rather than the value itself. */
const directoryFields = new Set(['TerraformDefinition.ConfigDir']);

const schemas = new Map<string, ReadonlyMap<string, YamlKey>>();

function keysOf(kind: Kind, skipField?: string): Map<string, YamlKey> {
  const keys = new Map<string, YamlKey>();
  for (const [field, spec] of Object.entries<Field>(kind.fields)) {
    if (controllerOwned.has(field) || field === skipField || spec.kind === 'association' || (spec.kind === 'scalar' && (spec.owner === 'controller' || spec.owner === 'server'))) continue;
    if (spec.kind === 'nested') {
      keys.set(field, { form: 'nested', field, spec });
    } else if (spec.references && field.endsWith('ID')) {
      const base = field.slice(0, -2);
      keys.set(base, { form: 'reference', field, target: spec.references, spec });
      keys.set(`${base}Name`, { form: 'referenceName', field, target: spec.references, spec });
    } else if (directoryFields.has(`${kind.name}.${field}`)) {
      keys.set(field, { form: 'terraformDir', field, spec });
    } else if (spec.valueType === 'string' && field.endsWith('Document')) {
      keys.set(field, { form: 'file', field, spec });
      keys.set(field.slice(0, -'Document'.length), { form: 'inline', field, spec });
    } else {
      keys.set(field, { form: 'scalar', field, spec });
    }
  }
  return keys;
}

/** YAML key → how it maps onto the kind's fields. */
export function yamlSchema(kind: Kind): ReadonlyMap<string, YamlKey> {
  let schema = schemas.get(kind.name);
  if (!schema) {
    schema = keysOf(kind);
    schemas.set(kind.name, schema);
  }
  return schema;
}

/** The schema of a nested child (a gateway port): its own fields minus the link to the parent. */
export function nestedSchema(spec: NestedField): ReadonlyMap<string, YamlKey> {
  return keysOf(registry.get(spec.childKind), spec.foreignKey);
}
