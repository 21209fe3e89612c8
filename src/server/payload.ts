/**
 * Request bodies, in three steps around the schema validation of kind-schemas.ts: the keys are
 * matched to the kind's fields first (case-insensitively, as the original did, with its messages
 * for keys no client may send), the schema then checks the values, and the checked body is finally
 * turned into what the store takes (timestamps in UTC, `Version` apart).
 */
import type { FastifySchemaValidationError, RouteShorthandOptions } from 'fastify';
import { badRequest, type ApiError } from '../errors.ts';
import type { Field } from '../model/fields.ts';
import { commonFields, VERSION_FIELD, type ApiObject, type Kind } from '../model/kind.ts';
import { serverFields } from '../model/ownership.ts';
import type { Registry } from '../model/registry.ts';
import { INTEGER_MAX, INTEGER_MIN, storableTime, TIME_PATTERN } from '../store/storable-values.ts';
import { MAX_JSON_DEPTH } from './kind-schemas.ts';

export type WriteMethod = 'POST' | 'PATCH' | 'PUT';

export interface CheckedPayload {
  /** Wire-keyed values, typed and normalised. `null` (PATCH/PUT only) clears a field. */
  object: ApiObject;
  /** A `Version` sent in the body: the client's expected version. */
  expectedVersion?: number;
}

type Body = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Body => typeof value === 'object' && value !== null && !Array.isArray(value);

const TIME_MESSAGE = 'must be an RFC 3339 timestamp between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, e.g. 2024-01-31T12:00:00Z';

/**
 * Step 1 (before the schema): the body is a non-empty object naming only fields a client may
 * write; keys become the fields' JSON names. A null on POST counts as absent.
 */
export function canonicalPayload(registry: Registry, kind: Kind, body: unknown, method: WriteMethod): Body {
  if (!isPlainObject(body)) throw badRequest('JSON payload must be an object');
  if (Object.keys(body).length === 0) throw badRequest('JSON payload is empty');
  return canonicalObject(registry, kind, body, method, false);
}

function canonicalObject(registry: Registry, kind: Kind, body: Body, method: WriteMethod, nested: boolean): Body {
  const canonical: Body = {};
  const refused = { model: [] as string[], server: [] as string[], unsupported: [] as string[], associations: [] as string[] };
  const serverOwned = serverFields(kind);
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (!nested && lower === VERSION_FIELD.toLowerCase()) {
      canonical[VERSION_FIELD] = value;
      continue;
    }
    if (commonFields.some((field) => field.toLowerCase() === lower)) {
      refused.model.push(key);
      continue;
    }
    const name = kind.payloadKeys.get(lower);
    const field = name ? kind.fields[name] : undefined;
    if (!name || !field) {
      refused.unsupported.push(key);
      continue;
    }
    const wireKey = kind.jsonKey(name);
    if (serverOwned.has(wireKey)) refused.server.push(key);
    else if (field.kind === 'association') refused.associations.push(key);
    else if (value !== null || method !== 'POST') canonical[wireKey] = canonicalValue(registry, field, wireKey, value);
  }
  if (refused.model.length > 0) throw badRequest(`Update of GORM Model fields is not allowed : ${refused.model.join(',')}`);
  if (refused.server.length > 0) throw badRequest(`Update of fields set by the API is not allowed : ${refused.server.join(',')}`);
  if (refused.unsupported.length > 0) throw badRequest(`Unsupported fields are not allowed : ${refused.unsupported.join(',')}`);
  if (refused.associations.length > 0) {
    throw badRequest(`Update of associated objects is not allowed. Use PUT for each associated object : ${refused.associations.join(',')}`);
  }
  return canonical;
}

function canonicalValue(registry: Registry, field: Field, key: string, value: unknown): unknown {
  if (field.kind === 'nested' && Array.isArray(value)) {
    const child = registry.get(field.childKind);
    // Children are created with their parent, whatever the parent's method.
    return value.map((item) => (isPlainObject(item) ? canonicalObject(registry, child, item, 'POST', true) : item));
  }
  if (field.valueType === 'json') checkJson(key, value);
  else if (typeof value === 'string' && !value.isWellFormed()) throw unpairedSurrogates(key);
  return value;
}

const unpairedSurrogates = (key: string): ApiError => badRequest(`${key} must not contain unpaired UTF-16 surrogates`);

/**
 * What the schema cannot say about a JSON value: it nests at most MAX_JSON_DEPTH deep (the
 * validator and PostgreSQL recurse per level; this walk does not) and its text has no unpaired
 * surrogates (see TEXT_PATTERN).
 */
function checkJson(key: string, value: unknown): void {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node === 'string' && !node.isWellFormed()) throw unpairedSurrogates(key);
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_JSON_DEPTH) throw badRequest(`${key} is nested deeper than ${MAX_JSON_DEPTH} levels`);
    for (const [name, child] of Object.entries(node)) {
      if (!name.isWellFormed()) throw unpairedSurrogates(key);
      pending.push([child, depth + 1]);
    }
  }
}

/** Step 3 (after the schema): the values as the store takes them. */
export function checkedPayload(registry: Registry, kind: Kind, body: Body): CheckedPayload {
  const object = storeValues(registry, kind, body);
  const version = body[VERSION_FIELD];
  return typeof version === 'number' ? { object, expectedVersion: version } : { object };
}

function storeValues(registry: Registry, kind: Kind, body: Body): ApiObject {
  const object: ApiObject = {};
  for (const [key, value] of Object.entries(body)) {
    const field = kind.fields[kind.payloadKeys.get(key.toLowerCase()) ?? ''];
    if (key === VERSION_FIELD || !field) continue;
    object[key] = storeValue(registry, field, key, value);
  }
  return object;
}

function storeValue(registry: Registry, field: Field, key: string, value: unknown): unknown {
  if (value === null) return null;
  if (field.kind === 'nested') {
    const child = registry.get(field.childKind);
    return (value as Body[]).map((item) => storeValues(registry, child, item));
  }
  if (field.valueType !== 'time') return value;
  const stored = storableTime(String(value));
  if (stored === undefined) throw badRequest(`${key} ${TIME_MESSAGE}`);
  return stored;
}

/** An ajv error with `verbose` on: the failing value and the schema holding the keyword. */
export interface SchemaError extends FastifySchemaValidationError {
  data?: unknown;
  parentSchema?: Record<string, unknown>;
  propertyName?: string;
}

const isIndex = (segment: string | undefined): boolean => segment !== undefined && /^\d+$/.test(segment);

/** `/HttpPorts/0/Port` → ['HttpPorts', '0', 'Port'] */
const segmentsOf = (instancePath: string): string[] =>
  instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));

/** ['HttpPorts', '0', 'Port'] → `HttpPorts[0].Port` */
const displayPath = (segments: readonly string[]): string =>
  segments.reduce((path, part) => (isIndex(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');

/** Whether the value at `segments` is a field of a kind (and not a value inside a JSON field). */
function isField(registry: Registry, kind: Kind, segments: readonly string[]): boolean {
  let current = kind;
  for (let i = isIndex(segments[0]) ? 1 : 0; i < segments.length; i += 2) {
    const field = current.fields[current.payloadKeys.get(segments[i]!.toLowerCase()) ?? ''];
    if (!field) return false;
    if (i === segments.length - 1) return true;
    if (field.kind !== 'nested' || !isIndex(segments[i + 1])) return false;
    current = registry.get(field.childKind);
  }
  return false;
}

const typeNames: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

/**
 * Step 2's answer: the first schema error (the validator stops there) in the words the original's
 * clients know where it had them ("Missing required field(s) : X"), else naming the field and rule.
 */
export function schemaErrorMessage(registry: Registry, kind: Kind, errors: readonly SchemaError[], method: WriteMethod): string {
  const error = errors[0];
  if (!error) return 'JSON payload is invalid';
  const segments = segmentsOf(error.instancePath);
  const path = displayPath(segments);
  const schema = error.parentSchema ?? {};
  if (path === VERSION_FIELD) return 'Version must be a positive integer';
  if (schema.pattern === TIME_PATTERN || schema.format === 'date-time') {
    if (error.data !== null || error.keyword !== 'type' || !isField(registry, kind, segments)) return `${path} ${TIME_MESSAGE}`;
  }
  switch (error.keyword) {
    case 'required': {
      const present = isPlainObject(error.data) ? error.data : {};
      const missing = ((schema.required ?? []) as string[]).filter((key) => present[key] === undefined);
      return `Missing required field(s) : ${missing.join(',')}`;
    }
    case 'type': {
      if (error.data === null && isField(registry, kind, segments)) {
        // Only required fields refuse null.
        return method === 'PATCH' ? `${path} is required and cannot be cleared` : `Missing required field(s) : ${segments.at(-1)}`;
      }
      const expected = ([] as unknown[]).concat(error.params.type).map(String).find((type) => type !== 'null') ?? '';
      return `${path} must be ${typeNames[expected] ?? expected}`;
    }
    case 'enum': {
      const allowed = ((schema.enum ?? []) as unknown[]).filter((value) => value !== null);
      return `${path} "${String(error.data)}" is not supported; valid values: ${allowed.join(', ')}`;
    }
    case 'pattern':
      return error.propertyName !== undefined ? `${path || 'JSON payload'} keys must not contain NUL characters` : `${path} must not contain NUL characters`;
    case 'minimum':
    case 'maximum': {
      const references = schema['x-threeport-references'];
      if (typeof references === 'string') return `${path} must be the ID of a ${references}`;
      return `${path} must be an integer between ${INTEGER_MIN} and ${INTEGER_MAX}`;
    }
    case 'additionalProperties':
      return `Unsupported fields are not allowed : ${String(error.params.additionalProperty)}`;
    default:
      return `${path || 'JSON payload'} ${error.message ?? 'is invalid'}`;
  }
}

export const schemaError = (registry: Registry, kind: Kind, errors: readonly SchemaError[], method: WriteMethod): ApiError =>
  badRequest(schemaErrorMessage(registry, kind, errors, method));

/**
 * Route options for a body holding `kind`'s objects: keys matched first (`canonical`, by default
 * one object), then `schema` (one the OpenAPI document shows), its errors in the original's words.
 */
export function bodyRoute(
  registry: Registry,
  kind: Kind,
  method: WriteMethod,
  schema: Record<string, unknown>,
  canonical: (body: unknown) => unknown = (body) => canonicalPayload(registry, kind, body, method),
): RouteShorthandOptions {
  return {
    schema: { body: schema },
    preValidation: async (request) => {
      // A bad ID is reported before anything about the body, as on the routes without one.
      const { id } = request.params as { id?: string };
      if (id !== undefined) parseId(id);
      request.body = canonical(request.body);
    },
    schemaErrorFormatter: (errors) => schemaError(registry, kind, errors, method),
  };
}

/** Parses a path ID: a positive decimal integer below 2^53 (never raw SQL, unlike the original). */
export function parseId(raw: string): number {
  if (!/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw badRequest(`invalid ID "${raw.slice(0, 40)}": must be a positive integer`);
  }
  return Number(raw);
}

/** What an `If-Match` header may hold: `*`, or an ETag of ours with or without quotes and weak marker. */
export const IF_MATCH_PATTERN = '^(\\*|(W/)?"?\\d{1,16}"?)$';
const ifMatch = new RegExp(IF_MATCH_PATTERN);

/** Reads an `If-Match` header: `"3"`, `W/"3"` or `3`. */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (!ifMatch.test(value)) throw badRequest(`invalid If-Match header "${value.slice(0, 40)}": expected the object's ETag, e.g. "3"`);
  if (value === '*') return undefined;
  return Number(/\d+/.exec(value)?.[0]);
}
