import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, type RouteAccess } from '../auth/guard.ts';
import { ApiError, badRequest } from '../errors.ts';
import type { Verb } from '../auth/permissions.ts';
import { API_VERSION, type ApiObject } from '../model/kind.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { envelope } from './envelope.ts';
import { inputSchemaName, patchSchemaName, validatorRef } from './kind-schemas.ts';
import { bodyRoute, checkedPayload, parseId, parseIfMatch, type CheckedPayload } from './payload.ts';
import { parsePaging, parseListQuery } from './query.ts';

type IdRequest = FastifyRequest<{ Params: { id: string } }>;
type Query = Record<string, string | string[] | undefined>;

/** The expected version: If-Match header, else a `Version` in the body. */
function expectedVersion(request: FastifyRequest, fromBody?: number): { expectedVersion?: number } {
  const version = parseIfMatch(request.headers['if-match']) ?? fromBody;
  return version === undefined ? {} : { expectedVersion: version };
}

/**
 * `?dryRun=true` (or Kubernetes' `All`) on a write: everything is checked and the result returned
 * as it would be stored, and nothing is (the response says so in `Threeport-Dry-Run`).
 */
function dryRunOf(request: FastifyRequest): { dryRun?: true } {
  const value = (request.query as Query).dryRun;
  if (value === undefined || value === 'false') return {};
  if (value === 'true' || value === 'All') return { dryRun: true };
  throw badRequest('query parameter dryRun must be true or false');
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours `?dryRun=true`; any other write asked for a dry run is refused, never done for real. */
    dryRunnable?: true;
  }
}

/** Refuses `?dryRun` on writes that cannot do one (custom routes: resource-definition sets, events, certificates…). */
export function refuseUnsupportedDryRuns(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if (request.method === 'GET' || (request.query as Query | undefined)?.dryRun === undefined) return;
    if (!request.routeOptions.config.dryRunnable) throw badRequest(`${request.method} ${request.routeOptions.url ?? request.url} cannot be dry-run: leave out dryRun`);
  });
}

/** The v0 CRUD routes of every routed kind, all from the registry. */
export function registerKindRoutes(app: FastifyInstance, store: ObjectStore): void {
  const { registry } = store;
  for (const kind of registry.routed) {
    const sendOne = (reply: FastifyReply, object: ApiObject, code = 200): FastifyReply => {
      if (reply.request.method !== 'GET' && dryRunOf(reply.request).dryRun) reply.header('threeport-dry-run', 'true');
      return reply.code(code).header('etag', `"${String(object.Version)}"`).send(envelope(kind.name, [object], undefined, code));
    };
    const payload = (request: FastifyRequest): CheckedPayload => checkedPayload(registry, kind, request.body as Record<string, unknown>);
    const input = validatorRef(inputSchemaName(kind));
    const on = (verb: Verb, namesOneObject = false): { config: { access: RouteAccess; dryRunnable?: true } } => ({
      config: { access: { kind: kind.name, verb, ...(namesOneObject && { namesOneObject }) }, ...(verb !== 'read' && { dryRunnable: true as const }) },
    });

    app.get(`/${kind.plural}/versions`, { config: { access: 'public' } }, async () => ({ API: kind.name, Versions: [API_VERSION] }));

    app.get(kind.path, on('read'), async (request, reply) => {
      const query = parseListQuery(kind, request.query as Query);
      const { objects, total } = await store.list(kind, query);
      return reply.send(envelope(kind.name, objects, { Page: query.page, Size: query.size, TotalCount: total }));
    });

    app.post(kind.path, { ...bodyRoute(registry, kind, 'POST', input), ...on('create') }, async (request, reply) => {
      const { object } = payload(request);
      try {
        return sendOne(reply, await store.create(kind, object, { ...actorOf(request), ...dryRunOf(request) }), 201);
      } catch (error) {
        const existing = error instanceof ApiError && (error.reason === 'AlreadyExists' || error.reason === 'NameTaken') ? await store.findExisting(kind, object) : undefined;
        if (!existing) throw error;
        return sendOne(reply, existing, 200);
      }
    });

    app.get(`${kind.path}/:id`, on('read', true), async (request: IdRequest, reply) => {
      return sendOne(reply, await store.mustGet(kind, parseId(request.params.id)));
    });

    app.patch(`${kind.path}/:id`, { ...bodyRoute(registry, kind, 'PATCH', validatorRef(patchSchemaName(kind))), ...on('update', true) }, async (request, reply) => {
      const id = parseId((request as IdRequest).params.id);
      const { object, expectedVersion: fromBody } = payload(request);
      return sendOne(reply, await store.update(kind, id, object, { ...expectedVersion(request, fromBody), ...actorOf(request), ...dryRunOf(request) }));
    });

    app.put(`${kind.path}/:id`, { ...bodyRoute(registry, kind, 'PUT', input), ...on('update', true) }, async (request, reply) => {
      const id = parseId((request as IdRequest).params.id);
      const { object, expectedVersion: fromBody } = payload(request);
      return sendOne(reply, await store.replace(kind, id, object, { ...expectedVersion(request, fromBody), ...actorOf(request), ...dryRunOf(request) }));
    });

    app.delete(`${kind.path}/:id`, on('delete', true), async (request: IdRequest, reply) => {
      const id = parseId(request.params.id);
      const { object } = await store.delete(kind, id, { ...expectedVersion(request), ...actorOf(request), ...dryRunOf(request) });
      return sendOne(reply, object);
    });

    app.get(`${kind.path}/:id/revisions`, on('read', true), async (request: IdRequest, reply) => {
      const id = parseId(request.params.id);
      const { page, size } = parsePaging(request.query as Query);
      const { revisions, total } = await store.revisions(kind, id, page, size);
      return reply.send(envelope(`${kind.name}Revision`, revisions, { Page: page, Size: size, TotalCount: total }));
    });
  }
}
