/**
 * The Kubernetes transport's time limit and cancellation, against a local HTTP server that
 * answers late, stalls half-way through an answer, or never answers — what a loaded or broken
 * API server does.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { KubernetesApiError } from '../../src/platform/kubernetes/errors.ts';
import { KubernetesTransport } from '../../src/platform/kubernetes/transport.ts';

describe('kubernetes transport', async () => {
  const stalled: ServerResponse[] = [];
  const answered = new WeakSet<Socket>();
  let closedOnReuse = 0;
  const busyTries = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    if (request.url?.startsWith('/never')) return void stalled.push(response);
    if (request.url?.startsWith('/fresh-only')) {
      // As a server (or a proxy) that closed a kept-alive connection the client still holds.
      if (answered.has(request.socket)) {
        closedOnReuse++;
        return void request.socket.destroy();
      }
      answered.add(request.socket);
    }
    if (request.url?.startsWith('/busy')) {
      // As an API server whose storage for a new CRD is still being set up: busy for the first tries.
      const tries = (busyTries.get(request.url) ?? 0) + 1;
      busyTries.set(request.url, tries);
      if (tries <= 2) {
        response.writeHead(503, { 'content-type': 'application/json' });
        return void response.end(JSON.stringify({ kind: 'Status', status: 'Failure', message: 'storage is (re)initializing', code: 503 }));
      }
    }
    if (request.url?.startsWith('/half')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"kind":');
      return void stalled.push(response);
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ kind: 'Status', path: request.url, auth: request.headers.authorization ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const transport = KubernetesTransport.fromCredentials({ server: `http://127.0.0.1:${port}`, token: 'secret-token' });
  it('asks a read again while the server is busy for a moment (503); a write it refuses is an error at once', async () => {
    expect(await transport.request('GET', '/busy/read')).toMatchObject({ kind: 'Status' });
    expect(busyTries.get('/busy/read')).toBe(3);
    await expect(transport.request('POST', '/busy/write', { body: {} })).rejects.toMatchObject({ status: 503, message: 'storage is (re)initializing' });
    expect(busyTries.get('/busy/write')).toBe(1);
  });

  afterAll(async () => {
    transport.close();
    for (const response of stalled) response.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const failure = (promise: Promise<unknown>): Promise<KubernetesApiError> =>
    promise.then(
      () => Promise.reject(new Error('expected a failure')),
      (error: unknown) => (error instanceof KubernetesApiError ? error : Promise.reject(error)),
    );

  it('answers with the parsed body, the token as a bearer header', async () => {
    expect(await transport.request('GET', '/api/v1/namespaces')).toEqual({ kind: 'Status', path: '/api/v1/namespaces', auth: 'Bearer secret-token' });
  });

  it('a kept-alive connection found closed: the request goes again on a fresh one', async () => {
    const fresh = KubernetesTransport.fromCredentials({ server: `http://127.0.0.1:${port}` });
    try {
      expect(await fresh.request('GET', '/fresh-only/1')).toMatchObject({ path: '/fresh-only/1' });
      expect(await fresh.request('GET', '/fresh-only/2')).toMatchObject({ path: '/fresh-only/2' });
      expect(closedOnReuse).toBe(1);
      // A create is not repeated: the server may have read it before the connection went.
      const error = await failure(fresh.request('POST', '/fresh-only/3', { body: { kind: 'ConfigMap' } }));
      expect(error.reason).toBe('Unreachable');
      expect(closedOnReuse).toBe(2);
    } finally {
      fresh.close();
    }
  });

  it('a server that never answers: a Timeout naming the request, and the transport still works after', async () => {
    const error = await failure(transport.request('GET', '/never', { timeoutMs: 200 }));
    expect(error.reason).toBe('Timeout');
    expect(error.message).toContain('did not answer GET /never within 200 ms');
    expect(await transport.request('GET', '/after')).toMatchObject({ path: '/after' });
  });

  it('an answer that stops half-way is a Timeout too, not a hang', async () => {
    const error = await failure(transport.request('GET', '/half', { timeoutMs: 300 }));
    expect(error.reason).toBe('Timeout');
  });

  it('the caller’s signal stops a request at once, saying why', async () => {
    const controller = new AbortController();
    const pending = failure(transport.request('GET', '/never', { signal: controller.signal, timeoutMs: 60_000 }));
    controller.abort(new Error('the controller is shutting down'));
    const error = await pending;
    expect(error.reason).toBe('Aborted');
    expect(error.message).toContain('the controller is shutting down');
    const already = await failure(transport.request('GET', '/after', { signal: controller.signal }));
    expect(already.reason).toBe('Aborted');
  });

  // The plugin answers, much later (one that exits without an answer makes the official client throw outside any promise).
  it('a kubeconfig whose login plugin does not answer in time: a clear Timeout, not a hang', async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: ['-c', `sleep 3; echo '${JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'late' } })}'`], interactiveMode: 'Never' } }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const error = await failure(KubernetesTransport.fromKubeConfig(config, 300));
    expect(error.reason).toBe('Timeout');
    expect(error.message).toContain('login for http://127.0.0.1');
  });
});
