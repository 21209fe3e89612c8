/**
 * The embedded provider: `threeport all-in-one` as a background process on this machine, with its
 * data (PGlite), log and pid file under the threeport config directory.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identify, isRunning, type ProcessIdentity } from '../../local-runtime/process-identity.ts';
import type { ControlPlaneEntry } from '../config/threeport-config.ts';
import { CliError } from '../errors.ts';
import { installRoot } from '../../install-root.ts';
import type { ControlPlaneProvider, UpOptions } from './provider.ts';
import { simulatedRuntimeDir } from './simulated-runtime.ts';
import type { BootstrapCredentials } from '../../auth/bootstrap.ts';
import { toBase64 } from '../config/credentials.ts';

export const isLoopbackListen = (listen: string): boolean => /^(127\.|localhost:|\[::1\]:|::1:)/.test(listen);

export const controlPlaneDir = (configDir: string, name: string): string => join(configDir, 'control-planes', name);
const pidFile = (dir: string): string => join(dir, 'threeport.pid');
const logFile = (dir: string): string => join(dir, 'threeport.log');

/** A JSON file the control plane's process writes, or undefined while it is missing or half written. */
function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

const readPid = (dir: string): ProcessIdentity | undefined => readJson<ProcessIdentity>(pidFile(dir));

/** The recorded process, if it is still the one we started. */
export function runningProcess(dir: string): ProcessIdentity | undefined {
  const recorded = readPid(dir);
  return recorded && isRunning(recorded) ? recorded : undefined;
}

/** The last lines of the log a person can read: messages of JSON log lines, other lines as they are. */
function logTail(dir: string, lines = 15): string {
  let text = '';
  try {
    text = readFileSync(logFile(dir), 'utf8');
  } catch {
    return '';
  }
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
        return `  ${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
      } catch {
        return `  ${line}`;
      }
    })
    .join('\n');
}

/** The process is gone; its exit code arrives a moment later (the 'exit' event), so wait a little for it. */
async function exitCode(exited: () => number | null, withinMs = 1000): Promise<number | null> {
  const deadline = Date.now() + withinMs;
  while (exited() === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return exited();
}

/** The first admin's credentials, which the process writes before it listens (auth on). */
const bootstrapFile = (dir: string): string => join(dir, 'bootstrap-credentials.json');

const readBootstrap = (dir: string): BootstrapCredentials | undefined => readJson<BootstrapCredentials>(bootstrapFile(dir));

/** /readyz answers; with auth on, over TLS with the CA the process wrote. */
async function answersReady(url: string, dir: string): Promise<boolean> {
  const tls = url.startsWith('https:') ? readBootstrap(dir) : undefined;
  if (url.startsWith('https:') && !tls) return false;
  const { send } = await import('../../client/http-transport.ts');
  return send(`${url}/readyz`, { method: 'GET', headers: {}, signal: AbortSignal.timeout(1000), ...(tls && { tls: { ca: tls.CACert } }) }).then(
    (answer) => answer.status === 200,
    () => false,
  );
}

async function waitUntilReady(url: string, dir: string, pid: number, timeoutMs: number, exited: () => number | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited() !== null || !identify(pid)) {
      const code = await exitCode(exited);
      throw new CliError(`the threeport control plane process exited${code !== null ? ` with code ${code}` : ''} before it was ready; its log (${logFile(dir)}) ends with:\n${logTail(dir)}`);
    }
    if (await answersReady(url, dir)) return;
    if (Date.now() > deadline) throw new CliError(`the threeport control plane did not become ready within ${Math.round(timeoutMs / 1000)}s; see ${logFile(dir)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function isListening(host: string, port: number): Promise<boolean> {
  // Loaded here: node:net and node:child_process are slow to load and only `up` needs them.
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host: host || '127.0.0.1', port });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function stopProcess(process_: ProcessIdentity, timeoutMs = 15_000): Promise<void> {
  try {
    process.kill(process_.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isRunning(process_)) {
    if (Date.now() > deadline) {
      process.kill(process_.pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const embeddedProvider: ControlPlaneProvider = {
  name: 'embedded',
  description: 'the all-in-one control plane (API, relay, controllers) as a local background process on an embedded database',

  async up(options: UpOptions): Promise<ControlPlaneEntry> {
    const dir = controlPlaneDir(options.configDir, options.name);
    const running = runningProcess(dir);
    if (running) throw new CliError(`control plane ${options.name} is already running (pid ${running.pid})`, { hint: `stop it first with: tptctl down --name ${options.name}` });
    // Another server on the address would answer our readiness check in its place.
    const [host, port] = [options.listen.slice(0, options.listen.lastIndexOf(':')), Number(options.listen.slice(options.listen.lastIndexOf(':') + 1))];
    if (await isListening(host, port)) {
      throw new CliError(`cannot start control plane ${options.name}: ${options.listen} is in use by another process`, { hint: 'choose another address with --listen' });
    }
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    rmSync(bootstrapFile(dir), { force: true });
    const args = [join(installRoot(), 'bin', 'threeport.js'), 'all-in-one', '--listen', options.listen, '--data-dir', dataDir, '--log-level', options.logLevel];
    args.push('--auth-enabled', String(options.authEnabled), ...(options.authEnabled ? ['--bootstrap-credentials', bootstrapFile(dir)] : []));
    if (options.tlsNames) args.push('--tls-names', options.tlsNames);
    if (!options.authEnabled && !isLoopbackListen(options.listen)) args.push('--allow-unauthenticated');
    // This machine reaches an API listening everywhere on loopback.
    const apiServer = /^(0\.0\.0\.0|\[::\]):/.test(options.listen) ? `127.0.0.1:${port}` : options.listen;
    const url = `${options.authEnabled ? 'https' : 'http'}://${apiServer}`;

    const { spawn } = await import('node:child_process');
    const log = openSync(logFile(dir), 'a', 0o600);
    const child = spawn(process.execPath, args, {
      detached: !options.foreground,
      stdio: options.foreground ? 'inherit' : ['ignore', log, log],
      // The embedded process keeps its own key and database in its data directory, whatever the caller's environment says.
      env: {
        ...process.env,
        THREEPORT_ENCRYPTION_KEY: '',
        ENCRYPTION_KEY: '',
        THREEPORT_DATABASE_URL: '',
        THREEPORT_NATS_URL: '',
        THREEPORT_AUTH_ENABLED: '',
        THREEPORT_BOOTSTRAP_CREDENTIALS: '',
        // Beside its own simulated cluster, where `tptctl down` stops them all.
        THREEPORT_LOCAL_RUNTIMES_DIR: options.localRuntimes ? simulatedRuntimeDir(dir) : '',
      },
    });
    closeSync(log);
    let exitCode: number | null = null;
    child.on('exit', (code, signal) => (exitCode = code ?? (signal ? 128 : 1)));
    const identity = identify(child.pid ?? 0);
    if (!identity) throw new CliError(`could not start the threeport control plane; see ${logFile(dir)}`);
    writeFileSync(pidFile(dir), JSON.stringify(identity), { mode: 0o600 });
    try {
      await waitUntilReady(url, dir, identity.pid, options.timeoutMs, () => exitCode);
    } catch (error) {
      if (isRunning(identity)) await stopProcess(identity);
      rmSync(pidFile(dir), { force: true });
      throw error;
    }
    if (!options.foreground) child.unref();
    options.onStarted?.(child);
    let encryptionKey: string;
    try {
      encryptionKey = readFileSync(join(dataDir, 'encryption.key'), 'utf8').trim();
    } catch {
      throw new CliError(`the control plane started but wrote no encryption key to ${dataDir}; see ${logFile(dir)}`);
    }
    const entry: ControlPlaneEntry = { Name: options.name, Provider: 'embedded', Genesis: true, AuthEnabled: options.authEnabled, APIServer: apiServer, EncryptionKey: encryptionKey, Embedded: { Directory: dir } };
    if (options.authEnabled) {
      const credentials = readBootstrap(dir);
      if (!credentials) throw new CliError(`the control plane started but wrote no admin credentials to ${bootstrapFile(dir)}; see ${logFile(dir)}`);
      rmSync(bootstrapFile(dir), { force: true });
      // The original's fields: base64 PEM, the credential named after the control plane.
      entry.CACert = toBase64(credentials.CACert);
      entry.Credentials = [{ Name: options.name, ClientCert: toBase64(credentials.ClientCert), ClientKey: toBase64(credentials.ClientKey) }];
    }
    return entry;
  },

  async down(entry, options): Promise<void> {
    const dir = entry.Embedded?.Directory;
    if (!dir) throw new CliError(`control plane ${entry.Name} was not started by tptctl up (no Embedded.Directory in the config)`);
    const running = runningProcess(dir);
    if (running) await stopProcess(running);
    if (options.keepData) rmSync(pidFile(dir), { force: true });
    else if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  },
};
