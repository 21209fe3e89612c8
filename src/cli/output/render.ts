import { stringify } from 'yaml';
import { REDACTED_PLACEHOLDER } from '../../model/fields.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { CliError } from '../errors.ts';

export const outputFormats = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export function parseOutputFormat(value: string | undefined, fallback: OutputFormat = 'table'): OutputFormat {
  const format = value === undefined ? fallback : value === 'plain' ? 'table' : value;
  if (!(outputFormats as readonly string[]).includes(format)) {
    throw new CliError(`invalid output format "${value}" - valid formats: ${outputFormats.join(', ')}`);
  }
  return format as OutputFormat;
}

/** The object with every encrypted field's value replaced by the redaction placeholder. */
export function redact(kind: Kind, object: ApiObject): ApiObject {
  const copy: ApiObject = { ...object };
  for (const [name, field] of Object.entries(kind.fields)) {
    const key = kind.jsonKey(name);
    if (field.encrypted && copy[key] != null) copy[key] = REDACTED_PLACEHOLDER;
  }
  return copy;
}

/** JSON (2-space indent) or YAML of API objects, keys in API casing. */
export function renderData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) : stringify(value, { lineWidth: 0 }).trimEnd();
}
