/**
 * An HTTP proxy in front of an AWS API (moto) that counts the calls going through, by service and
 * action, can add a round trip's latency to each (as AWS's own endpoints have), and can hold the
 * answer to one request: the request reaches AWS (the resource is made) but its caller never hears
 * back — the moment a crash leaves a resource made and not recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AwsProxy {
  url: string;
  /** Resolves once a request matching `matches` (its body) has been sent on and its answer held back. */
  hold(matches: (body: string) => boolean): Promise<string>;
  /** Calls that went through, as `service:Action` (query APIs) or `service:METHOD /path` (REST APIs). */
  calls: string[];
  close(): Promise<void>;
}

/** The service a request is signed for (its SigV4 credential scope). */
const serviceOf = (request: IncomingMessage): string => /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(request.headers.authorization ?? ''))?.[1] ?? 'unsigned';

export async function awsProxy(target: string, options: { latencyMs?: number } = {}): Promise<AwsProxy> {
  let holding: { matches: (body: string) => boolean; held: (body: string) => void } | undefined;
  const calls: string[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString();
      calls.push(`${serviceOf(request)}:${/Action=([A-Za-z]+)/.exec(text)?.[1] ?? `${request.method} ${String(request.url).split('?')[0]}`}`);
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)).map(([name, value]) => [name, String(value)]));
      sleep(options.latencyMs ?? 0)
        .then(() => fetch(new URL(request.url ?? '/', target), { method: request.method, headers, ...(body.length > 0 && { body }) }))
        .then(async (answer) => {
          const payload = Buffer.from(await answer.arrayBuffer());
          if (holding?.matches(text)) {
            const { held: resolveHeld } = holding;
            holding = undefined;
            held.push(response);
            resolveHeld(text);
            return;
          }
          response.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => !['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(name))));
          response.end(payload);
        })
        .catch((error: unknown) => {
          response.writeHead(502);
          response.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    for (const response of held) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: (matches) => new Promise((resolve) => (holding = { matches, held: resolve })),
    calls,
    close,
  };
}
