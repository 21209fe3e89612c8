/**
 * Authentication and authorization for every route, in one place. Each route declares what it
 * touches (`config.access`: a kind and a verb, or public); a route that declares nothing is refused
 * at start. Who the caller is comes from the TLS connection or a bearer token (authenticate.ts);
 * what they may do, from their roles and the kind's owner family (permissions.ts), for some roles
 * on some runtimes only (runtime-scope.ts); which fields they may write, from the fields' owners
 * (field-ownership.ts); what they see of encrypted fields, from their roles (redaction.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, notFound } from '../errors.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { authenticate } from './authenticate.ts';
import { nestedKindsIn, refuseAllButReports, refuseControllerFields } from './field-ownership.ts';
import { ANONYMOUS_ADMIN, type Identity, type IdentityResolver } from './identities.ts';
import { allows, readsHiddenFields, reportsOnly, rolesAllowing, seesSecrets, writesControllerFields, type Verb } from './permissions.ts';
import { redactEnvelope, redactorOf } from './redaction.ts';
import { RuntimeScope, runtimeScopeOf } from './runtime-scope.ts';

export type RouteAccess =
  | 'public'
  /** Any caller the API knows (e.g. asking who they are). */
  | 'authenticated'
  | {
      kind: string;
      verb: Verb;
      /** The route names one object (`:id`): objects the caller may not read are a 404. */
      namesOneObject?: boolean;
      /** The route decides itself who may (issuing certificates: admins, and users for themselves). */
      authorizesItself?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    identity: Identity;
  }
}

export interface GuardOptions {
  store: ObjectStore;
  /** Absent: auth is off, every caller is an anonymous admin. */
  resolver?: IdentityResolver;
}

function refusal(identity: Identity, kind: Kind, verb: Verb): Error {
  const needed = rolesAllowing(kind, verb);
  const roles = needed.length > 1 ? `${needed.slice(0, -1).join(', ')} or ${needed.at(-1)}` : needed[0];
  return forbidden(`${identity.name} (${identity.roles.join(', ') || 'no roles'}) may not ${verb} ${kind.name} objects${roles ? `: that needs the ${roles} role` : ''}`);
}

function authorize(identity: Identity, kind: Kind, access: Exclude<RouteAccess, string>): void {
  const { verb } = access;
  if (access.authorizesItself) return;
  if (verb === 'create' && kind.issuedBy) throw forbidden(`${kind.name} objects are made by ${kind.issuedBy}, not created directly`);
  if (allows(identity.roles, kind, verb)) return;
  // What the caller may not even read does not exist for them.
  if (access.namesOneObject && !allows(identity.roles, kind, 'read')) throw notFound();
  throw refusal(identity, kind, verb);
}

const bodiesOf = (request: FastifyRequest): Record<string, unknown>[] => {
  const body = request.body;
  if (!body || typeof body !== 'object') return [];
  return (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
};

/** The object the route names, read once for the checks that compare with it (a bad ID is the route's 400). */
async function namedObject(request: FastifyRequest, kind: Kind, store: ObjectStore): Promise<ApiObject | undefined> {
  const id = Number((request.params as { id?: string }).id);
  return Number.isSafeInteger(id) && id > 0 ? store.get(kind, id) : undefined;
}

/** What a write may not do though its verb is allowed: fields of others, other runtimes, children of kinds it may not create. */
async function checkWrite(request: FastifyRequest, kind: Kind, verb: Verb, store: ObjectStore, scope: RuntimeScope): Promise<void> {
  const { identity } = request;
  const bodies = bodiesOf(request);
  const existing = await namedObject(request, kind, store);
  for (const body of bodies) {
    for (const child of nestedKindsIn(kind, body)) if (!allows(identity.roles, store.registry.get(child), 'create')) throw refusal(identity, store.registry.get(child), 'create');
    for (const made of verb === 'delete' ? [] : (kind.rules.makes?.(body) ?? [])) {
      if (!allows(identity.roles, store.registry.get(made), 'create')) throw forbidden(`${refusal(identity, store.registry.get(made), 'create').message}; this ${kind.name} would have one made`);
    }
  }
  const runtimes = runtimeScopeOf(identity, kind, verb);
  if (runtimes) for (const body of bodies.length > 0 ? bodies : [{}]) await scope.check(identity, kind, runtimes, existing, body);
  if (verb === 'delete') return;
  if (reportsOnly(identity.roles, kind, verb)) for (const body of bodies) refuseAllButReports(kind, body);
  if (!writesControllerFields(identity.roles)) refuseControllerFields(kind, bodies, existing);
}

export function registerGuard(app: FastifyInstance, options: GuardOptions): void {
  const { store, resolver } = options;
  const { registry } = store;
  const redactors = new Map(registry.kinds.map((kind) => [kind.name, { encrypted: redactorOf(kind), hidden: redactorOf(kind, 'hidden') }]));
  const scope = new RuntimeScope(store);

  // Set by onRequest on every route but the public ones (which have no use for it).
  app.decorateRequest('identity', null as unknown as Identity);

  app.addHook('onRoute', (route) => {
    if (!route.config?.access) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (request.is404 || access === 'public') return;
    if (!access) throw forbidden('this route is not open to anyone');
    request.identity = resolver ? await authenticate(request, resolver) : ANONYMOUS_ADMIN;
    if (access !== 'authenticated') authorize(request.identity, registry.get(access.kind), access);
  });

  app.addHook('preHandler', async (request) => {
    const access = request.routeOptions.config.access;
    if (typeof access !== 'object' || access.verb === 'read' || access.authorizesItself) return;
    await checkWrite(request, registry.get(access.kind), access.verb, store, scope);
  });

  app.addHook('preSerialization', async (request, _reply, payload: unknown) => {
    const access = request.routeOptions.config.access;
    if (typeof access !== 'object' || !request.identity) return payload;
    const { roles } = request.identity;
    const kind = registry.get(access.kind);
    // With auth off every caller may do anything, the in-process controllers among them.
    if (!resolver || readsHiddenFields(roles, kind)) return payload;
    const redact = seesSecrets(roles) ? redactors.get(kind.name)?.hidden : redactors.get(kind.name)?.encrypted;
    return redact ? redactEnvelope(payload, redact) : payload;
  });

  // This replica forgets what it knew of users, certificates, bindings and tokens once they change,
  // before the answer leaves: the caller's next request sees the change.
  app.addHook('onSend', async (request, reply, payload) => {
    const access = request.routeOptions.config.access;
    if (resolver && typeof access === 'object' && access.verb !== 'read' && reply.statusCode < 400 && registry.get(access.kind).owners === 'access') resolver.forget();
    return payload;
  });
}

/** Who writes, for the revision a write records. */
/**
 * Who made a write and from where, as its revision records it: the identity, and the product the
 * request came from (its User-Agent: tptctl, threeport-controller, curl, Go-http-client…).
 */
export const actorOf = (request: FastifyRequest): { actor: string } => {
  const product = /^[\x21-\x7e]{1,60}/.exec(request.headers['user-agent'] ?? '')?.[0];
  return { actor: product ? `${request.identity.name} via ${product}` : request.identity.name };
};
