/** Encrypted fields as the redaction placeholder, for callers who may not see even their ciphertext (hidden fields: everyone but the kind's controllers). */
import { REDACTED_PLACEHOLDER } from '../model/fields.ts';
import type { ApiObject, Kind } from '../model/kind.ts';

export type Redact = (object: ApiObject) => ApiObject;

/** Undefined for a kind without such fields: every encrypted one, or only the hidden ones (which only the kind's controllers read). */
export function redactorOf(kind: Kind, which: 'encrypted' | 'hidden' = 'encrypted'): Redact | undefined {
  const keys = Object.entries(kind.fields)
    .filter(([, field]) => field.kind === 'scalar' && (which === 'hidden' ? field.hidden === true : field.encrypted))
    .map(([name]) => kind.jsonKey(name));
  if (keys.length === 0) return undefined;
  return (object) => {
    const shown = { ...object };
    for (const key of keys) if (shown[key] != null) shown[key] = REDACTED_PLACEHOLDER;
    return shown;
  };
}

/** An envelope's Data with objects (and revisions' snapshots) redacted. */
export function redactEnvelope(payload: unknown, redact: Redact): unknown {
  const envelope = payload as { Data?: unknown };
  if (!Array.isArray(envelope?.Data)) return payload;
  const data = envelope.Data.map((item: ApiObject) => (item && typeof item.Object === 'object' && item.Object ? { ...item, Object: redact(item.Object as ApiObject) } : redact(item)));
  return { ...envelope, Data: data };
}
