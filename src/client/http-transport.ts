/**
 * HTTP for the API client on node:http with keep-alive connections: a controller or an agent
 * sends thousands of small requests, and this costs a fraction of the CPU of fetch.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  statusText: string;
  header(name: string): string | undefined;
  text: string;
}

/** For HTTPS: the CA to trust (PEM; else the system's), and a client certificate to present. */
export interface TlsCredentials {
  ca?: string;
  certificate?: string;
  key?: string;
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  tls?: TlsCredentials;
}

const agents = new Map<string, http.Agent>();

/** One keep-alive agent per origin and credentials: TLS sessions are resumed and connections reused. */
function agentFor(url: URL, tls: TlsCredentials | undefined): http.Agent {
  const key = `${url.origin}|${tls?.ca ?? ''}|${tls?.certificate ?? ''}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16 };
    agent =
      url.protocol === 'https:'
        ? new https.Agent({ ...options, ...(tls?.ca && { ca: tls.ca }), ...(tls?.certificate && tls.key && { cert: tls.certificate, key: tls.key }) })
        : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** One request; rejects with the network error (its `code`), or the signal's reason when it aborts. */
export function send(target: string, request: HttpRequest): Promise<HttpAnswer> {
  const url = new URL(target);
  const transport = url.protocol === 'https:' ? https : http;
  const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, { method: request.method, headers, agent: agentFor(url, request.tls), signal: request.signal }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () =>
        resolve({
          status: incoming.statusCode ?? 0,
          statusText: incoming.statusMessage ?? '',
          header: (name) => {
            const value = incoming.headers[name.toLowerCase()];
            return Array.isArray(value) ? value[0] : value;
          },
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
