import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerAccessRoutes } from '../auth/access-routes.ts';
import type { CertificateAuthority } from '../auth/authority.ts';
import { registerGuard } from '../auth/guard.ts';
import type { IdentityResolver } from '../auth/identities.ts';
import { isApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isDatabaseError, type DatabaseError } from '../store/database.ts';
import { reportUnreadableValuesTo } from '../store/kind-table.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { registerControllerRoutes } from './controller-routes.ts';
import { registerCustomRoutes } from './custom-routes.ts';
import { errorEnvelope } from './envelope.ts';
import { registerJsonBodies } from './json-bodies.ts';
import { ApiMetrics, registerMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { refuseUnsupportedDryRuns, registerKindRoutes } from './routes.ts';
import { registerKindSchemas, validatorOptions } from './validation.ts';

export interface AppOptions {
  store: ObjectStore;
  logger: Logger;
  /** Reported by GET /version. */
  version: string;
  /** This control plane's identity, reported by GET /version (what it puts into clusters is labelled with it). */
  controlPlaneId?: string;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  /** Where request metrics go (served on GET /metrics); a registry of the app's own when not given. */
  metrics?: ApiMetrics;
  /** Extra readiness checks (database, bus); each throws when not ready. */
  readiness?: Record<string, () => Promise<unknown>>;
  /** Auth on: HTTPS with this authority's certificates, callers known by certificate or token. */
  auth?: {
    authority: CertificateAuthority;
    resolver: IdentityResolver;
    /** This server's certificate and key (PEM). */
    serving: { certificate: string; key: string };
    /** How long client certificates issued through the API last. */
    certificateLifetimeMs: number;
    /** Connections without a client certificate are refused at the handshake. */
    requireClientCertificates?: boolean;
  };
}

const fastifyMessages: Record<string, (options: AppOptions) => string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => 'unsupported Content-Type: send application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: (options) => `request body too large: the limit is ${options.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes`,
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'JSON payload is empty',
  FST_ERR_CTP_INVALID_JSON_BODY: () => 'request body is not valid JSON',
};

/** PostgreSQL errors caused by the values a client sent: bad encoding, untranslatable characters, out of range. */
const userDataErrors = new Set(['22021', '22P05', '22003', '22007', '22008', '22P02', '54000']);

const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/** One line per request, without bodies or headers: secrets travel in bodies only. */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  }
}

const typeOf = (url: string, app: { store: ObjectStore }): string => {
  const plural = /^\/v0\/([a-z-]+)/.exec(url)?.[1];
  return (plural && app.store.registry.byPlural(plural)?.name) || '';
};

/**
 * Database drivers attach the statement, its parameters and their values to errors; none of that
 * may reach a log (parameters carry secrets). Keep what identifies the failure.
 */
function loggableError(error: Error): Record<string, unknown> {
  if (!isDatabaseError(error)) return { type: error.name, message: error.message, stack: error.stack };
  const { code, routine, constraint, table } = error as DatabaseError & { routine?: string; table?: string };
  return { type: 'DatabaseError', code, message: error.message, routine, constraint, table };
}

/** The REST API: generic v0 routes for every kind, the original's custom routes, health and docs. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { store, logger } = options;
  const auth = options.auth;
  const app = Fastify({
    // Client certificates are asked for, not required unless so configured: CI and agents may come
    // with a bearer token instead. One that is presented must be valid (the secureConnection handler below).
    ...(auth && {
      https: { key: auth.serving.key, cert: auth.serving.certificate, ca: auth.authority.pem, requestCert: true, rejectUnauthorized: auth.requireClientCertificates === true, minVersion: 'TLSv1.2' as const },
    }),
    // Fastify infers its logger type from this value; pino's own type is narrower than its interface.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    logController: new RequestLog(),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    ajv: validatorOptions,
  });
  if (auth) {
    // A certificate of another CA, expired or otherwise invalid ends the connection at once.
    app.server.on('secureConnection', (socket: TLSSocket) => {
      if (!socket.authorized && socket.getPeerCertificate()?.serialNumber) socket.destroy();
    });
  }
  registerGuard(app, { store, ...(auth && { resolver: auth.resolver }) });
  registerJsonBodies(app);
  refuseUnsupportedDryRuns(app);
  const schemas = registerKindSchemas(app, store.registry);
  reportUnreadableValuesTo((value) => logger.warn(value, 'a stored value cannot be read; responses leave it out'));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const type = typeOf(request.url, { store });
    if (isApiError(error)) return reply.code(error.status).send(errorEnvelope(type, error.status, error.message, error.reason));
    if (isDatabaseError(error) && userDataErrors.has(error.code)) {
      // A value the database cannot store that the checks did not catch: still the client's data.
      return reply.code(400).send(errorEnvelope(type, 400, 'a value in the request cannot be stored (invalid characters or out of range)'));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own rejections: bad JSON, body too large, wrong content type.
      const message = fastifyMessages[error.code]?.(options) ?? error.message;
      return reply.code(error.statusCode).send(errorEnvelope(type, error.statusCode, message));
    }
    request.log.error({ err: loggableError(error), method: request.method, url: request.url }, 'request failed');
    return reply.code(500).send(errorEnvelope(type, 500, `internal error (request ${request.id}); see the API server log`));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorEnvelope(typeOf(request.url, { store }), 404, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  const open = { config: { access: 'public' as const } };
  app.get('/version', open, async () => ({ Version: options.version, ...(options.controlPlaneId && { ControlPlaneID: options.controlPlaneId }) }));
  app.get('/livez', open, async () => 'OK');
  app.get('/readyz', open, async (_request, reply) => {
    const failures: Record<string, string> = {};
    for (const [name, check] of Object.entries(options.readiness ?? {})) {
      await check().catch((error: unknown) => (failures[name] = error instanceof Error ? error.message : String(error)));
    }
    if (Object.keys(failures).length > 0) return reply.code(503).send({ ready: false, failures });
    return 'OK';
  });

  registerMetrics(app, options.metrics ?? new ApiMetrics());

  const document = openApiDocument(store.registry, options.version, schemas);
  app.get('/openapi.json', open, async () => document);

  registerCustomRoutes(app, store);
  registerControllerRoutes(app, store);
  registerKindRoutes(app, store);
  registerAccessRoutes(app, store, auth && { authority: auth.authority, lifetimeMs: auth.certificateLifetimeMs });
  return app;
}
