import type { Field } from '../model/fields.ts';
import { commonFields, type Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './query.ts';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

function fieldSchema(field: Field): Schema {
  const described = field.description ? { description: field.description } : {};
  if (field.kind === 'nested') return { type: 'array', items: ref(`${field.childKind}Input`), ...described };
  if (field.kind === 'association') return { type: 'array', items: ref(field.childKind), readOnly: true, ...described };
  const base: Schema = {
    string: { type: 'string' },
    integer: { type: 'integer', format: 'int64' },
    boolean: { type: 'boolean' },
    time: { type: 'string', format: 'date-time' },
    json: {},
  }[field.valueType];
  return {
    ...base,
    ...described,
    ...(field.oneOf && { enum: [...field.oneOf] }),
    ...(field.default !== undefined && { default: field.default }),
    ...(field.kind === 'scalar' && field.references && { description: `ID of a ${field.references}. ${field.description ?? ''}`.trim() }),
    ...(field.encrypted && { 'x-encrypted': true, description: `${field.description ?? ''} Stored encrypted; returned as ciphertext.`.trim() }),
    ...(field.transient && { writeOnly: true }),
  };
}

function kindSchemas(kind: Kind): Record<string, Schema> {
  const properties: Record<string, Schema> = {
    ID: { type: 'integer', format: 'int64', readOnly: true },
    CreatedAt: { type: 'string', format: 'date-time', readOnly: true },
    UpdatedAt: { type: 'string', format: 'date-time', readOnly: true },
  };
  const input: Record<string, Schema> = {};
  for (const [name, field] of Object.entries(kind.fields)) {
    properties[kind.jsonKey(name)] = fieldSchema(field);
    if (field.kind !== 'association') input[kind.jsonKey(name)] = fieldSchema(field);
  }
  properties.Version = { type: 'integer', readOnly: true, description: 'Optimistic-concurrency version; also the ETag.' };
  const required = Object.entries(kind.fields).filter(([, f]) => f.required).map(([name]) => kind.jsonKey(name));
  const writable = { ...input, Version: { type: 'integer', description: 'Expected current version (like If-Match).' } };
  return {
    [kind.name]: { type: 'object', description: kind.description, properties },
    // POST and PUT: every required field.
    [`${kind.name}Input`]: {
      type: 'object',
      description: `${kind.description} The API sets ${commonFields.join(', ')}; sending them is a 400.`,
      properties: writable,
      additionalProperties: false,
      ...(required.length > 0 && { required }),
    },
    // PATCH: any subset; null clears an optional field.
    [`${kind.name}Patch`]: {
      type: 'object',
      description: `Fields of ${kind.name} to change; null clears an optional field.`,
      properties: writable,
      additionalProperties: false,
      minProperties: 1,
    },
  };
}

function envelopeOf(kind: string): Schema {
  return {
    description: 'OK',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: {
            Meta: ref('Meta'),
            Type: { type: 'string', const: kind },
            Data: { type: 'array', items: ref(kind) },
            Status: ref('Status'),
          },
        },
      },
    },
  };
}

const errors: Record<string, Schema> = {
  '400': { $ref: '#/components/responses/Error' },
  '404': { $ref: '#/components/responses/Error' },
  '409': { $ref: '#/components/responses/Error' },
};

/** An OpenAPI 3.1 description of the v0 API, derived from the registry. */
export function openApiDocument(registry: Registry, version: string): Schema {
  const paths: Record<string, Schema> = {};
  const schemas: Record<string, Schema> = {
    Meta: { type: 'object', properties: { Page: { type: 'integer' }, Size: { type: 'integer' }, TotalCount: { type: 'integer' } } },
    Status: { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' }, error: { type: 'string' } } },
  };
  const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'integer', format: 'int64', minimum: 1 } };
  const ifMatch = { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'The ETag last seen; a stale one is a 409.' };
  const paging = [
    { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 } },
    { name: 'size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
  ];

  for (const kind of registry.kinds) {
    Object.assign(schemas, kindSchemas(kind));
    if (!kind.routed) continue;
    const body = { required: true, content: { 'application/json': { schema: ref(`${kind.name}Input`) } } };
    const patchBody = { required: true, content: { 'application/json': { schema: ref(`${kind.name}Patch`) } } };
    const filters = [...kind.queryKeys].map(([key, field]) => {
      const spec = kind.fields[field];
      const type = spec?.valueType === 'integer' ? 'integer' : spec?.valueType === 'boolean' ? 'boolean' : 'string';
      return { name: key, in: 'query', required: false, schema: { type }, ...(key !== spec?.query && { deprecated: true }) };
    });
    const tags = [kind.domain];
    paths[kind.path] = {
      get: { operationId: `list${kind.name}s`, tags, summary: `List ${kind.name}s`, parameters: [...filters, ...paging], responses: { '200': envelopeOf(kind.name), '400': errors['400'] } },
      post: { operationId: `create${kind.name}`, tags, summary: `Create a ${kind.name}`, requestBody: body, responses: { '201': envelopeOf(kind.name), ...errors } },
    };
    paths[`${kind.path}/{id}`] = {
      parameters: [idParameter],
      get: { operationId: `get${kind.name}`, tags, responses: { '200': envelopeOf(kind.name), ...errors } },
      patch: { operationId: `update${kind.name}`, tags, parameters: [ifMatch], requestBody: patchBody, responses: { '200': envelopeOf(kind.name), ...errors } },
      put: { operationId: `replace${kind.name}`, tags, parameters: [ifMatch], requestBody: body, responses: { '200': envelopeOf(kind.name), ...errors } },
      delete: {
        operationId: `delete${kind.name}`,
        tags,
        parameters: [ifMatch],
        description: kind.controller ? 'Two-phase: the first DELETE schedules deletion; the object goes once its controller confirms.' : 'Deletes the object.',
        responses: { '200': envelopeOf(kind.name), ...errors },
      },
    };
    paths[`${kind.path}/{id}/revisions`] = {
      parameters: [idParameter],
      get: { operationId: `get${kind.name}Revisions`, tags, parameters: paging, summary: 'Every recorded change of the object', responses: { '200': { description: 'Revisions, oldest first' }, '404': errors['404'] } },
    };
    paths[`/${kind.plural}/versions`] = {
      get: { operationId: `get${kind.name}Versions`, tags, responses: { '200': { description: 'API versions of the kind' } } },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'threeport API', version, description: 'Application orchestration control plane, wire-compatible with Threeport v0.' },
    paths,
    components: {
      schemas,
      responses: {
        Error: { description: 'Error envelope', content: { 'application/json': { schema: { type: 'object', properties: { Meta: ref('Meta'), Type: { type: 'string' }, Data: { type: 'null' }, Status: ref('Status') } } } } },
      },
    },
  };
}
