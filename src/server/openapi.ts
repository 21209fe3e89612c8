import type { ScalarField } from '../model/fields.ts';
import type { Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import { accessRoutePaths } from '../auth/access-routes.ts';
import { controllerRoutePaths } from './controller-routes.ts';
import { INTEGER_MAX, TEXT_PATTERN, TIME_PATTERN } from '../store/storable-values.ts';
import { componentRef, inputSchemaName, kindSchemas, patchSchemaName, type Schema } from './kind-schemas.ts';
import { IF_MATCH_PATTERN } from './payload.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './query.ts';

const humanize = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** A query filter accepts what the field holds, as text (json fields are not filterable). */
function filterSchema(field: ScalarField): Schema {
  if (field.oneOf) return { type: 'string', enum: [...field.oneOf] };
  switch (field.valueType) {
    case 'integer':
      return { type: 'integer', format: 'int64', minimum: field.references ? 1 : -INTEGER_MAX, maximum: INTEGER_MAX };
    case 'boolean':
      return { type: 'boolean' };
    case 'time':
      return { type: 'string', format: 'date-time', pattern: TIME_PATTERN };
    default:
      return { type: 'string', pattern: TEXT_PATTERN };
  }
}

function envelopeOf(kind: string, description = 'OK', links?: Schema): Schema {
  return {
    description,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: { Meta: componentRef('Meta'), Type: { type: 'string', const: kind }, Data: { type: 'array', items: componentRef(kind) }, Status: componentRef('Status') },
          required: ['Meta', 'Type', 'Data', 'Status'],
        },
      },
    },
    ...(links && { links }),
  };
}

const error = (description: string): Schema => ({ description, content: { 'application/json': { schema: componentRef('Error') } } });

/** What the server checks beyond the body's schema, kind by kind, for the 400 and 409 descriptions. */
function writeRules(registry: Registry, kind: Kind): { badRequest: string; conflict: string } {
  const references = Object.entries(kind.fields)
    .filter(([, field]) => field.kind === 'scalar' && field.references)
    .map(([name, field]) => `${kind.jsonKey(name)} (${(field as ScalarField).references})`);
  const immutable = Object.entries(kind.fields).filter(([, field]) => field.immutable).map(([name]) => kind.jsonKey(name));
  const children = Object.values(kind.fields).filter((field) => field.kind === 'nested').map((field) => field.childKind);
  const badRequest = [
    'The body does not match the schema (the message names the field).',
    references.length > 0 && `An ID refers to no live object: ${references.join(', ')}.`,
    immutable.length > 0 && `A change to ${immutable.join(', ')} once set.`,
    kind.rules.validate && `A rule of ${kind.name} across its fields is broken (the message says which).`,
    children.length > 0 && `A nested ${children.join(' or ')} breaks its own kind's rules.`,
  ];
  const unique = [
    kind.uniqueName && `A live ${kind.name} already has this Name.`,
    ...kind.uniqueTogether.map((fields) => `A live ${kind.name} already has these ${fields.join(', ')}.`),
  ];
  return {
    badRequest: badRequest.filter(Boolean).join(' '),
    conflict: [...unique.filter(Boolean), 'The object is at another Version than If-Match or the body named.'].join(' '),
  };
}

function deleteConflicts(registry: Registry, kind: Kind): string {
  const blockers = registry.blockingReferencesTo(kind).map(({ kind: other, field }) => `${other.name}.${field}`);
  return [
    kind.controller && 'Deletion is already scheduled and its controller has not confirmed it yet.',
    blockers.length > 0 && `Live objects still refer to it: ${blockers.join(', ')}.`,
    'The object is at another Version than If-Match named.',
  ]
    .filter(Boolean)
    .join(' ');
}

/** Follow-up operations on the object a POST created, for stateful testing and for readers. */
function objectLinks(kind: Kind): Schema {
  const id = { id: '$response.body#/Data/0/ID' };
  return Object.fromEntries(
    [`get${kind.name}`, `update${kind.name}`, `replace${kind.name}`, `delete${kind.name}`, `get${kind.name}Revisions`].map((operationId) => [
      operationId,
      { operationId, parameters: id },
    ]),
  );
}

/**
 * An OpenAPI 3.1 description of the v0 API, derived from the registry. `schemas` are the very
 * objects the request validator compiled (kind-schemas.ts).
 */
export function openApiDocument(registry: Registry, version: string, schemas: Record<string, Schema> = kindSchemas(registry)): Schema {
  const paths: Record<string, Schema> = {};
  const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'integer', format: 'int64', minimum: 1, maximum: INTEGER_MAX } };
  const ifMatch = {
    name: 'If-Match',
    in: 'header',
    required: false,
    schema: { type: 'string', pattern: IF_MATCH_PATTERN },
    description: 'The ETag last seen; a stale one is a 409.',
  };
  const paging = [
    { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, maximum: INTEGER_MAX, default: 1 } },
    { name: 'size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
  ];
  const badId = 'The ID is not a positive integer below 2^53.';

  for (const kind of registry.routed) {
    const body = (name: string) => ({ required: true, content: { 'application/json': { schema: componentRef(name) } } });
    const filters = [...kind.queryKeys].map(([key, name]) => {
      const field = kind.fields[name] as ScalarField;
      return { name: key, in: 'query', required: false, schema: filterSchema(field), ...(key !== field.query && { deprecated: true }) };
    });
    const tags = [kind.domain];
    const rules = writeRules(registry, kind);
    const notFound = error(`No live ${humanize(kind.name)} has this ID.`);
    paths[kind.path] = {
      get: {
        operationId: `list${kind.name}s`,
        tags,
        summary: `List ${kind.name}s`,
        parameters: [...filters, ...paging],
        responses: { '200': envelopeOf(kind.name), '400': error('A query parameter that is not one of these, given twice, or of the wrong type.') },
      },
      post: {
        operationId: `create${kind.name}`,
        tags,
        summary: `Create a ${kind.name}`,
        requestBody: body(inputSchemaName(kind)),
        responses: { '201': envelopeOf(kind.name, 'Created', objectLinks(kind)), '400': error(rules.badRequest), '409': error(rules.conflict) },
      },
    };
    paths[`${kind.path}/{id}`] = {
      parameters: [idParameter],
      get: { operationId: `get${kind.name}`, tags, responses: { '200': envelopeOf(kind.name), '400': error(badId), '404': notFound } },
      patch: {
        operationId: `update${kind.name}`,
        tags,
        parameters: [ifMatch],
        requestBody: body(patchSchemaName(kind)),
        responses: { '200': envelopeOf(kind.name), '400': error(`${badId} ${rules.badRequest} A required field set to null.`), '404': notFound, '409': error(rules.conflict) },
      },
      put: {
        operationId: `replace${kind.name}`,
        tags,
        parameters: [ifMatch],
        requestBody: body(inputSchemaName(kind)),
        responses: { '200': envelopeOf(kind.name), '400': error(`${badId} ${rules.badRequest}`), '404': notFound, '409': error(rules.conflict) },
      },
      delete: {
        operationId: `delete${kind.name}`,
        tags,
        parameters: [ifMatch],
        description: kind.controller ? 'Two-phase: the first DELETE schedules deletion; the object goes once its controller confirms.' : 'Deletes the object.',
        responses: { '200': envelopeOf(kind.name), '400': error(badId), '404': notFound, '409': error(deleteConflicts(registry, kind)) },
      },
    };
    paths[`${kind.path}/{id}/revisions`] = {
      parameters: [idParameter],
      get: {
        operationId: `get${kind.name}Revisions`,
        tags,
        parameters: paging,
        summary: 'Every recorded change of the object',
        responses: {
          '200': {
            description: 'Revisions, oldest first',
            content: { 'application/json': { schema: { type: 'object', properties: { Meta: componentRef('Meta'), Type: { const: `${kind.name}Revision` }, Data: { type: 'array', items: componentRef('Revision') }, Status: componentRef('Status') } } } },
          },
          '400': error(badId),
          '404': notFound,
        },
      },
    };
    paths[`/${kind.plural}/versions`] = {
      get: {
        operationId: `get${kind.name}Versions`,
        tags,
        security: [],
        responses: {
          '200': {
            description: 'API versions of the kind',
            content: { 'application/json': { schema: { type: 'object', properties: { API: { const: kind.name }, Versions: { type: 'array', items: { type: 'string' } } } } } },
          },
        },
      },
    };
  }
  Object.assign(paths, controllerRoutePaths(registry, envelopeOf, error), accessRoutePaths(envelopeOf, error));
  for (const open of ['/version', '/livez', '/readyz', '/metrics', '/openapi.json']) paths[open] = { get: { summary: 'Open to all, with auth on too', security: [], responses: { '200': { description: 'OK' } } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'threeport API',
      version,
      description: `Application orchestration control plane, wire-compatible with Threeport v0.

With auth on (the default off loopback), every route but health and this description needs a client
certificate of the control plane's CA (mutual TLS, as the original) or a bearer token. A caller the
API does not know gets 401; one whose roles do not allow the request 403, naming the role it needs;
objects of kinds the caller may not read are 404. Encrypted fields come as the redaction
placeholder to roles that may not see secrets.`,
    },
    paths,
    security: [{ mutualTLS: [] }, { bearerToken: [] }],
    components: {
      securitySchemes: {
        mutualTLS: { type: 'mutualTLS', description: "A client certificate signed by the control plane's CA (tptctl keeps it in its config: CACert, Credentials)." },
        bearerToken: { type: 'http', scheme: 'bearer', description: 'A token made with tptctl token create (only its SHA-256 is stored).' },
      },
      schemas: {
        ...schemas,
        Meta: { type: 'object', properties: { Page: { type: 'integer' }, Size: { type: 'integer' }, TotalCount: { type: 'integer' } } },
        Status: { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' }, error: { type: 'string' } } },
        Error: { type: 'object', properties: { Meta: componentRef('Meta'), Type: { type: 'string' }, Data: { type: 'null' }, Status: componentRef('Status') } },
        Revision: {
          type: 'object',
          properties: {
            Version: { type: 'integer' },
            Operation: { type: 'string', description: 'Created, Updated, Replaced, DeletionScheduled or Deleted.' },
            RecordedAt: { type: 'string', format: 'date-time' },
            Actor: { type: 'string', description: 'Who made the change: user:<name>, token:<name>, controllers, anonymous (auth off).' },
            Object: { type: 'object', description: 'The object as it was after the change.' },
          },
        },
      },
    },
  };
}
