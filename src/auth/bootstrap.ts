/**
 * The first admin: when asked (`--bootstrap-credentials FILE`), the API issues a client certificate
 * to the user `admin` (a member of threeport:admins) at start and writes it, with the CA, to FILE
 * (mode 0600) for whoever started it — `tptctl up` reads it into the tptctl config and removes it.
 * A file still there is left alone (a restart issues nothing); a new one revokes the admin's
 * earlier certificates, whose config entry `tptctl up` has just replaced.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { ObjectStore } from '../store/object-store.ts';
import type { CertificateAuthority } from './authority.ts';
import { ADMINS_GROUP } from './identities.ts';
import { generateKeyPair, privateKeyPem } from './x509.ts';

export const BOOTSTRAP_USER = 'admin';

/** What the file holds: PEM, keyed like the tptctl config's fields. */
export interface BootstrapCredentials {
  CACert: string;
  ClientCert: string;
  ClientKey: string;
}

export async function writeBootstrapCredentials(path: string, store: ObjectStore, authority: CertificateAuthority, lifetimeMs: number): Promise<'written' | 'kept'> {
  if (existsSync(path)) return 'kept';
  const users = store.registry.get('User');
  const certificates = store.registry.get('UserCertificate');
  const actor = { actor: 'threeport:bootstrap' };
  const [existing] = (await store.list(users, { filters: new Map([['Name', BOOTSTRAP_USER]]), page: 1, size: 1 })).objects;
  const user = existing ?? (await store.create(users, { Name: BOOTSTRAP_USER, Groups: [ADMINS_GROUP] }, actor));
  const earlier = (await store.list(certificates, { filters: new Map([['UserID', user.ID]]), page: 1, size: 1000 })).objects;
  const keys = generateKeyPair();
  const groups = Array.isArray(user.Groups) ? user.Groups.map(String) : [ADMINS_GROUP];
  const issued = authority.clientCertificate({ commonName: BOOTSTRAP_USER, organizations: groups }, keys.publicKey, lifetimeMs);
  await store.create(certificates, { UserID: user.ID, SerialNumber: issued.serialNumber, NotAfter: issued.notAfter.toISOString() }, actor);
  const credentials: BootstrapCredentials = { CACert: authority.pem, ClientCert: issued.certificate, ClientKey: privateKeyPem(keys.privateKey) };
  writeFileSync(path, JSON.stringify(credentials), { mode: 0o600, flag: 'wx' });
  for (const certificate of earlier) await store.delete(certificates, Number(certificate.ID), actor);
  return 'written';
}
