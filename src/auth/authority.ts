/**
 * The control plane's certificate authority. Made by the first API process to start and kept in the
 * database, its key encrypted with the control plane's key: every API replica signs with it, and it
 * never leaves them (clients send public keys and get certificates back).
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Queryable } from '../store/database.ts';
import { generateKeyPair, issueCertificate, parsePrivateKey, privateKeyPem, type Certificate, type Subject } from './x509.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const AUTHORITY_LIFETIME_MS = 10 * 365 * DAY_MS;
/** Each API process makes its own serving certificate at start; a year outlasts any process. */
const SERVER_LIFETIME_MS = 365 * DAY_MS;

/** The names every API server certificate carries: loopback and the original's in-cluster Service names. */
const standardServerNames = [
  'localhost',
  '127.0.0.1',
  '::1',
  'threeport-api-server',
  'threeport-api-server.threeport-control-plane',
  'threeport-api-server.threeport-control-plane.svc',
  'threeport-api-server.threeport-control-plane.svc.cluster.local',
];

export interface IssuedCertificate {
  certificate: string;
  serialNumber: string;
  notAfter: Date;
}

export class CertificateAuthority {
  readonly certificate: Certificate;
  readonly #privateKey: KeyObject;

  constructor(certificate: Certificate, privateKey: KeyObject) {
    this.certificate = certificate;
    this.#privateKey = privateKey;
  }

  get pem(): string {
    return this.certificate.pem;
  }

  /** A serving certificate with a fresh key, for this process only. */
  serverCertificate(names: readonly string[]): { certificate: string; key: string } {
    const keys = generateKeyPair();
    const issued = issueCertificate({
      subject: { commonName: 'threeport-api-server', organizations: ['threeport'] },
      publicKey: keys.publicKey,
      use: 'server',
      altNames: [...new Set([...standardServerNames, ...names])],
      notAfter: new Date(Date.now() + SERVER_LIFETIME_MS),
      issuer: { certificate: this.certificate, privateKey: this.#privateKey },
    });
    return { certificate: issued.pem, key: privateKeyPem(keys.privateKey) };
  }

  /** A client certificate for `publicKey`, naming its holder (CN) and groups (O). */
  clientCertificate(subject: Subject, publicKey: KeyObject, lifetimeMs: number): IssuedCertificate {
    const issued = issueCertificate({
      subject,
      publicKey,
      use: 'client',
      notAfter: new Date(Date.now() + lifetimeMs),
      issuer: { certificate: this.certificate, privateKey: this.#privateKey },
    });
    return { certificate: issued.pem, serialNumber: issued.serialNumber, notAfter: issued.notAfter };
  }
}

/** The stored authority, or a new one stored first (the first of several replicas starting together wins). */
export async function loadAuthority(db: Queryable, cipher: FieldCipher, controlPlaneId: string): Promise<CertificateAuthority> {
  const read = async () => (await db.query<{ certificate: string; private_key: string; subject: Subject }>('SELECT certificate, private_key, subject FROM threeport_certificate_authority'))[0];
  let row = await read();
  if (!row) {
    const keys = generateKeyPair();
    const subject: Subject = { commonName: `threeport CA ${controlPlaneId.slice(0, 8)}`, organizations: ['threeport'] };
    const made = issueCertificate({ subject, publicKey: keys.publicKey, selfSigningKey: keys.privateKey, use: 'authority', notAfter: new Date(Date.now() + AUTHORITY_LIFETIME_MS) });
    await db.query(
      'INSERT INTO threeport_certificate_authority (singleton, certificate, private_key, subject, created_at) VALUES (true, $1, $2, $3, $4) ON CONFLICT (singleton) DO NOTHING',
      [made.pem, cipher.encrypt(privateKeyPem(keys.privateKey)), JSON.stringify(subject), new Date()],
    );
    row = await read();
    if (!row) throw new Error('the certificate authority could not be stored');
  }
  const parsed = new X509Certificate(row.certificate);
  const privateKey = parsePrivateKey(cipher.decrypt(row.private_key));
  return new CertificateAuthority({ pem: row.certificate, serialNumber: parsed.serialNumber, subject: row.subject, publicKey: parsed.publicKey, notAfter: new Date(parsed.validTo) }, privateKey);
}
