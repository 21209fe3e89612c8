import { badRequest } from '../errors.ts';
import type { ScalarField } from '../model/fields.ts';
import type { Kind } from '../model/kind.ts';
import type { ListQuery } from '../store/object-store.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

type RawQuery = Record<string, string | string[] | undefined>;

function single(query: RawQuery, key: string): string | undefined {
  const value = query[key];
  if (Array.isArray(value)) throw badRequest(`query parameter ${key} may be given only once`);
  return value;
}

function integerParameter(query: RawQuery, key: 'page' | 'size', fallback: number, max: number): number {
  const raw = single(query, key);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`Query parameter is not a valid integer value: ${key}`);
  const value = Number(raw);
  if (value < 1 || value > max) throw badRequest(`Query parameter ${key} must be between 1 and ${max}`);
  return value;
}

export function parsePaging(query: RawQuery): { page: number; size: number } {
  return {
    page: integerParameter(query, 'page', 1, Number.MAX_SAFE_INTEGER),
    size: integerParameter(query, 'size', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
  };
}

/** Converts a query-string value to the field's type; a value that can't be one is a 400. */
export function parseFilterValue(key: string, field: ScalarField, raw: string): unknown {
  if (raw.includes('\u0000')) throw badRequest(`query parameter ${key} must not contain NUL characters`);
  switch (field.valueType) {
    case 'string':
      return raw;
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw badRequest(`query parameter ${key} must be true or false`);
      return raw === 'true';
    case 'integer':
      if (!/^-?\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw badRequest(`query parameter ${key} must be an integer`);
      return Number(raw);
    case 'time':
      if (Number.isNaN(Date.parse(raw))) throw badRequest(`query parameter ${key} must be an RFC 3339 timestamp`);
      return new Date(raw).toISOString();
    case 'json':
      throw badRequest(`query parameter ${key} cannot be filtered on`);
  }
}

/**
 * `page`, `size` and exact-match filters on the kind's query keys (old misspelt keys included).
 * Unknown keys are a 400: the original ignored them and returned everything.
 */
export function parseListQuery(kind: Kind, query: RawQuery): ListQuery {
  const filters = new Map<string, unknown>();
  const unknown: string[] = [];
  for (const key of Object.keys(query)) {
    if (key === 'page' || key === 'size') continue;
    const fieldName = kind.queryKeys.get(key);
    const field = fieldName ? kind.fields[fieldName] : undefined;
    if (!fieldName || field?.kind !== 'scalar') {
      unknown.push(key);
      continue;
    }
    filters.set(kind.jsonKey(fieldName), parseFilterValue(key, field, single(query, key) ?? ''));
  }
  if (unknown.length > 0) {
    const valid = [...new Set([...kind.queryKeys.keys()])].filter((k) => !k.match(/[A-Z]/)).join(', ');
    throw badRequest(`unsupported query parameter(s): ${unknown.join(', ')}; ${kind.name} can be filtered by: ${valid}, and paged with page, size`);
  }
  return { filters, ...parsePaging(query) };
}
