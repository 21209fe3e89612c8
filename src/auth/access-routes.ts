/**
 * The routes of access itself: GET /v0/whoami (who the API takes the caller for);
 * POST /v0/users/:id/certificates, where the CA signs a client certificate for a public key the
 * caller made (the private key never travels): admins issue to anyone, a user renews their own; and
 * POST /v0/kubernetes-runtime-instances/:id/agent-token, the identity of a runtime's agent, issued
 * when the runtime controller installs it: the role agent, for that runtime only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, notFound } from '../errors.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { envelope } from '../server/envelope.ts';
import { parseId } from '../server/payload.ts';
import type { CertificateAuthority } from './authority.ts';
import { actorOf } from './guard.ts';
import { newToken } from './identities.ts';
import { issueToUser } from './user-certificates.ts';
import { parsePublicKey } from './x509.ts';

interface CertificateRequestBody {
  PublicKey: string;
  /** Hours the certificate lasts; at most the control plane's limit. */
  LifetimeHours?: number;
  /** Revoke the user's other certificates once this one is issued (a rotation). */
  RevokeOthers?: boolean;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** An agent's token lasts a year and is replaced in its last month. */
const AGENT_TOKEN_LIFETIME_MS = 365 * DAY_MS;
const AGENT_TOKEN_RENEWAL_MS = 30 * DAY_MS;

/** Who installs agents: the runtime controller (alone or with the others), and admins. */
const ISSUES_AGENT_TOKENS = new Set(['admin', 'controller', 'controller:kubernetes-runtime']);

type Schema = Record<string, unknown>;

/** The OpenAPI description of these routes. */
export function accessRoutePaths(envelopeOf: (type: string, description?: string) => Schema, error: (description: string) => Schema): Record<string, Schema> {
  return {
    '/v0/whoami': {
      get: {
        operationId: 'whoami',
        tags: ['access'],
        summary: 'Who the API takes the caller for: name (user:<name>, token:<name>), roles, and for users their ID and groups',
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object', properties: { Name: { type: 'string' }, Roles: { type: 'array', items: { type: 'string' } }, UserID: { type: 'integer' }, Groups: { type: 'array', items: { type: 'string' } } } } } } }, '401': error('Not authenticated.') },
      },
    },
    '/v0/users/{id}/certificates': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
      post: {
        operationId: 'issueUserCertificate',
        tags: ['access'],
        summary: "The CA signs a client certificate for the caller's public key (admins for anyone, users for themselves); the answer's UserCertificate carries Certificate and CACert (PEM)",
        requestBody: { required: true, content: { 'application/json': { schema: bodySchema } } },
        responses: {
          '201': envelopeOf('UserCertificate', 'Issued'),
          '400': error('The public key is not ECDSA P-256/P-384 or RSA 2048+.'),
          '403': error('Not an admin, and not the user (whether or not the user exists).'),
          '404': error('An admin named no user; or auth is off: there is no CA.'),
        },
      },
    },
    '/v0/kubernetes-runtime-instances/{id}/agent-token': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
      post: {
        operationId: 'issueAgentToken',
        tags: ['access'],
        summary: "The token of the runtime's agent (role agent, for this runtime only): kept when CurrentTokenHash is the one in force and far from expiry (200, no Token), else a new one (201, Token shown once). For the runtime controller and admins.",
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { CurrentTokenHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } } } } } },
        responses: { '200': envelopeOf('ApiToken', 'The token held is still good'), '201': envelopeOf('ApiToken', 'A new token, in Token'), '403': error('Not the runtime controller nor an admin.'), '404': error('No such runtime; or auth is off.') },
      },
    },
  };
}

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

/** Without `issuing` (auth off), only whoami, which answers anonymous. */
export function registerAccessRoutes(app: FastifyInstance, store: ObjectStore, issuing?: { authority: CertificateAuthority; lifetimeMs: number }): void {
  const users = store.registry.get('User');
  const certificates = store.registry.get('UserCertificate');

  // Who the caller is to this control plane: tptctl whoami, and a user's own ID to renew with.
  app.get('/v0/whoami', { config: { access: 'authenticated' } }, async (request) => {
    const { identity } = request;
    const [user] = identity.user ? (await store.list(users, { filters: new Map([['Name', identity.user]]), page: 1, size: 1 })).objects : [];
    return { Name: identity.name, Roles: identity.roles, ...(user && { UserID: user.ID, Groups: user.Groups ?? [] }) };
  });
  if (!issuing) return;
  const { authority, lifetimeMs } = issuing;

  app.post(
    '/v0/users/:id/certificates',
    { schema: { body: bodySchema }, config: { access: { kind: certificates.name, verb: 'create', authorizesItself: true } } },
    async (request: FastifyRequest<{ Params: { id: string }; Body: CertificateRequestBody }>, reply) => {
      const id = parseId(request.params.id);
      const { identity } = request;
      // Whether another user exists is not for a non-admin to learn: the same answer either way.
      const isAdmin = identity.roles.includes('admin');
      const user = isAdmin || identity.user ? await store.get(users, id) : undefined;
      if (!isAdmin && (!user || identity.user !== user.Name)) throw forbidden(`${identity.name} may only renew their own certificate`);
      if (!user) throw notFound(`no user with ID ${id}`);
      let publicKey;
      try {
        publicKey = parsePublicKey(request.body.PublicKey);
      } catch (error) {
        throw badRequest(`PublicKey: ${(error as Error).message}`);
      }
      const lifetime = Math.min(lifetimeMs, (request.body.LifetimeHours ?? Infinity) * HOUR_MS);
      const { issued, record } = await issueToUser(store, authority, user, publicKey, lifetime, actorOf(request));
      if (request.body.RevokeOthers) {
        const { objects } = await store.list(certificates, { filters: new Map([['UserID', id]]), page: 1, size: 1000 });
        for (const other of objects) if (other.ID !== record.ID) await store.delete(certificates, Number(other.ID), actorOf(request));
      }
      return reply.code(201).send(envelope(certificates.name, [{ ...record, Certificate: issued.certificate, CACert: authority.pem }], undefined, 201));
    },
  );

  const runtimes = store.registry.get('KubernetesRuntimeInstance');
  const tokens = store.registry.get('ApiToken');
  app.post(
    '/v0/kubernetes-runtime-instances/:id/agent-token',
    {
      schema: { body: { type: ['object', 'null'], additionalProperties: false, properties: { CurrentTokenHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } } } },
      config: { access: { kind: runtimes.name, verb: 'update', namesOneObject: true, authorizesItself: true } },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Body: { CurrentTokenHash?: string } | null }>, reply) => {
      const id = parseId(request.params.id);
      if (!request.identity.roles.some((role) => ISSUES_AGENT_TOKENS.has(role))) throw forbidden(`${request.identity.name} may not issue agents' tokens: the runtime controller does`);
      const runtime = await store.get(runtimes, id);
      if (!runtime) throw notFound();
      const name = `agent-${id}`;
      const scope = [String(runtime.Name)];
      const [current] = (await store.list(tokens, { filters: new Map([['Name', name]]), page: 1, size: 1 })).objects;
      // The token the agent holds is still good: nothing to hand out.
      const stillGood =
        current &&
        current.TokenHash === request.body?.CurrentTokenHash &&
        Date.parse(String(current.ExpiresAt)) > Date.now() + AGENT_TOKEN_RENEWAL_MS &&
        JSON.stringify(current.Runtimes) === JSON.stringify(scope);
      if (stillGood) return reply.send(envelope(tokens.name, [current]));
      if (current) await store.delete(tokens, Number(current.ID), actorOf(request));
      const { token, hash } = newToken();
      const record = await store.create(tokens, { Name: name, Role: 'agent', TokenHash: hash, ExpiresAt: new Date(Date.now() + AGENT_TOKEN_LIFETIME_MS).toISOString(), Runtimes: scope }, actorOf(request));
      return reply.code(201).send(envelope(tokens.name, [{ ...record, Token: token }], undefined, 201));
    },
  );
}
