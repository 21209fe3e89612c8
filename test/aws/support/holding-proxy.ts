/**
 * An HTTP proxy in front of an AWS API that can hold the answer to one request: the request
 * reaches AWS (the resource is made) but its caller never hears back — the moment a crash leaves
 * a resource made and not recorded. Everything else passes straight through.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface HoldingProxy {
  url: string;
  /** Resolves once a request matching `matches` (its body) has been sent on and its answer held back. */
  hold(matches: (body: string) => boolean): Promise<string>;
  /** Requests that went through, by their body's Action (query APIs) or method and path. */
  calls: string[];
  close(): Promise<void>;
}

export async function holdingProxy(target: string): Promise<HoldingProxy> {
  let holding: { matches: (body: string) => boolean; held: (body: string) => void } | undefined;
  const calls: string[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString();
      calls.push(/Action=([A-Za-z]+)/.exec(text)?.[1] ?? `${request.method} ${request.url}`);
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)).map(([name, value]) => [name, String(value)]));
      fetch(new URL(request.url ?? '/', target), { method: request.method, headers, ...(body.length > 0 && { body }) })
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
  afterAll(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: (matches) => new Promise((resolve) => (holding = { matches, held: resolve })),
    calls,
    close,
  };
}
