/** A client certificate for a user: signed by the CA (CN the user, O their groups) and recorded, so that it is accepted. */
import type { KeyObject } from 'node:crypto';
import type { ApiObject } from '../model/kind.ts';
import { namesIn } from '../model/kinds/access.ts';
import type { ObjectStore, WriteOptions } from '../store/object-store.ts';
import type { CertificateAuthority, IssuedCertificate } from './authority.ts';

export async function issueToUser(
  store: ObjectStore,
  authority: CertificateAuthority,
  user: ApiObject,
  publicKey: KeyObject,
  lifetimeMs: number,
  writer: WriteOptions,
): Promise<{ issued: IssuedCertificate; record: ApiObject }> {
  const issued = authority.clientCertificate({ commonName: String(user.Name), organizations: namesIn(user.Groups) }, publicKey, lifetimeMs);
  const record = await store.create(store.registry.get('UserCertificate'), { UserID: user.ID, SerialNumber: issued.serialNumber, NotAfter: issued.notAfter.toISOString() }, writer);
  return { issued, record };
}
