/** What `apply` would change on an existing object: the file's fields that differ from the API's. */
import { isDeepStrictEqual } from 'node:util';
import type { ApiObject, Kind } from '../../model/kind.ts';
import type { FieldCipher } from '../../crypto/field-cipher.ts';

function decrypted(value: unknown, cipher: FieldCipher): unknown {
  if (typeof value === 'string') return cipher.decrypt(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, cipher.decrypt(String(entry))]));
  }
  return value;
}

/**
 * Wire keys of `desired` whose value differs from `current`. Fields the API never returns can't be
 * compared: nested child lists (gateway ports) count as unchanged. Encrypted fields are compared
 * after decrypting with the control plane's key; with no key they always count as changed.
 */
export function changedFields(kind: Kind, desired: ApiObject, current: ApiObject, cipher: FieldCipher | undefined): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(desired)) {
    const name = kind.payloadKeys.get(key.toLowerCase());
    const field = name ? kind.fields[name] : undefined;
    if (!field || field.kind !== 'scalar') continue;
    let stored = current[key];
    if (field.encrypted && stored != null) {
      if (!cipher) {
        changed.push(key);
        continue;
      }
      try {
        stored = decrypted(stored, cipher);
      } catch {
        changed.push(key);
        continue;
      }
    }
    if (!isDeepStrictEqual(value, stored ?? field.default ?? null)) changed.push(key);
  }
  return changed;
}
