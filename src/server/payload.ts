import { badRequest } from '../errors.ts';
import type { Field } from '../model/fields.ts';
import { commonFields, VERSION_FIELD, type ApiObject, type Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';

export type WriteMethod = 'POST' | 'PATCH' | 'PUT';

export interface CheckedPayload {
  /** Wire-keyed values, typed and normalised. `null` (PATCH/PUT only) clears a field. */
  object: ApiObject;
  /** A `Version` sent in the body: the client's expected version. */
  expectedVersion?: number;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The original's payload checks (§7.3, §7.6, §7.7), plus type checks it left to a 500: the body is a
 * non-empty object, never sets the model fields, names only fields of the kind (case-insensitive,
 * field or JSON name), never writes associations, has values of the right types, and — on POST and
 * PUT — every required field.
 */
export function checkPayload(registry: Registry, kind: Kind, body: unknown, method: WriteMethod): CheckedPayload {
  if (!isPlainObject(body)) throw badRequest('JSON payload must be an object');
  return checkObject(registry, kind, body, method);
}

/** `nested`: where a child object sits in its parent's payload, and its field pointing back to the parent. */
function checkObject(
  registry: Registry,
  kind: Kind,
  body: Record<string, unknown>,
  method: WriteMethod,
  nested?: { path: string; foreignKey: string },
): CheckedPayload {
  const nestedIn = nested?.path;
  const keys = Object.keys(body);
  if (keys.length === 0 && !nestedIn) throw badRequest('JSON payload is empty');

  const modelFields = keys.filter((key) => commonFields.some((field) => field.toLowerCase() === key.toLowerCase()));
  if (modelFields.length > 0) throw badRequest(`Update of GORM Model fields is not allowed : ${modelFields.join(',')}`);

  const object: ApiObject = {};
  const unsupported: string[] = [];
  const associations: string[] = [];
  let expectedVersion: number | undefined;
  for (const key of keys) {
    if (key.toLowerCase() === VERSION_FIELD.toLowerCase() && !nestedIn) {
      expectedVersion = checkVersion(body[key]);
      continue;
    }
    const fieldName = kind.payloadKeys.get(key.toLowerCase());
    const field = fieldName ? kind.fields[fieldName] : undefined;
    if (!fieldName || !field) {
      unsupported.push(key);
      continue;
    }
    if (field.kind === 'association') {
      associations.push(key);
      continue;
    }
    const wireKey = kind.jsonKey(fieldName);
    object[wireKey] = checkValue(registry, field, body[key], `${nestedIn ? `${nestedIn}.` : ''}${wireKey}`, method);
  }
  if (unsupported.length > 0) throw badRequest(`Unsupported fields are not allowed : ${unsupported.join(',')}`);
  if (associations.length > 0) {
    throw badRequest(`Update of associated objects is not allowed. Use PUT for each associated object : ${associations.join(',')}`);
  }

  if (method !== 'PATCH') {
    const missing = Object.entries(kind.fields)
      .filter(([name, field]) => field.required && name !== nested?.foreignKey && object[kind.jsonKey(name)] == null)
      .map(([name]) => kind.jsonKey(name));
    if (missing.length > 0) throw badRequest(`Missing required field(s) : ${missing.join(',')}`);
  }
  return expectedVersion === undefined ? { object } : { object, expectedVersion };
}

function checkVersion(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw badRequest('Version must be a positive integer');
  return value;
}

function checkValue(registry: Registry, field: Field, value: unknown, path: string, method: WriteMethod): unknown {
  if (value === null) return method === 'POST' ? undefined : null;
  if (field.kind === 'nested') {
    if (!Array.isArray(value) || !value.every(isPlainObject)) throw badRequest(`${path} must be an array of objects`);
    const childKind = registry.get(field.childKind);
    // The reference back to the parent is filled in by the API.
    return value.map((child, index) => checkObject(registry, childKind, child, 'POST', { path: `${path}[${index}]`, foreignKey: field.foreignKey }).object);
  }
  switch (field.valueType) {
    case 'string':
      if (typeof value !== 'string') throw badRequest(`${path} must be a string`);
      if (value.includes('\u0000')) throw badRequest(`${path} must not contain NUL characters`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw badRequest(`${path} must be true or false`);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badRequest(`${path} must be an integer`);
      if (field.kind === 'scalar' && field.references && value < 1) throw badRequest(`${path} must be the ID of a ${field.references}`);
      return value;
    case 'time': {
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
        throw badRequest(`${path} must be an RFC 3339 timestamp, e.g. 2024-01-31T12:00:00Z`);
      }
      return new Date(value).toISOString();
    }
    case 'json':
      if (JSON.stringify(value).includes('\\u0000')) throw badRequest(`${path} must not contain NUL characters`);
      return value;
  }
}

/** Parses a path ID: a positive decimal integer below 2^53 (never raw SQL, unlike the original). */
export function parseId(raw: string): number {
  if (!/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw badRequest(`invalid ID "${raw.slice(0, 40)}": must be a positive integer`);
  }
  return Number(raw);
}

/** Reads an `If-Match` header: `"3"`, `W/"3"` or `3`. */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (value === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,16})"?$/.exec(value);
  if (!match) throw badRequest(`invalid If-Match header "${value.slice(0, 40)}": expected the object's ETag, e.g. "3"`);
  return Number(match[1]);
}
