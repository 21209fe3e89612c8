/**
 * The first admin: when asked (`--bootstrap-credentials FILE`), the API issues a client certificate
 * to the user `admin` (a member of threeport:admins) at start and writes it, with the CA, to FILE
 * (mode 0600) for whoever started it — `tptctl up` reads it into the tptctl config and removes it.
 * A file already there is left alone: a restart issues nothing, and of API processes starting
 * together (--workers) only the one that creates the file issues.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import type { ObjectStore } from '../store/object-store.ts';
import type { CertificateAuthority } from './authority.ts';
import { ADMINS_GROUP } from './identities.ts';
import { issueToUser } from './user-certificates.ts';
import { generateKeyPair, privateKeyPem } from './x509.ts';

export const BOOTSTRAP_USER = 'admin';

/** What the file holds: PEM, keyed like the tptctl config's fields. */
export interface BootstrapCredentials {
  CACert: string;
  ClientCert: string;
  ClientKey: string;
}

export async function writeBootstrapCredentials(path: string, store: ObjectStore, authority: CertificateAuthority, lifetimeMs: number): Promise<'written' | 'kept'> {
  let file: number;
  try {
    file = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'kept';
    throw error;
  }
  try {
    const users = store.registry.get('User');
    const actor = { actor: 'threeport:bootstrap' };
    const [existing] = (await store.list(users, { filters: new Map([['Name', BOOTSTRAP_USER]]), page: 1, size: 1 })).objects;
    const user = existing ?? (await store.create(users, { Name: BOOTSTRAP_USER, Groups: [ADMINS_GROUP] }, actor));
    const keys = generateKeyPair();
    const { issued } = await issueToUser(store, authority, user, keys.publicKey, lifetimeMs, actor);
    const credentials: BootstrapCredentials = { CACert: authority.pem, ClientCert: issued.certificate, ClientKey: privateKeyPem(keys.privateKey) };
    writeSync(file, JSON.stringify(credentials));
  } catch (error) {
    closeSync(file);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(file);
  return 'written';
}
