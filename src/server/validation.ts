/**
 * How request bodies are checked: the kinds' schemas, compiled by Fastify's ajv with settings that
 * check and never repair (no type coercion, no silent removal of unknown fields, no defaults).
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Registry } from '../model/registry.ts';
import { annotationKeywords, kindSchemas, SCHEMA_ID, type Schema } from './kind-schemas.ts';

type AjvPlugin = Extract<NonNullable<NonNullable<FastifyServerOptions['ajv']>['plugins']>[number], (...args: never[]) => unknown>;

const declareAnnotations: AjvPlugin = (ajv) => {
  // `components` holds the schemas in the document's layout, so that refs inside resolve alike.
  for (const keyword of [...annotationKeywords, 'components']) ajv.addKeyword({ keyword });
  return ajv;
};

/** The `ajv` option of the Fastify instance. */
export const validatorOptions: NonNullable<FastifyServerOptions['ajv']> = {
  customOptions: {
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: false,
    // The first error only: all errors would let one request make the validator do unbounded work.
    allErrors: false,
    // Errors carry the failing value and its schema, which the messages are made from.
    verbose: true,
    // Nullable fields are `type: [T, 'null']`.
    allowUnionTypes: true,
  },
  plugins: [declareAnnotations],
};

/** Makes every kind's schemas known to the validator; returns them for the OpenAPI document. */
export function registerKindSchemas(app: FastifyInstance, registry: Registry): Record<string, Schema> {
  const schemas = kindSchemas(registry);
  app.addSchema({ $id: SCHEMA_ID, components: { schemas } });
  return schemas;
}
