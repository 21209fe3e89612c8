/**
 * One JSON Schema per kind and use, derived from the registry: what the API returns (`<Kind>`),
 * accepts on POST and PUT (`<Kind>Input`) and on PATCH (`<Kind>Patch`). The request validator
 * compiles exactly these objects and the OpenAPI document publishes them, so the two cannot
 * disagree. Rules JSON Schema cannot state (a referenced object must exist, names are unique, a
 * field cannot change once set, a kind's own checks) are in the descriptions and answered 400/409.
 */
import type { Field, NestedField, ScalarField } from '../model/fields.ts';
import { commonFields, VERSION_FIELD, type Kind } from '../model/kind.ts';
import { serverFields } from '../model/ownership.ts';
import type { Registry } from '../model/registry.ts';
import { storedScalars } from '../store/schema.ts';
import { INTEGER_MAX, INTEGER_MIN, TEXT_PATTERN, TIME_PATTERN } from '../store/storable-values.ts';

export type Schema = Record<string, unknown>;

/** The id under which the validator knows the document's `components`; refs inside stay document-relative. */
export const SCHEMA_ID = 'threeport.json';
/** JSON values nest at most this deep (the validator and PostgreSQL recurse per level). */
export const MAX_JSON_DEPTH = 256;

export const componentRef = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
/** The same schema as the validator resolves it. */
export const validatorRef = (name: string): Schema => ({ $ref: `${SCHEMA_ID}#/components/schemas/${name}` });

export const inputSchemaName = (kind: Kind): string => `${kind.name}Input`;
export const patchSchemaName = (kind: Kind): string => `${kind.name}Patch`;
const itemSchemaName = (kind: Kind, field: string): string => `${kind.name}${field}Item`;

/** Our annotations; the validator declares them so its strict mode accepts them. */
export const annotationKeywords = ['x-threeport-owner', 'x-threeport-references', 'x-encrypted'] as const;

/** Fields a client may send: all but associations (navigated by filtering the child kind) and server-owned fields. */
export function clientFields(kind: Kind): [string, Field][] {
  const server = serverFields(kind);
  return Object.entries(kind.fields).filter(([name, field]) => field.kind !== 'association' && !server.has(kind.jsonKey(name)));
}

const text = (): Schema => ({ type: 'string', pattern: TEXT_PATTERN });
const time = (): Schema => ({ type: 'string', format: 'date-time', pattern: TIME_PATTERN });
const integer = (minimum = INTEGER_MIN): Schema => ({ type: 'integer', format: 'int64', minimum, maximum: INTEGER_MAX });

/** Any JSON value but null (a required JSON field), and any JSON value (what it may contain). */
const jsonDocument: Schema = {
  description: `Any JSON value but null. Strings and keys cannot contain NUL (nor unpaired UTF-16 surrogates); nesting stops at ${MAX_JSON_DEPTH} levels.`,
  type: ['object', 'array', 'string', 'number', 'boolean'],
  pattern: TEXT_PATTERN,
  items: componentRef('JsonValue'),
  additionalProperties: componentRef('JsonValue'),
  propertyNames: text(),
};
const jsonValue: Schema = { ...jsonDocument, description: 'Any JSON value, as in JsonDocument, or null.', type: [...(jsonDocument.type as string[]), 'null'] };

/** The type of a scalar's value, without null. */
function scalarType(field: ScalarField): Schema {
  if (field.oneOf) return { type: 'string', enum: [...field.oneOf] };
  switch (field.valueType) {
    case 'string':
      return text();
    case 'integer':
      return field.references ? { ...integer(1), 'x-threeport-references': field.references } : integer();
    case 'boolean':
      return { type: 'boolean' };
    case 'time':
      return time();
    case 'json':
      // The field cipher encrypts a map value by value (the original's EncryptStringMap); a reader
      // who may not see secrets gets the redaction placeholder instead, and may write it back.
      return field.encrypted ? { type: ['object', 'string'], pattern: TEXT_PATTERN, additionalProperties: text(), propertyNames: text() } : componentRef('JsonDocument');
  }
}

function withNull(schema: Schema): Schema {
  if (schema.$ref === componentRef('JsonDocument').$ref) return componentRef('JsonValue');
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  return { ...schema, type: [...types, 'null'], ...(Array.isArray(schema.enum) && { enum: [...(schema.enum as unknown[]), null] }) };
}

function describe(kind: Kind, name: string, field: Field): string | undefined {
  const notes: string[] = [];
  if (field.description) notes.push(field.description);
  if (field.kind === 'scalar') {
    if (field.references) notes.push(`ID of a ${field.references}, which must exist (else 400).`);
    if (name === 'Name' && kind.uniqueName) notes.push(`Unique among live ${kind.name}s (else 409).`);
    if (field.immutable) notes.push('Cannot be changed once set (400).');
    if (field.hidden) notes.push('Stored encrypted; returned as "[encrypted value redacted]" (writing it back keeps the value): only the controllers of the kind read its ciphertext.');
    else if (field.encrypted) notes.push('Stored encrypted; returned as ciphertext to roles that may see secrets, else as "[encrypted value redacted]" (writing either back keeps the value).');
    if (field.defaultToFlagged) notes.push(`Left out, it is the ${field.references} whose ${field.defaultToFlagged} is true (400 when there is none, or it is being deleted).`);
  }
  if (field.owner === 'controller') notes.push('Reported by controllers.');
  if (field.owner === 'server') notes.push('Set by the API.');
  return notes.length > 0 ? notes.join(' ') : undefined;
}

function annotated(kind: Kind, name: string, field: Field, schema: Schema): Schema {
  const description = describe(kind, name, field);
  return {
    ...schema,
    ...(description && { description }),
    ...(field.default !== undefined && { default: field.default }),
    ...(field.owner && { 'x-threeport-owner': field.owner }),
    ...(field.encrypted && { 'x-encrypted': true }),
  };
}

/** An object as the API returns it: model fields, stored columns, Version; nothing else. */
function objectSchema(kind: Kind): Schema {
  const server = serverFields(kind);
  const properties: Record<string, Schema> = {
    ID: { ...integer(1), readOnly: true },
    CreatedAt: { ...time(), readOnly: true },
    UpdatedAt: { ...time(), readOnly: true },
  };
  const required = ['ID', 'CreatedAt', 'UpdatedAt'];
  for (const [name, field] of storedScalars(kind)) {
    const key = kind.jsonKey(name);
    properties[key] = { ...annotated(kind, name, field, scalarType(field)), ...(server.has(key) && { readOnly: true }) };
    if (field.required) required.push(key);
  }
  properties[VERSION_FIELD] = { ...integer(1), readOnly: true, description: 'Optimistic-concurrency version; also the ETag.' };
  required.push(VERSION_FIELD);
  return { type: 'object', description: kind.description, properties, required, additionalProperties: false };
}

interface WriteSchemaOptions {
  /** PATCH: nothing required, at least one field, null clears an optional field. */
  patch: boolean;
  /** Nested in a parent's payload: the reference back to the parent is filled in by the API. */
  foreignKey?: string;
}

function writeSchema(kind: Kind, options: WriteSchemaOptions, nestedItem: (field: string, nested: NestedField) => Schema): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [name, field] of clientFields(kind)) {
    const key = kind.jsonKey(name);
    const mustHave = field.required && name !== options.foreignKey;
    if (field.kind === 'nested') {
      properties[key] = annotated(kind, name, field, withNull({ type: 'array', items: nestedItem(name, field) }));
      continue;
    }
    const value = scalarType(field as ScalarField);
    // A field that defaults to a flagged object (the default runtime) may be left out, never cleared.
    const clearable = !field.required && !(field.kind === 'scalar' && field.defaultToFlagged);
    properties[key] = annotated(kind, name, field, clearable ? withNull(value) : value);
    if (mustHave && !options.patch) required.push(key);
  }
  if (!options.foreignKey) {
    properties[VERSION_FIELD] = { ...integer(1), description: 'The version the client last saw (like If-Match); another one is a 409.' };
  }
  const rules = [
    'Field names are also accepted in any letter case, as the original API accepted them.',
    `${commonFields.join(', ')} and fields set by the API are refused (400).`,
    kind.rules.validate || 'derive' in kind.rules ? `The API checks further rules of ${kind.name} (400).` : '',
  ].filter(Boolean);
  // A definition naming its profile may leave to it what the profile sets (checked once filled in).
  const fromProfile = kind.profileSection !== undefined && required.length > 0;
  return {
    type: 'object',
    description: `${options.patch ? `Fields of ${kind.name} to change; null clears an optional field.` : kind.description} ${rules.join(' ')}`,
    properties,
    additionalProperties: false,
    ...(required.length > 0 && !fromProfile && { required }),
    ...(fromProfile && { if: { properties: { ProfileID: { type: 'integer' } }, required: ['ProfileID'] }, else: { required } }),
    ...(options.patch && { minProperties: 1 }),
  };
}

/** Every kind's schemas plus the shared ones, keyed by component name. */
export function kindSchemas(registry: Registry): Record<string, Schema> {
  const schemas: Record<string, Schema> = { JsonDocument: jsonDocument, JsonValue: jsonValue };
  const nestedItem = (parent: Kind) => (field: string, nested: NestedField): Schema => {
    const name = itemSchemaName(parent, field);
    if (!schemas[name]) {
      const child = registry.get(nested.childKind);
      schemas[name] = writeSchema(child, { patch: false, foreignKey: nested.foreignKey }, nestedItem(child));
    }
    return componentRef(name);
  };
  for (const kind of registry.kinds) {
    schemas[kind.name] = objectSchema(kind);
    schemas[inputSchemaName(kind)] = writeSchema(kind, { patch: false }, nestedItem(kind));
    schemas[patchSchemaName(kind)] = writeSchema(kind, { patch: true }, nestedItem(kind));
  }
  return schemas;
}
