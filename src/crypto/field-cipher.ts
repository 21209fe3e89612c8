import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for fields marked `encrypted`, in the original's format — base64(nonce ‖ ciphertext ‖ tag)
 * under a base64 32-byte key — so controllers built on either side can decrypt what the other wrote.
 */
export class FieldCipher {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Parses a base64-encoded 32-byte key; throws a message fit for a start-up error. */
  static fromBase64(text: string): FieldCipher {
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== 32) {
      throw new Error(`the encryption key must be 32 bytes encoded as base64 (got ${key.length} bytes); generate one with: openssl rand -base64 32`);
    }
    return new FieldCipher(key);
  }

  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  encrypt(plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64');
  }

  /** Throws when `ciphertext` was not produced with this key. */
  decrypt(ciphertext: string): string {
    const raw = Buffer.from(ciphertext, 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error('ciphertext too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** Decrypts what encryptValue made: a string, or every value of a string map. */
  decryptValue(value: unknown): unknown {
    if (typeof value === 'string') return this.decrypt(value);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, this.decrypt(String(entry))]));
    }
    return value;
  }

  /** Encrypts a string, or every value of a string map (SecretDefinition.Data). */
  encryptValue(value: unknown): unknown {
    if (typeof value === 'string') return this.encrypt(value);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, this.encrypt(String(entry))]));
    }
    return value;
  }
}
