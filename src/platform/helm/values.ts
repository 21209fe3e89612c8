/**
 * Helm values as threeport layers them: a definition's, then an instance's on top (the instance
 * wins), merged as helm merges `-f` files: maps key by key, anything else replaced. A null is
 * kept: helm then removes that key from the chart's own defaults.
 */
import { parse } from 'yaml';

export type Values = Record<string, unknown>;

export class ValuesError extends Error {
  override name = 'ValuesError';
}

const isMap = (value: unknown): value is Values => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A values document (YAML or JSON text; empty is no values); a clear error for anything else. */
export function parseValues(document: string | undefined, what: string): Values {
  if (!document?.trim()) return {};
  let parsed: unknown;
  try {
    parsed = parse(document);
  } catch (error) {
    throw new ValuesError(`${what} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isMap(parsed)) throw new ValuesError(`${what} must be a map of values (key: value), not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
  return parsed;
}

/** `base` with `top` laid over it. */
export function layered(base: Values, top: Values): Values {
  const result: Values = { ...base };
  for (const [key, value] of Object.entries(top)) {
    if (isMap(value) && isMap(result[key])) result[key] = layered(result[key], value);
    else result[key] = value;
  }
  return result;
}
