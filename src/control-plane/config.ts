import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir, hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parseNatsUrl, redactUrl } from '../bus/nats-url.ts';
import { logLevels, type LogLevel } from '../log.ts';
import { FieldCipher } from '../crypto/field-cipher.ts';
import { parseLifetime } from '../auth/lifetime.ts';

/** What `threeport server` runs on, after flags and environment are resolved and checked. */
export interface ServerConfig {
  host: string;
  port: number;
  /** PostgreSQL/CockroachDB URL; absent means embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** NATS URL; absent means the in-process bus. */
  natsUrl?: string;
  encryptionKey: string;
  logLevel: LogLevel;
  bodyLimit: number;
  /** API processes sharing the listening socket (PostgreSQL only). */
  workers: number;
  /** Absent: auth off (programmatic callers; the CLI always resolves it). */
  auth?: AuthConfig;
}

/** Authentication and TLS of the API (auth/). */
export interface AuthConfig {
  enabled: boolean;
  /** Names and addresses the serving certificate carries beyond loopback and the in-cluster Service names. */
  tlsNames: string[];
  /** Longest life of a client certificate the API issues. */
  certificateLifetimeMs: number;
  /** Write the first admin's credentials here at start. */
  bootstrapCredentials?: string;
  /** Refuse connections without a client certificate at the handshake (bearer tokens then need one too). */
  requireClientCertificates?: boolean;
}

export interface ServerFlags {
  listen?: string;
  databaseUrl?: string;
  dataDir?: string;
  natsUrl?: string;
  encryptionKey?: string;
  logLevel?: string;
  bodyLimit?: string;
  workers?: string;
  authEnabled?: string;
  allowUnauthenticated?: boolean;
  tlsNames?: string;
  certificateLifetime?: string;
  bootstrapCredentials?: string;
  requireClientCertificates?: boolean;
}

export class ConfigError extends Error {}

export const defaultDataDir = (): string => join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'threeport');

/** `host:port` (`[v6]:port`, or `:port` for `defaultHost`); a clear ConfigError naming `what` otherwise. */
export function parseHostPort(value: string, what: string, defaultHost: string, example: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new ConfigError(`invalid ${what} "${value}": expected host:port, e.g. ${example}`);
  return { host: match[1] ?? (match[2] || defaultHost), port };
}

/**
 * The embedded mode keeps its own key next to its data, generated on first start, so it runs with
 * nothing configured. With an external database the key must be given: every API replica and
 * controller has to share it.
 */
function resolveEncryptionKey(given: string | undefined, databaseUrl: string | undefined, dataDir: string): string {
  if (given) return given;
  if (databaseUrl) {
    throw new ConfigError('an encryption key is required with an external database: set THREEPORT_ENCRYPTION_KEY (generate one with: openssl rand -base64 32)');
  }
  const keyFile = join(dataDir, 'encryption.key');
  if (existsSync(keyFile)) return readFileSync(keyFile, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, `${FieldCipher.generateKey()}\n`, { mode: 0o600 });
  return readFileSync(keyFile, 'utf8').trim();
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** Listening on every address (0.0.0.0, ::). */
export const isWildcard = (host: string): boolean => ['0.0.0.0', '::', ''].includes(host);

/** The names and addresses a client may reach an API listening on `host` by. */
function servedNames(host: string): string[] {
  if (!isWildcard(host)) return [host];
  const addresses = Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).filter((entry) => !entry.internal).map((entry) => entry.address));
  return [hostname(), ...addresses];
}

function parseBoolean(value: string, what: string): boolean {
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new ConfigError(`invalid ${what} "${value}": use true or false`);
}

function certificateLifetime(value: string): number {
  const lifetime = parseLifetime(value);
  if (lifetime === undefined) throw new ConfigError(`invalid certificate lifetime "${value}": a number of hours or days, e.g. 720h or 90d`);
  return lifetime;
}

/**
 * Auth is on unless the API listens on loopback only; off anywhere else must be asked for twice
 * (--auth-enabled=false and --allow-unauthenticated), since anyone who reaches the port then has
 * every permission.
 */
function resolveAuth(flags: ServerFlags, env: NodeJS.ProcessEnv, host: string): AuthConfig {
  const given = flags.authEnabled ?? env.THREEPORT_AUTH_ENABLED;
  const enabled = given ? parseBoolean(given, 'auth-enabled') : !isLoopback(host);
  const allowUnauthenticated = flags.allowUnauthenticated ?? parseBoolean(env.THREEPORT_ALLOW_UNAUTHENTICATED ?? 'false', 'THREEPORT_ALLOW_UNAUTHENTICATED');
  if (!enabled && !isLoopback(host) && !allowUnauthenticated) {
    throw new ConfigError(`refusing to listen on ${host} without auth: anyone who reaches it could change every cluster. Keep auth on, listen on 127.0.0.1, or add --allow-unauthenticated`);
  }
  const tlsNames = [...(flags.tlsNames ?? env.THREEPORT_TLS_NAMES ?? '').split(',').map((name) => name.trim()).filter(Boolean), ...servedNames(host)];
  const bootstrapCredentials = flags.bootstrapCredentials ?? env.THREEPORT_BOOTSTRAP_CREDENTIALS ?? undefined;
  const requireClientCertificates = flags.requireClientCertificates ?? parseBoolean(env.THREEPORT_REQUIRE_CLIENT_CERTIFICATES ?? 'false', 'THREEPORT_REQUIRE_CLIENT_CERTIFICATES');
  return {
    enabled,
    tlsNames,
    ...(requireClientCertificates && { requireClientCertificates }),
    certificateLifetimeMs: certificateLifetime(flags.certificateLifetime ?? env.THREEPORT_CERTIFICATE_LIFETIME ?? '90d'),
    ...(bootstrapCredentials && { bootstrapCredentials }),
  };
}

export function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const { host, port } = parseHostPort(flags.listen ?? env.THREEPORT_LISTEN ?? '127.0.0.1:1323', 'listen address', '127.0.0.1', '127.0.0.1:1323');
  const databaseUrl = flags.databaseUrl ?? env.THREEPORT_DATABASE_URL ?? undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`invalid database URL: expected postgres://user:password@host:port/database`);
  }
  const dataDir = flags.dataDir ?? env.THREEPORT_DATA_DIR ?? defaultDataDir();
  const natsUrl = flags.natsUrl ?? env.THREEPORT_NATS_URL ?? undefined;
  if (natsUrl) {
    try {
      parseNatsUrl(natsUrl);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  const logLevel = (flags.logLevel ?? env.THREEPORT_LOG_LEVEL ?? 'info') as LogLevel;
  if (!logLevels.includes(logLevel)) throw new ConfigError(`invalid log level "${logLevel}": use one of ${logLevels.join(', ')}`);
  const bodyLimit = Number(flags.bodyLimit ?? env.THREEPORT_BODY_LIMIT ?? 4 * 1024 * 1024);
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1024) throw new ConfigError('invalid body limit: a number of bytes, at least 1024');
  const workersFlag = flags.workers ?? env.THREEPORT_WORKERS ?? '1';
  const workers = workersFlag === 'auto' ? availableParallelism() : Number(workersFlag);
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > 64) throw new ConfigError(`invalid workers "${workersFlag}": a number from 1 to 64, or auto`);
  if (workers > 1 && !databaseUrl) throw new ConfigError('--workers above 1 needs --database-url: the embedded database belongs to one process');
  const encryptionKey = resolveEncryptionKey(flags.encryptionKey ?? env.THREEPORT_ENCRYPTION_KEY ?? env.ENCRYPTION_KEY, databaseUrl, dataDir);
  try {
    FieldCipher.fromBase64(encryptionKey);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const auth = resolveAuth(flags, env, host);
  return { host, port, ...(databaseUrl && { databaseUrl }), dataDir, ...(natsUrl && { natsUrl }), encryptionKey, logLevel, bodyLimit, workers, auth };
}

export { redactUrl };
