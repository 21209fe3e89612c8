/**
 * Our own control plane for tests: in this process (fast, with access to the store and bus), or
 * as a separate `threeport server` process (for kill -9, restarts, start-up errors).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { ApiClient } from '../../src/client/api-client.ts';
import { startApiServer, type RunningApiServer } from '../../src/control-plane/api-server.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { freePort } from '../../src/local-runtime/ports.ts';
import { freshDatabase } from './peers.ts';

export const repoRoot = new URL('../../', import.meta.url).pathname;

export interface ApiHarness {
  url: string;
  client: ApiClient;
  server: RunningApiServer;
  encryptionKey: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

export interface ApiOptions {
  /** `postgres` takes a fresh database from the test bed; `pglite` a fresh data directory. */
  database?: 'postgres' | 'pglite';
  /** Reuse this database instead of a fresh one. */
  databaseUrl?: string;
  dataDir?: string;
  natsUrl?: string;
  encryptionKey?: string;
  /** HTTPS with client certificates and tokens; `client` is then an admin (a token of this process). */
  auth?: boolean;
  /** With auth: connections without a client certificate are refused at the handshake. */
  requireClientCertificates?: boolean;
}

/**
 * Runs `release` when the current test ends, or after the file when called outside a test: a hook
 * registered from inside a test body is the test's, not the file's.
 */
export function cleanUp(release: () => Promise<unknown>): void {
  try {
    onTestFinished(async () => void (await release()));
  } catch {
    afterAll(async () => void (await release()));
  }
}

/** Processes this worker started: killed when it exits, whatever happened to the tests. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Kills `child` when this test worker exits, should nothing else have stopped it. */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
}

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `threeport-${prefix}-`));

const testLogger = () => (process.env.THREEPORT_TEST_LOG ? createLogger('debug', 'test-api') : silentLogger());

/** An API server in this process on a free port; closed after the test file. */
export async function startApi(options: ApiOptions = {}): Promise<ApiHarness> {
  const databaseUrl = options.databaseUrl ?? (options.database === 'postgres' ? await freshDatabase() : undefined);
  const encryptionKey = options.encryptionKey ?? FieldCipher.generateKey();
  const server = await startApiServer(
    {
      host: '127.0.0.1',
      port: 0,
      ...(databaseUrl && { databaseUrl }),
      dataDir: options.dataDir ?? tempDir('pglite'),
      ...(options.natsUrl && { natsUrl: options.natsUrl }),
      encryptionKey,
      logLevel: 'silent',
      bodyLimit: 4 * 1024 * 1024,
      workers: 1,
      ...(options.auth && { auth: { enabled: true, tlsNames: [], certificateLifetimeMs: 90 * 24 * 3600_000, ...(options.requireClientCertificates && { requireClientCertificates: true }) } }),
    },
    testLogger(),
  );
  cleanUp(() => server.close());
  const auth = server.auth;
  return {
    url: server.url,
    client: auth
      ? new ApiClient({ baseUrl: server.url, tls: { ca: auth.caCertificate }, token: auth.resolver.internalToken({ name: 'test-admin', roles: ['admin'] }) })
      : new ApiClient({ baseUrl: server.url }),
    server,
    encryptionKey,
    ...(databaseUrl && { databaseUrl }),
    close: () => server.close(),
  };
}

export interface SpawnedApi {
  url: string;
  child: ChildProcess;
  client: ApiClient;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `threeport <args>` and resolves with its exit code and output (for start-up error tests). */
export function runThreeport(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/threeport.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`threeport ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** `threeport server` as its own process on a free port, ready when this resolves; killed after the test file. */
export async function spawnApi(options: ApiOptions & { encryptionKey: string; workers?: number; command?: 'server' | 'all-in-one'; env?: NodeJS.ProcessEnv }): Promise<SpawnedApi> {
  const port = await freePort();
  const args = [options.command ?? 'server', '--listen', `127.0.0.1:${port}`, '--log-level', 'info'];
  if (options.workers) args.push('--workers', String(options.workers));
  if (options.databaseUrl) args.push('--database-url', options.databaseUrl);
  else args.push('--data-dir', options.dataDir ?? tempDir('pglite'));
  if (options.natsUrl) args.push('--nats-url', options.natsUrl);
  const child = spawn(process.execPath, [join(repoRoot, 'bin/threeport.js'), ...args], {
    env: { ...process.env, THREEPORT_ENCRYPTION_KEY: options.encryptionKey, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const client = new ApiClient({ baseUrl: url, timeoutMs: 5000 });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`threeport server exited with ${child.exitCode}:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`threeport server not ready within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const spawned: SpawnedApi = {
    url,
    child,
    client,
    output: () => output,
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  cleanUp(() => spawned.kill());
  return spawned;
}
