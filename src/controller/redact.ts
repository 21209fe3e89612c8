/**
 * Messages that go where users read them — Status, Conditions, Events, logs — must not carry
 * secrets: no credentials in URLs, no keys or tokens, no value a reconcile decrypted. Bounded too.
 */

export const MAX_MESSAGE_LENGTH = 500;
const REDACTED = '[redacted]';

const patterns: readonly [RegExp, string][] = [
  // scheme://user:password@host → scheme://user:[redacted]@host
  [/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, `$1:${REDACTED}@`],
  // PEM blocks (private keys, certificates)
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, `[PEM ${REDACTED}]`],
  // Authorization headers and bearer tokens
  [/\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // password=…, token: …, secret="…", client-key-data …
  [/\b([a-z0-9_-]*(?:password|passwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|key-data)[a-z0-9_-]*)(["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi, `$1$2${REDACTED}`],
  // AWS access key IDs
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  // JWTs
  [/\beyJ[a-zA-Z0-9_-]{8,}\.[a-zA-Z0-9_-]{8,}\.[a-zA-Z0-9_-]{8,}\b/g, REDACTED],
];

/**
 * `message` without secrets and at most MAX_MESSAGE_LENGTH characters. `known` are values that
 * must never appear (what the reconcile decrypted); values shorter than 4 characters are left,
 * since redacting them would shred ordinary words.
 */
export function redact(message: string, known: Iterable<string> = []): string {
  let text = message;
  for (const secret of known) {
    if (secret.length >= 4) text = text.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of patterns) text = text.replace(pattern, replacement);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
}

/** A message fit for a user from any thrown value: its message (no stack), redacted and bounded. */
export function errorMessage(error: unknown, known: Iterable<string> = []): string {
  return redact(error instanceof Error ? error.message : String(error), known);
}
