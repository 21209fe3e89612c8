/**
 * Encrypted and transient fields on their way into the database and the outbox. An unchanged
 * ciphertext or the redaction placeholder keeps the stored value, so clients can write back a
 * whole object they read (the original's idea, §2.8).
 */
import { badRequest } from '../errors.ts';
import { type FieldCipher, REDACTED_PLACEHOLDER } from '../crypto/field-cipher.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { KindTable } from './kind-table.ts';

/** `object` as stored: changed encrypted fields encrypted, unchanged ones as they were. */
export function protectedObject(table: KindTable, cipher: FieldCipher, object: ApiObject, existing: ApiObject | undefined): ApiObject {
  const stored: ApiObject = {};
  for (const column of table.columns) {
    let value = object[column.key];
    if (value === undefined) continue;
    if (column.spec.encrypted) {
      const previous = existing?.[column.key];
      if (value === REDACTED_PLACEHOLDER) {
        if (previous === undefined) throw badRequest(`${column.key} holds the redaction placeholder; send the real value`);
        value = previous;
      } else if (value !== previous) {
        value = cipher.encryptValue(value);
      }
    }
    stored[column.key] = value;
  }
  return stored;
}

/** Transient fields (SecretDefinition.Data): encrypted, handed to controllers in the notification, never stored. */
export function transientValues(kind: Kind, cipher: FieldCipher, input: ApiObject): ApiObject {
  const values: ApiObject = {};
  for (const [name, field] of Object.entries(kind.fields)) {
    const key = kind.jsonKey(name);
    if (field.kind !== 'scalar' || !field.transient || input[key] == null) continue;
    values[key] = field.encrypted ? cipher.encryptValue(input[key]) : input[key];
  }
  return values;
}
