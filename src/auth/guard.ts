/**
 * Authentication and authorization for every route, in one place. Each route declares what it
 * touches (`config.access`: a kind and a verb, or public); a route that declares nothing is refused.
 * Who the caller is comes from the TLS connection (a client certificate of this control plane's CA)
 * or a bearer token; what they may do, from their roles and the kind's owner family.
 */
import { isDeepStrictEqual } from 'node:util';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { REDACTED_PLACEHOLDER } from '../crypto/field-cipher.ts';
import { forbidden, notFound, unauthenticated } from '../errors.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { ANONYMOUS_ADMIN, type Identity, type IdentityResolver } from './identities.ts';
import { allows, rolesAllowing, seesSecrets, writesControllerFields, type Verb } from './permissions.ts';

export type RouteAccess =
  | 'public'
  /** Any caller the API knows (e.g. asking who they are). */
  | 'authenticated'
  | {
      kind: string;
      verb: Verb;
      /** The route names one object (`:id`): objects the caller may not read are a 404. */
      one?: boolean;
      /** The route issues objects of the kind (certificates) and decides itself who may. */
      issuing?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    identity: Identity;
    /** The write is allowed only on these runtimes (by name): the caller's role is bound for them only. */
    runtimeScope?: readonly string[];
  }
}

export interface GuardOptions {
  store: ObjectStore;
  /** Absent: auth is off, every caller is an anonymous admin. */
  resolver?: IdentityResolver;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The peer certificate's serial, read once per connection. */
const serials = new WeakMap<object, string | undefined>();

function certificateSerial(request: FastifyRequest): string | undefined {
  const socket = request.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  if (!serials.has(socket)) serials.set(socket, socket.getPeerCertificate().serialNumber || undefined);
  return serials.get(socket);
}

async function authenticate(request: FastifyRequest, resolver: IdentityResolver): Promise<Identity> {
  const header = request.headers.authorization;
  if (header) {
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    return resolver.fromToken(token);
  }
  const serial = certificateSerial(request);
  if (serial) return resolver.fromCertificate(serial);
  throw unauthenticated('authentication required: connect with a client certificate of this control plane (the tptctl config holds it), or send a bearer token (tptctl token create)');
}

/** Undefined: allowed everywhere; else the runtimes the roles that allow `verb` are bound for. */
function runtimeScopeOf(identity: Identity, kind: Kind, verb: Verb): readonly string[] | undefined {
  const scopes = identity.runtimeScopes;
  if (verb === 'read' || !scopes) return undefined;
  const everywhere = identity.roles.filter((role) => !scopes[role]);
  if (allows(everywhere, kind, verb)) return undefined;
  return identity.roles.filter((role) => scopes[role] && allows([role], kind, verb)).flatMap((role) => scopes[role] ?? []);
}

function authorize(request: FastifyRequest, kind: Kind, access: Exclude<RouteAccess, string>): void {
  const { identity } = request;
  const { verb } = access;
  if (access.issuing) return;
  if (verb === 'create' && kind.issuedBy) throw forbidden(`${kind.name} objects are made by ${kind.issuedBy}, not created directly`);
  if (allows(identity.roles, kind, verb)) {
    const scope = runtimeScopeOf(identity, kind, verb);
    if (scope) request.runtimeScope = scope;
    return;
  }
  // What the caller may not even read does not exist for them.
  if (access.one && !allows(identity.roles, kind, 'read')) throw notFound();
  const needed = rolesAllowing(kind, verb);
  const hint = needed.length > 0 ? `: that needs the ${needed.length > 1 ? `${needed.slice(0, -1).join(', ')} or ${needed.at(-1)}` : needed[0]} role` : '';
  throw forbidden(`${identity.name} (${identity.roles.join(', ') || 'no roles'}) may not ${verb} ${kind.name} objects${hint}`);
}

/** Fields only controllers (and admins) write: what they report, and declaring an object reconciled. */
async function refuseControllerFields(request: FastifyRequest, kind: Kind, store: ObjectStore): Promise<void> {
  const body = request.body;
  if (!body || typeof body !== 'object') return;
  const items = (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
  const id = (request.params as { id?: string }).id;
  const existing = id !== undefined && /^\d+$/.test(id) ? await store.get(kind, Number(id)) : undefined;
  for (const item of items) {
    for (const [key, value] of Object.entries(item)) {
      const name = kind.payloadKeys.get(key.toLowerCase());
      const field = name ? kind.fields[name] : undefined;
      if (!name || field?.kind !== 'scalar') continue;
      const reserved = field.owner === 'controller' || (name === 'Reconciled' && value === true);
      if (!reserved || value === null || value === false || value === '') continue;
      if (existing && isDeepStrictEqual(existing[kind.jsonKey(name)], value)) continue;
      throw forbidden(`${kind.jsonKey(name)} is written by controllers only; leave it out`);
    }
  }
}

const RUNTIME = 'KubernetesRuntimeInstance';

/**
 * A role bound for some runtimes only changes what runs on those: the object's runtime before and
 * after the write (for a create without one, the default runtime the API would pick).
 */
async function refuseOtherRuntimes(request: FastifyRequest, kind: Kind, allowed: readonly string[], store: ObjectStore): Promise<void> {
  const field = Object.keys(kind.fields).find((name) => {
    const spec = kind.fields[name];
    return spec?.kind === 'scalar' && spec.references === RUNTIME;
  });
  if (!field) return;
  const runtimes = store.registry.get(RUNTIME);
  const key = kind.jsonKey(field);
  const ids = new Set<number>();
  const body = request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? (request.body as Record<string, unknown>) : {};
  const sent = Object.entries(body).find(([name]) => kind.payloadKeys.get(name.toLowerCase()) === field)?.[1];
  if (typeof sent === 'number') ids.add(sent);
  const id = (request.params as { id?: string }).id;
  if (id !== undefined && /^\d+$/.test(id)) {
    const existing = await store.get(kind, Number(id));
    if (typeof existing?.[key] === 'number') ids.add(existing[key]);
  } else if (sent == null) {
    const [fallback] = (await store.list(runtimes, { filters: new Map([['DefaultRuntime', true]]), page: 1, size: 1 })).objects;
    if (fallback) ids.add(Number(fallback.ID));
  }
  for (const runtimeId of ids) {
    const name = String((await store.get(runtimes, runtimeId))?.Name ?? `with ID ${runtimeId}`);
    if (!allowed.includes(name)) throw forbidden(`${request.identity.name} may change ${kind.name} objects on the runtimes ${allowed.join(', ')} only, not on ${name}`);
  }
}

/** Encrypted fields as the placeholder, for callers who may not see even their ciphertext. */
function redactor(kind: Kind): ((object: ApiObject) => ApiObject) | undefined {
  const keys = Object.entries(kind.fields)
    .filter(([, field]) => field.kind === 'scalar' && field.encrypted && !field.transient)
    .map(([name]) => kind.jsonKey(name));
  if (keys.length === 0) return undefined;
  return (object) => {
    const shown = { ...object };
    for (const key of keys) if (shown[key] != null) shown[key] = REDACTED_PLACEHOLDER;
    return shown;
  };
}

export function registerGuard(app: FastifyInstance, options: GuardOptions): void {
  const { store, resolver } = options;
  const registry: Registry = store.registry;
  const redactors = new Map(registry.kinds.map((kind) => [kind.name, redactor(kind)]));

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
    if (access !== 'authenticated') authorize(request, registry.get(access.kind), access);
  });

  app.addHook('preHandler', async (request) => {
    const access = request.routeOptions.config.access;
    if (typeof access !== 'object' || access.verb === 'read') return;
    const kind = registry.get(access.kind);
    if (request.runtimeScope) await refuseOtherRuntimes(request, kind, request.runtimeScope, store);
    if (access.verb === 'delete' || writesControllerFields(request.identity.roles)) return;
    await refuseControllerFields(request, kind, store);
  });

  app.addHook('preSerialization', async (request, _reply, payload: unknown) => {
    const access = request.routeOptions.config.access;
    if (typeof access !== 'object' || !request.identity || seesSecrets(request.identity.roles)) return payload;
    const redact = redactors.get(access.kind);
    const envelope = payload as { Data?: unknown };
    if (!redact || !Array.isArray(envelope?.Data)) return payload;
    const data = envelope.Data.map((item: ApiObject) => (item && typeof item.Object === 'object' && item.Object ? { ...item, Object: redact(item.Object as ApiObject) } : redact(item)));
    return { ...envelope, Data: data };
  });

  // This replica forgets what it knew of users, certificates, bindings and tokens once they change.
  app.addHook('onResponse', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (!resolver || typeof access !== 'object' || access.verb === 'read' || reply.statusCode >= 400) return;
    if (registry.get(access.kind).owners === 'access') resolver.forget();
  });
}

/** The writer a revision records. */
export const writerOf = (request: FastifyRequest): { actor: string } => ({ actor: request.identity.name });
