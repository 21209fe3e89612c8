import type { FastifyInstance } from 'fastify';
import { MemoryBus } from '../bus/memory.ts';
import { OutboxRelay } from '../bus/outbox-relay.ts';
import type { ControllerBus } from '../bus/work-queue.ts';
import type { Logger } from '../log.ts';
import { registry } from '../model/registry.ts';
import { buildApp } from '../server/app.ts';
import { ApiMetrics } from '../server/metrics.ts';
import type { Database } from '../store/database.ts';
import { FieldCipher } from '../crypto/field-cipher.ts';
import { controlPlaneId, migrate, MigrationError } from '../store/migrations.ts';
import { ObjectStore } from '../store/object-store.ts';
import { Outbox } from '../store/outbox.ts';
import { loadAuthority } from '../auth/authority.ts';
import { writeBootstrapCredentials } from '../auth/bootstrap.ts';
import { IdentityResolver } from '../auth/identities.ts';
import { ConfigError, isWildcard, redactUrl, type AuthConfig, type ServerConfig } from './config.ts';
import { VERSION } from './version.ts';

export interface RunningApiServer {
  app: FastifyInstance;
  store: ObjectStore;
  db: Database;
  /** The bus notifications are published to (the in-process one in embedded mode). */
  bus: ControllerBus;
  relay: OutboxRelay;
  /** What GET /metrics serves (the process's controllers' metrics join it). */
  metrics: ApiMetrics;
  url: string;
  /** With auth on: the CA's certificate (PEM) clients trust, and who the API takes callers for. */
  auth?: { caCertificate: string; resolver: IdentityResolver };
  close(): Promise<void>;
}

async function openDatabase(config: ServerConfig, logger: Logger): Promise<Database> {
  if (!config.databaseUrl) {
    logger.info({ dataDir: config.dataDir }, 'using the embedded database');
    // Each driver is loaded only when used: PGlite's WebAssembly alone costs tens of MB.
    const { DataDirectoryError, openPglite } = await import('../store/pglite.ts');
    return openPglite(`${config.dataDir}/pglite`).catch((error: unknown) => Promise.reject(error instanceof DataDirectoryError ? new ConfigError(error.message) : error));
  }
  try {
    const { openPostgres } = await import('../store/postgres.ts');
    return await openPostgres(config.databaseUrl);
  } catch (error) {
    throw new ConfigError(`cannot connect to the database at ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`);
  }
}

/** The NATS client is loaded only when NATS is configured. */
async function natsBus(url: string, logger: Logger): Promise<ControllerBus> {
  const [{ NatsBus }, { streamConfigs }] = await Promise.all([import('../bus/nats.ts'), import('../bus/streams.ts')]);
  return new NatsBus({ url, logger, streams: streamConfigs(registry) });
}

/** Starts the API and the outbox relay on one database and bus. */
export async function startApiServer(config: ServerConfig, logger: Logger): Promise<RunningApiServer> {
  const db = await openDatabase(config, logger);
  const closers: (() => Promise<unknown>)[] = [() => db.close()];
  try {
    const { applied } = await migrate(db, registry).catch((error: unknown) => {
      // Rows that keep the schema from being updated: someone has to fix them, as the message says.
      throw error instanceof MigrationError ? new ConfigError(error.message, { cause: error }) : error;
    });
    if (applied.length > 0) logger.info({ applied }, 'database schema migrated');

    const bus: ControllerBus = config.natsUrl
      ? await natsBus(config.natsUrl, logger)
      : new MemoryBus({ logger: logger.child({ component: 'bus' }) });
    closers.unshift(() => bus.close());
    const outbox = new Outbox(db);
    const relay = new OutboxRelay({ outbox, publisher: bus, logger });
    const cipher = FieldCipher.fromBase64(config.encryptionKey);
    const store = new ObjectStore({
      db,
      registry,
      cipher,
      onOutboxWrite: () => relay.wake(),
      // The embedded database is this process's alone, so every write passes through this store.
      cacheObjects: db.engine === 'pglite',
    });
    relay.start();
    closers.unshift(() => relay.stop());

    const id = await controlPlaneId(db);
    const auth = config.auth?.enabled ? await authentication(config.auth, { db, store, cipher, id }, logger) : undefined;
    if (!auth) logger.warn({ listen: `${config.host}:${config.port}` }, 'auth is disabled: whoever reaches the API may do anything (start it with --auth-enabled=true to require client certificates or tokens)');
    const metrics = new ApiMetrics({ processMetrics: true });
    const app = await buildApp({
      store,
      metrics,
      logger,
      version: VERSION,
      controlPlaneId: id,
      bodyLimit: config.bodyLimit,
      readiness: { database: () => db.query('SELECT 1') },
      ...(auth && { auth }),
    });
    closers.unshift(() => app.close());
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    // What this process's own clients (its controllers) call: loopback when listening everywhere.
    const host = isWildcard(config.host) ? '127.0.0.1' : config.host;
    const url = `${auth ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info({ url, database: config.databaseUrl ? redactUrl(config.databaseUrl) : 'embedded', bus: config.natsUrl ? redactUrl(config.natsUrl) : 'in-process' }, 'threeport API listening');

    let closing: Promise<void> | undefined;
    return {
      app,
      store,
      db,
      bus,
      relay,
      metrics,
      url,
      ...(auth && { auth: { caCertificate: auth.authority.pem, resolver: auth.resolver } }),
      close: () => (closing ??= runClosers(closers)),
    };
  } catch (error) {
    await runClosers(closers);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError(`cannot listen on ${config.host}:${config.port}: the address is in use`);
    }
    throw error;
  }
}

/** The CA (made on first start), this process's serving certificate, and the first admin's credentials when asked for. */
async function authentication(config: AuthConfig, parts: { db: Database; store: ObjectStore; cipher: FieldCipher; id: string }, logger: Logger) {
  const authority = await loadAuthority(parts.db, parts.cipher, parts.id);
  const resolver = new IdentityResolver(parts.store);
  if (config.bootstrapCredentials) {
    const file = config.bootstrapCredentials;
    const outcome = await writeBootstrapCredentials(file, parts.store, authority, config.certificateLifetimeMs);
    logger.info({ file }, outcome === 'written' ? "the first admin's credentials are written (user admin)" : 'the bootstrap credentials file exists: no new admin certificate');
  }
  return {
    authority,
    resolver,
    serving: authority.serverCertificate(config.tlsNames),
    certificateLifetimeMs: config.certificateLifetimeMs,
    ...(config.requireClientCertificates && { requireClientCertificates: true }),
  };
}

async function runClosers(closers: (() => Promise<unknown>)[]): Promise<void> {
  for (const close of closers) await close().catch(() => undefined);
}
