/**
 * Encrypted fields on their way into the database and the outbox. An unchanged ciphertext or the
 * redaction placeholder keeps the stored value, so clients can write back a whole object they read
 * (the original's idea, §2.8).
 */
import { isDeepStrictEqual } from 'node:util';
import { badRequest } from '../errors.ts';
import { type FieldCipher } from '../crypto/field-cipher.ts';
import { REDACTED_PLACEHOLDER } from '../model/fields.ts';
import type { ApiObject } from '../model/kind.ts';
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
      } else if (!isDeepStrictEqual(value, previous)) {
        // Not the stored ciphertext written back (a map's, SecretDefinition.Data's, is equal but not the same object).
        value = cipher.encryptValue(value);
      }
    }
    stored[column.key] = value;
  }
  return stored;
}
