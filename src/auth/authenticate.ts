/** Who sent a request: the bearer of a token, else the holder of the TLS connection's client certificate. */
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { unauthenticated } from '../errors.ts';
import type { Identity, IdentityResolver } from './identities.ts';

const BEARER = /^Bearer(?:\s+(\S*))?\s*$/i;

/** The peer certificate's serial, read once per connection. */
const serials = new WeakMap<object, string | undefined>();

function certificateSerial(request: FastifyRequest): string | undefined {
  const socket = request.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  if (!serials.has(socket)) serials.set(socket, socket.getPeerCertificate().serialNumber || undefined);
  return serials.get(socket);
}

export async function authenticate(request: FastifyRequest, resolver: IdentityResolver): Promise<Identity> {
  const header = request.headers.authorization;
  if (header) {
    const match = BEARER.exec(header);
    if (!match) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    // An empty token is no token: the original's Go client sends "Bearer " beside its certificate.
    if (match[1]) return resolver.fromToken(match[1]);
  }
  const serial = certificateSerial(request);
  if (serial) return resolver.fromCertificate(serial);
  throw unauthenticated('authentication required: connect with a client certificate of this control plane (the tptctl config holds it), or send a bearer token (tptctl token create)');
}
