import type { FastifyInstance } from 'fastify';

/** Methods whose routes take no body: the original's Go client still sends `Content-Type: application/json` with them. */
const bodyless = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** JSON bodies (Fastify's parser, prototype poisoning refused), empty ones allowed where no body is taken. */
export function registerJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0 && bodyless.has(request.method)) return done(null, undefined);
    void parse(request, body as string, done);
  });
}
