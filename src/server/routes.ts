import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSION, type ApiObject, type Kind } from '../model/kind.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { envelope } from './envelope.ts';
import { checkPayload, parseId, parseIfMatch, type WriteMethod } from './payload.ts';
import { parsePaging, parseListQuery } from './query.ts';

type IdRequest = FastifyRequest<{ Params: { id: string } }>;
type Query = Record<string, string | string[] | undefined>;

function sendOne(reply: FastifyReply, kind: Kind, object: ApiObject, code = 200): FastifyReply {
  return reply.code(code).header('etag', `"${String(object.Version)}"`).send(envelope(kind.name, [object], undefined, code));
}

/** The expected version: If-Match header, else a `Version` in the body. */
function expectedVersion(request: FastifyRequest, fromBody?: number): { expectedVersion?: number } {
  const version = parseIfMatch(request.headers['if-match']) ?? fromBody;
  return version === undefined ? {} : { expectedVersion: version };
}

/** The v0 CRUD routes of every routed kind, all from the registry. */
export function registerKindRoutes(app: FastifyInstance, store: ObjectStore): void {
  for (const kind of store.registry.routed) {
    const write = (request: FastifyRequest, method: WriteMethod) => checkPayload(store.registry, kind, request.body, method);

    app.get(`/${kind.plural}/versions`, async () => ({ API: kind.name, Versions: [API_VERSION] }));

    app.get(kind.path, async (request, reply) => {
      const query = parseListQuery(kind, request.query as Query);
      const { objects, total } = await store.list(kind, query);
      return reply.send(envelope(kind.name, objects, { Page: query.page, Size: query.size, TotalCount: total }));
    });

    app.post(kind.path, async (request, reply) => {
      const { object } = write(request, 'POST');
      return sendOne(reply, kind, await store.create(kind, object), 201);
    });

    app.get(`${kind.path}/:id`, async (request: IdRequest, reply) => {
      return sendOne(reply, kind, await store.mustGet(kind, parseId(request.params.id)));
    });

    app.patch(`${kind.path}/:id`, async (request: IdRequest, reply) => {
      const id = parseId(request.params.id);
      const payload = write(request, 'PATCH');
      return sendOne(reply, kind, await store.update(kind, id, payload.object, expectedVersion(request, payload.expectedVersion)));
    });

    app.put(`${kind.path}/:id`, async (request: IdRequest, reply) => {
      const id = parseId(request.params.id);
      const payload = write(request, 'PUT');
      return sendOne(reply, kind, await store.replace(kind, id, payload.object, expectedVersion(request, payload.expectedVersion)));
    });

    app.delete(`${kind.path}/:id`, async (request: IdRequest, reply) => {
      const id = parseId(request.params.id);
      const { object } = await store.delete(kind, id, expectedVersion(request));
      return sendOne(reply, kind, object);
    });

    app.get(`${kind.path}/:id/revisions`, async (request: IdRequest, reply) => {
      const id = parseId(request.params.id);
      const { page, size } = parsePaging(request.query as Query);
      const { revisions, total } = await store.revisions(kind, id, page, size);
      return reply.send(envelope(`${kind.name}Revision`, revisions, { Page: page, Size: size, TotalCount: total }));
    });
  }
}
