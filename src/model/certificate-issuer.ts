/**
 * Where a gateway's TLS certificates come from, as operators and profiles name it: Let's Encrypt
 * (production or staging), a self-signed issuer, or any ACME directory by its https:// URL.
 */
export type CertificateIssuer = { kind: 'acme'; server: string } | { kind: 'self-signed' };

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

export const certificateIssuerHint = 'use letsencrypt, letsencrypt-staging, self-signed, or the https:// URL of an ACME directory';

/** The issuer a name stands for; undefined when it names none. */
export function certificateIssuerNamed(name: string): CertificateIssuer | undefined {
  const value = name.trim();
  if (value === 'letsencrypt') return { kind: 'acme', server: LETS_ENCRYPT };
  if (value === 'letsencrypt-staging') return { kind: 'acme', server: LETS_ENCRYPT_STAGING };
  if (value === 'self-signed') return { kind: 'self-signed' };
  try {
    if (new URL(value).protocol === 'https:') return { kind: 'acme', server: value };
  } catch {
    // not a URL: names no issuer
  }
  return undefined;
}
