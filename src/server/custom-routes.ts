import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth/guard.ts';
import { badRequest } from '../errors.ts';
import type { ScalarField } from '../model/fields.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { envelope } from './envelope.ts';
import { inputSchemaName, validatorRef } from './kind-schemas.ts';
import { bodyRoute, canonicalPayload, checkedPayload } from './payload.ts';
import { parseFilterValue, parsePaging } from './query.ts';

type Query = Record<string, string | string[] | undefined>;

/** The original's hand-written routes (§7.2), on top of the generic ones. */
export function registerCustomRoutes(app: FastifyInstance, store: ObjectStore): void {
  const { registry } = store;

  // The workload controller stores the manifests split out of a definition in one go.
  const resourceDefinition = registry.get('WorkloadResourceDefinition');
  const set = { type: 'array', minItems: 1, items: validatorRef(inputSchemaName(resourceDefinition)) };
  const canonicalSet = (body: unknown): unknown[] => {
    if (!Array.isArray(body) || body.length === 0) throw badRequest('JSON payload must be a non-empty array of WorkloadResourceDefinition objects');
    return body.map((item) => canonicalPayload(registry, resourceDefinition, item, 'POST'));
  };
  const createsDefinitions = { config: { access: { kind: resourceDefinition.name, verb: 'create' as const } } };
  app.post('/v0/workload-resource-definition-sets', { ...bodyRoute(registry, resourceDefinition, 'POST', set, canonicalSet), ...createsDefinitions }, async (request, reply) => {
    const inputs = (request.body as Record<string, unknown>[]).map((item) => checkedPayload(registry, resourceDefinition, item).object);
    const created = await store.createAll(resourceDefinition, inputs, actorOf(request));
    return reply.code(201).send(envelope(resourceDefinition.name, created, { Page: 1, Size: created.length, TotalCount: created.length }, 201));
  });

  // Removes the events of one workload instance (or helm workload instance).
  const workloadEvent = registry.get('WorkloadEvent');
  const eventOwners: Record<string, string> = { workloadinstanceid: 'WorkloadInstanceID', helmworkloadinstanceid: 'HelmWorkloadInstanceID' };
  app.delete('/v0/workload-events', { config: { access: { kind: workloadEvent.name, verb: 'delete' } } }, async (request, reply) => {
    const keys = Object.keys(request.query as Query);
    const key = keys[0];
    if (keys.length !== 1 || !key || !eventOwners[key]) {
      throw badRequest('exactly one query parameter is required: workloadinstanceid or helmworkloadinstanceid');
    }
    const field = eventOwners[key];
    const value = parseFilterValue(key, workloadEvent.fields[field] as ScalarField, String((request.query as Query)[key]));
    const deleted = await store.deleteWhere(workloadEvent, field, value, actorOf(request));
    return reply.send(envelope(workloadEvent.name, deleted, { Page: 1, Size: deleted.length, TotalCount: deleted.length }));
  });

  // Events attached to one object, with Event field filters.
  const event = registry.get('Event');
  app.get('/v0/events-join-attached-object-references', { config: { access: { kind: event.name, verb: 'read' } } }, async (request, reply) => {
    const query = request.query as Query;
    if (typeof query.objectid !== 'string') throw badRequest('query parameter objectid is required');
    const objectId = parseFilterValue('objectid', { valueType: 'integer' } as ScalarField, query.objectid) as number;
    const filters = new Map<string, unknown>();
    for (const key of Object.keys(query)) {
      if (['objectid', 'page', 'size'].includes(key)) continue;
      const fieldName = event.queryKeys.get(key);
      const field = fieldName ? event.fields[fieldName] : undefined;
      if (!fieldName || field?.kind !== 'scalar') throw badRequest(`unsupported query parameter: ${key}`);
      filters.set(event.jsonKey(fieldName), parseFilterValue(key, field, String(query[key])));
    }
    const paging = parsePaging(query);
    const { objects, total } = await store.eventsForObject(objectId, { filters, ...paging });
    return reply.send(envelope(event.name, objects, { Page: paging.page, Size: paging.size, TotalCount: total }));
  });
}
