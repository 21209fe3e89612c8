/**
 * POST /v0/users/:id/certificates: the CA signs a client certificate for a public key the caller
 * made (the private key never travels). Admins issue to anyone; a user renews their own.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { envelope } from '../server/envelope.ts';
import { parseId } from '../server/payload.ts';
import type { CertificateAuthority } from './authority.ts';
import { writerOf } from './guard.ts';
import { parsePublicKey } from './x509.ts';

interface CertificateRequestBody {
  PublicKey: string;
  /** Hours the certificate lasts; at most the control plane's limit. */
  LifetimeHours?: number;
  /** Revoke the user's other certificates once this one is issued (a rotation). */
  RevokeOthers?: boolean;
}

const HOUR_MS = 60 * 60 * 1000;

const bodySchema = {
  type: 'object',
  required: ['PublicKey'],
  additionalProperties: false,
  properties: {
    PublicKey: { type: 'string', minLength: 1, maxLength: 8192, description: 'PEM (SPKI) of an ECDSA P-256/P-384 or RSA (2048+) public key.' },
    LifetimeHours: { type: 'integer', minimum: 1 },
    RevokeOthers: { type: 'boolean' },
  },
};

export function registerCertificateRoutes(app: FastifyInstance, options: { store: ObjectStore; authority: CertificateAuthority; lifetimeMs: number }): void {
  const { store, authority, lifetimeMs } = options;
  const users = store.registry.get('User');
  const certificates = store.registry.get('UserCertificate');

  app.post(
    '/v0/users/:id/certificates',
    { schema: { body: bodySchema }, config: { access: { kind: certificates.name, verb: 'create', issuing: true } } },
    async (request: FastifyRequest<{ Params: { id: string }; Body: CertificateRequestBody }>, reply) => {
      const id = parseId(request.params.id);
      const { identity } = request;
      const isAdmin = identity.roles.includes('admin');
      const user = await store.get(users, id);
      // Someone else's user record is not theirs to learn about.
      if (!user || (!isAdmin && identity.user !== user.Name)) {
        if (!isAdmin && user) throw forbidden(`${identity.name} may only renew their own certificate`);
        throw badRequest(`no user with ID ${id}`);
      }
      let publicKey;
      try {
        publicKey = parsePublicKey(request.body.PublicKey);
      } catch (error) {
        throw badRequest(`PublicKey: ${(error as Error).message}`);
      }
      const lifetime = Math.min(lifetimeMs, (request.body.LifetimeHours ?? Infinity) * HOUR_MS);
      const groups = Array.isArray(user.Groups) ? user.Groups.map(String) : [];
      const issued = authority.clientCertificate({ commonName: String(user.Name), organizations: groups }, publicKey, lifetime);
      const record = await store.create(certificates, { UserID: id, SerialNumber: issued.serialNumber, NotAfter: issued.notAfter.toISOString() }, writerOf(request));
      if (request.body.RevokeOthers) {
        const { objects } = await store.list(certificates, { filters: new Map([['UserID', id]]), page: 1, size: 1000 });
        for (const other of objects) if (other.ID !== record.ID) await store.delete(certificates, Number(other.ID), writerOf(request));
      }
      return reply.code(201).send(envelope(certificates.name, [{ ...record, Certificate: issued.certificate, CACert: authority.pem }], undefined, 201));
    },
  );
}
