/**
 * Turns the YAML of one definition or instance into what the API needs: a payload in wire keys,
 * plus the references still to resolve by name. Strict like the original (unknown keys are
 * errors), and every error points at the file, line and field.
 */
import type { ScalarField } from '../../model/fields.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import { withArticle } from '../kind-names.ts';
import { nestedSchema, yamlSchema, type YamlKey } from './schema.ts';
import { readSideFile, readTerraformDir, SideFileError } from './side-files.ts';
import { fileError, type SourceDocument, type YamlPath } from './source.ts';

export interface Reference {
  /** Wire key of the ID field. */
  key: string;
  target: string;
  name: string;
  path: YamlPath;
}

export interface ObjectSpec {
  kind: Kind;
  name: string;
  payload: ApiObject;
  references: Reference[];
  /** Wire key of a required KubernetesRuntimeInstance reference the file left out: the default runtime is used. */
  defaultRuntimeKey?: string;
  source: SourceDocument;
  /** Where the object is written in the source (for messages). */
  path: YamlPath;
}

/** One object to build from YAML values; `origin` maps each of its keys to where the user wrote it. */
export interface Step {
  kind: Kind;
  values: Record<string, unknown>;
  origin: (key: string) => YamlPath;
  path: YamlPath;
  source: SourceDocument;
  /** Values the expansion itself sets (never written in a document), e.g. Reconciled on an object registered as made. */
  fixed?: ApiObject;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The key the user probably meant: same letters, other case. */
function suggestion(key: string, known: Iterable<string>): string {
  const match = [...known].find((candidate) => candidate.toLowerCase() === key.toLowerCase());
  return match ? ` (did you mean ${match}?)` : '';
}

export function unknownKeyMessage(key: string, owner: string, known: Iterable<string>): string {
  const list = [...known];
  return `unknown field "${key}" in ${owner}${suggestion(key, list)}; valid fields: ${list.join(', ')}`;
}

function scalarValue(spec: ScalarField, value: unknown, fail: (message: string) => never): unknown {
  switch (spec.valueType) {
    case 'string':
    case 'time':
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      if (typeof value !== 'string') fail('must be a string');
      if (spec.oneOf && !spec.oneOf.includes(value)) fail(`"${String(value)}" is not one of: ${spec.oneOf.join(', ')}`);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail('must be a whole number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be true or false');
      return value;
    case 'json':
      return value;
  }
}

function referenceName(key: YamlKey & { target: string }, value: unknown, fail: (message: string) => never, failAt: (sub: string, message: string) => never): string {
  if (key.form === 'referenceName') {
    if (typeof value !== 'string' || !value) fail(`must be the name of ${withArticle(key.target)}`);
    return value;
  }
  if (!isRecord(value)) fail(`must be a mapping naming the ${key.target}, e.g. {Name: my-object}`);
  const target = registry.get(key.target);
  const record = value;
  for (const sub of Object.keys(record)) {
    if (!(sub in target.fields)) failAt(sub, unknownKeyMessage(sub, `the ${key.target} reference`, ['Name']));
  }
  if (typeof record.Name !== 'string' || !record.Name) fail(`must name the ${key.target}: {Name: …}`);
  return record.Name;
}

function nestedValue(step: Step, key: string, schema: ReadonlyMap<string, YamlKey>, value: unknown, childKind: Kind): ApiObject[] {
  const at = (path: YamlPath, message: string): never => {
    throw fileError(step.source, [...step.origin(key), ...path], message);
  };
  if (!Array.isArray(value)) at([], 'must be a list of mappings');
  return (value as unknown[]).map((item, index) => {
    if (!isRecord(item)) at([index], 'must be a mapping');
    const child: ApiObject = {};
    for (const [childKey, childValue] of Object.entries(item as Record<string, unknown>)) {
      const entry = schema.get(childKey);
      if (!entry || entry.form !== 'scalar') at([index, childKey], unknownKeyMessage(childKey, key, [...schema.keys()]));
      const scalar = entry as YamlKey & { form: 'scalar' };
      if (childValue === null) continue;
      child[childKind.jsonKey(scalar.field)] = scalarValue(scalar.spec, childValue, (message) => at([index, childKey], message));
    }
    for (const [childKey, entry] of schema) {
      if (entry.spec.required && child[childKind.jsonKey(entry.field)] === undefined) at([index], `missing required field ${childKey}`);
    }
    return child;
  });
}

/** Builds the spec of one object; throws a ConfigFileError naming file, line and field. */
export function toObjectSpec(step: Step): ObjectSpec {
  const { kind, values, source } = step;
  const schema = yamlSchema(kind);
  const payload: ApiObject = {};
  const references: Reference[] = [];
  const given = new Set<string>();

  for (const [key, value] of Object.entries(values)) {
    const path = step.origin(key);
    const fail = (message: string): never => {
      throw fileError(source, path, message);
    };
    const entry = schema.get(key);
    if (!entry) fail(unknownKeyMessage(key, kind.name, schema.keys()));
    if (value === null || value === undefined) continue;
    const yamlKey = entry as YamlKey;
    const wire = kind.jsonKey(yamlKey.field);
    if (given.has(yamlKey.field)) fail(`${yamlKey.field} is already set by another key: use only one of them`);
    given.add(yamlKey.field);
    try {
      switch (yamlKey.form) {
        case 'scalar':
          payload[wire] = scalarValue(yamlKey.spec, value, fail);
          break;
        case 'reference':
        case 'referenceName':
          references.push({
            key: wire,
            target: yamlKey.target,
            name: referenceName(yamlKey, value, fail, (sub, message) => {
              throw fileError(source, [...path, sub], message);
            }),
            path,
          });
          break;
        case 'inline':
          payload[wire] = scalarValue(yamlKey.spec, value, fail);
          break;
        case 'file':
          if (typeof value !== 'string') fail('must be the path of a file, relative to the config file');
          payload[wire] = readSideFile(source.baseDir, value as string);
          break;
        case 'terraformDir':
          if (typeof value !== 'string') fail('must be the path of a directory, relative to the config file');
          payload[wire] = readTerraformDir(source.baseDir, value as string);
          break;
        case 'nested':
          payload[wire] = nestedValue(step, key, nestedSchema(yamlKey.spec), value, registry.get(yamlKey.spec.childKind));
          break;
      }
    } catch (error) {
      if (error instanceof SideFileError) fail(error.message);
      throw error;
    }
  }

  let defaultRuntimeKey: string | undefined;
  // A definition naming its profile may leave what the profile sets to it: the API fills those in and says what is still missing.
  const fromProfile = kind.profileSection !== undefined && given.has('ProfileID');
  for (const [field, spec] of Object.entries(kind.fields)) {
    if (given.has(field) || (fromProfile && field !== 'Name')) continue;
    // A runtime the API defaults to the DefaultRuntime one is looked up here too, so that its absence is reported against the file.
    const defaultsToRuntime = spec.kind === 'scalar' && spec.references === 'KubernetesRuntimeInstance' && (spec.required || spec.defaultToFlagged === 'DefaultRuntime');
    if (!spec.required && !defaultsToRuntime) continue;
    if (defaultsToRuntime) {
      defaultRuntimeKey = kind.jsonKey(field);
      continue;
    }
    const keys = [...schema].filter(([, entry]) => entry.field === field).map(([key]) => key);
    if (keys.length > 0) throw fileError(source, step.path, `missing required field ${keys.join(' or ')}`);
  }
  const name = payload.Name;
  if (typeof name !== 'string' || !name) throw fileError(source, step.path, 'missing required field Name');
  Object.assign(payload, step.fixed);
  return { kind, name, payload, references, ...(defaultRuntimeKey && { defaultRuntimeKey }), source, path: step.path };
}
