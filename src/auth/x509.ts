/**
 * X.509 certificates for the control plane's own CA, written with node:crypto alone: ECDSA P-256
 * keys, SHA-256 signatures, and the few extensions TLS clients check (Go's among them: it matches
 * names against subjectAltName only, never the CN). Node parses and verifies them natively
 * (crypto.X509Certificate); only issuing needs this encoder.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

// ── DER ─────────────────────────────────────────────────────────────────────────────────────────

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (tag: number, content: Buffer): Buffer => tlv(0xa0 + tag, content);
const octetString = (content: Buffer): Buffer => tlv(0x04, content);
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const booleanTrue = (): Buffer => tlv(0x01, Buffer.from([0xff]));

function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value % 128);
      if (value < 128) break;
    }
    bytes.push(...groups.map((group, index) => (index < groups.length - 1 ? group | 0x80 : group)));
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A BIT STRING of named bits (bit 0 is the most significant), without trailing zero bits. */
function namedBits(bits: number[]): Buffer {
  const byteCount = Math.floor(Math.max(...bits) / 8) + 1;
  const bytes = Buffer.alloc(byteCount);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (Math.max(...bits) % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

const bitString = (content: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:T]/g, '');
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

// ── Certificates ────────────────────────────────────────────────────────────────────────────────

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

/** CN and O, as Kubernetes reads them: the holder's name, one O per group. */
export interface Subject {
  commonName: string;
  organizations?: readonly string[];
}

function distinguishedName(subject: Subject): Buffer {
  const attribute = (type: string, value: string): Buffer => set(sequence(oid(type), utf8(value)));
  return sequence(...(subject.organizations ?? []).map((organization) => attribute(OID.organization, organization)), attribute(OID.commonName, subject.commonName));
}

function extension(id: string, value: Buffer, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function subjectAltNames(names: readonly string[]): Buffer {
  return sequence(
    ...names.map((name) => {
      const family = isIP(name);
      if (family === 0) return tlv(0x82, Buffer.from(name, 'ascii'));
      const bytes = family === 4 ? Buffer.from(name.split('.').map(Number)) : ipv6Bytes(name);
      return tlv(0x87, bytes);
    }),
  );
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string): string[] => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = address.includes('::') ? [...groups(head), ...Array<string>(missing).fill('0'), ...groups(tail)] : groups(address);
  return Buffer.concat(all.map((group) => Buffer.from(group.padStart(4, '0'), 'hex')));
}

const keyIdentifier = (publicKey: KeyObject): Buffer => createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();

export type CertificateUse = 'authority' | 'server' | 'client';

export interface CertificateRequest {
  subject: Subject;
  publicKey: KeyObject;
  use: CertificateUse;
  /** DNS names and IP addresses (servers). */
  altNames?: readonly string[];
  notAfter: Date;
  /** Absent: self-signed with `publicKey`'s own private key (an authority). */
  issuer?: { certificate: Certificate; privateKey: KeyObject };
  selfSigningKey?: KeyObject;
}

export interface Certificate {
  pem: string;
  /** Upper-case hex, as node:tls reports a peer's serialNumber. */
  serialNumber: string;
  subject: Subject;
  publicKey: KeyObject;
  notAfter: Date;
}

/** Backdated so that a peer whose clock runs a little behind accepts a fresh certificate. */
const CLOCK_SKEW_MS = 5 * 60_000;

export function issueCertificate(request: CertificateRequest): Certificate {
  const signer = request.issuer?.privateKey ?? request.selfSigningKey;
  if (!signer) throw new Error('a certificate needs an issuer, or a key of its own to sign itself');
  const issuerSubject = request.issuer?.certificate.subject ?? request.subject;
  const issuerKey = request.issuer?.certificate.publicKey ?? request.publicKey;
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const usage = {
    authority: [namedBits([0, 5, 6]), undefined],
    server: [namedBits([0]), [OID.serverAuth, OID.clientAuth]],
    client: [namedBits([0]), [OID.clientAuth]],
  } as const;
  const [keyUsage, extendedUses] = usage[request.use];
  const extensions = [
    extension(OID.basicConstraints, request.use === 'authority' ? sequence(booleanTrue()) : sequence(), true),
    extension(OID.keyUsage, keyUsage, true),
    ...(extendedUses ? [extension(OID.extendedKeyUsage, sequence(...extendedUses.map(oid)))] : []),
    ...(request.altNames?.length ? [extension(OID.subjectAltName, subjectAltNames(request.altNames))] : []),
    extension(OID.subjectKeyIdentifier, octetString(keyIdentifier(request.publicKey))),
    extension(OID.authorityKeyIdentifier, sequence(tlv(0x80, keyIdentifier(issuerKey)))),
  ];
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    distinguishedName(issuerSubject),
    sequence(time(new Date(Date.now() - CLOCK_SKEW_MS)), time(request.notAfter)),
    distinguishedName(request.subject),
    request.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const der = sequence(tbs, algorithm, bitString(sign('sha256', tbs, signer)));
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return {
    pem: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
    serialNumber: serial.toString('hex').toUpperCase(),
    subject: request.subject,
    publicKey: request.publicKey,
    notAfter: request.notAfter,
  };
}

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export const generateKeyPair = (): KeyPair => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

/** PKCS#8 PEM ("PRIVATE KEY"), which Go's tls.X509KeyPair and node:tls both read. */
export const privateKeyPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();
export const publicKeyPem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

/** A public key a client sent (SPKI PEM); only P-256, P-384 and RSA of 2048 bits or more are taken. */
export function parsePublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  const details = key.asymmetricKeyDetails ?? {};
  const acceptable =
    (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1'].includes(String(details.namedCurve))) ||
    (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048);
  if (!acceptable) throw new Error('the public key must be ECDSA P-256 or P-384, or RSA of at least 2048 bits');
  return key;
}

export const parsePrivateKey = (pem: string): KeyObject => createPrivateKey(pem);
