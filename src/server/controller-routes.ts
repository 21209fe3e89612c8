/**
 * Routes for controllers and agents, beside the original's (all additions; its clients never call
 * them): ask for a reconcile, page through what still needs a controller, record an Event.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf } from '../auth/guard.ts';
import { badRequest } from '../errors.ts';
import { API_VERSION } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { envelope } from './envelope.ts';
import { parseId } from './payload.ts';

type Query = Record<string, string | string[] | undefined>;

const MAX_PENDING_PAGE = 1000;
const MAX_TEXT = 1024;

function text(body: Record<string, unknown>, key: string, { required = true, max = MAX_TEXT } = {}): string {
  const value = body[key];
  if (value === undefined && !required) return '';
  if (typeof value !== 'string' || (required && !value)) throw badRequest(`${key} must be a non-empty string`);
  if (value.length > max || value.includes('\u0000')) throw badRequest(`${key} must be at most ${max} characters, without NUL`);
  return value;
}

const bodyOf = (request: FastifyRequest): Record<string, unknown> => {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('JSON payload must be an object');
  return body as Record<string, unknown>;
};

export function registerControllerRoutes(app: FastifyInstance, store: ObjectStore): void {
  const { registry } = store;
  for (const kind of registry.reconcilable) {
    // An agent that saw drift, or a controller whose object changed something this one depends on.
    app.post(`${kind.path}/:id/reconcile`, { config: { access: { kind: kind.name, verb: 'update', namesOneObject: true } } }, async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const id = parseId(request.params.id);
      const reason = text(bodyOf(request), 'Reason', { required: false, max: 200 });
      await store.requestReconcile(kind, id, reason);
      return reply.code(202).send(envelope(kind.name, [], { Page: 1, Size: 0, TotalCount: 0 }, 202));
    });

    // What resync walks: not reconciled, or deleted by the controller but not yet removed.
    app.get(`${kind.path}/pending`, { config: { access: { kind: kind.name, verb: 'read' } } }, async (request, reply) => {
      const query = request.query as Query;
      const after = query.after === undefined ? 0 : Number(query.after);
      const size = query.size === undefined ? 500 : Number(query.size);
      if (!Number.isSafeInteger(after) || after < 0) throw badRequest('after must be an object ID (0 for the first page)');
      if (!Number.isSafeInteger(size) || size < 1 || size > MAX_PENDING_PAGE) throw badRequest(`size must be between 1 and ${MAX_PENDING_PAGE}`);
      const objects = await store.pending(kind, after, size);
      return reply.send(envelope(kind.name, objects, { Page: 1, Size: size, TotalCount: objects.length }));
    });
  }

  // A controller Event on an object, counted when it repeats (atomic; see store/event-log.ts).
  app.post('/v0/events/record', { config: { access: { kind: 'Event', verb: 'create' } } }, async (request, reply) => {
    const body = bodyOf(request);
    const objectType = text(body, 'ObjectType', { max: 200 });
    const kind = registry.find(objectType.startsWith(`${API_VERSION}.`) ? objectType.slice(API_VERSION.length + 1) : objectType);
    if (!kind) throw badRequest(`ObjectType "${objectType}" is not a kind, e.g. v0.WorkloadInstance`);
    const objectId = body.ObjectID;
    if (typeof objectId !== 'number' || !Number.isSafeInteger(objectId) || objectId < 1) throw badRequest('ObjectID must be an object ID');
    const type = text(body, 'Type', { max: 20 });
    if (type !== 'Normal' && type !== 'Warning') throw badRequest('Type must be Normal or Warning');
    const { event, created } = await store.recordEvent({
      kind,
      objectId,
      reason: text(body, 'Reason', { max: 128 }),
      type,
      note: text(body, 'Note', { required: false }),
      reportingController: text(body, 'ReportingController', { max: 128 }),
      ...actorOf(request),
    });
    const code = created ? 201 : 200;
    return reply.code(code).send(envelope('Event', [event], undefined, code));
  });
}

type Schema = Record<string, unknown>;

/** The OpenAPI description of these routes (their checks are the ones above). */
export function controllerRoutePaths(registry: Registry, envelopeOf: (type: string, description?: string) => Schema, error: (description: string) => Schema): Record<string, Schema> {
  const paths: Record<string, Schema> = {};
  const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } };
  for (const kind of registry.reconcilable) {
    const tags = [kind.domain];
    paths[`${kind.path}/{id}/reconcile`] = {
      parameters: [idParameter],
      post: {
        operationId: `requestReconcile${kind.name}`,
        tags,
        summary: `Ask the controller to reconcile a ${kind.name} now, whatever its state (an agent that saw drift, a related object that changed)`,
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { type: 'object', properties: { Reason: { type: 'string', maxLength: 200, description: 'Why, for the logs.' } }, additionalProperties: true } } },
        },
        responses: { '202': envelopeOf(kind.name, 'Accepted: the request is queued'), '400': error('The ID is not a positive integer, or Reason is not a string of at most 200 characters.'), '404': error(`No live ${kind.name} has this ID.`) },
      },
    };
    paths[`${kind.path}/pending`] = {
      get: {
        operationId: `listPending${kind.name}s`,
        tags,
        summary: `${kind.name}s that still need their controller (not reconciled, or confirmed deleted but not removed), in ID order`,
        parameters: [
          { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 }, description: 'Only objects with a greater ID (keyset paging).' },
          { name: 'size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PENDING_PAGE, default: 500 } },
        ],
        responses: { '200': envelopeOf(kind.name), '400': error(`after is not an object ID, or size not between 1 and ${MAX_PENDING_PAGE}.`) },
      },
    };
  }
  paths['/v0/events/record'] = {
    post: {
      operationId: 'recordEvent',
      tags: ['events'],
      summary: 'Record a controller Event on an object, or count a repeat of it (same reason, type, note and reporting controller)',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['ObjectType', 'ObjectID', 'Reason', 'Type', 'ReportingController'],
              properties: {
                ObjectType: { type: 'string', maxLength: 200, description: 'The kind, e.g. v0.WorkloadInstance.' },
                ObjectID: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
                Reason: { type: 'string', minLength: 1, maxLength: 128 },
                Type: { enum: ['Normal', 'Warning'] },
                Note: { type: 'string', maxLength: MAX_TEXT },
                ReportingController: { type: 'string', minLength: 1, maxLength: 128 },
              },
            },
          },
        },
      },
      responses: { '200': envelopeOf('Event', 'A repeat: the Event with its Count incremented'), '201': envelopeOf('Event', 'A new Event'), '400': error('A field missing or of the wrong type, or ObjectType not a kind.'), '404': error('No live object of that kind has this ID.') },
    },
  };
  return paths;
}
