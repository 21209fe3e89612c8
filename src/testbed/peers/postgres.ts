import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MissingPrerequisite } from '../../local-runtime/errors.ts';
import { TestbedError } from '../errors.ts';
import { freePort } from '../../local-runtime/ports.ts';
import { isRunning } from '../../local-runtime/process-identity.ts';
import type { ProcessRegistry } from '../../local-runtime/processes.ts';
import { run, tail } from '../../local-runtime/run-command.ts';
import { waitFor } from '../../local-runtime/wait.ts';

export interface PostgresPeer {
  /** Superuser URL of the `postgres` database; tests create their own databases through it. */
  url: string;
  port: number;
  dataDir: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** The folder with PostgreSQL's server binaries (initdb, postgres), from pg_config. */
export async function postgresBinDir(): Promise<string> {
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    return stdout.trim();
  } catch {
    throw new MissingPrerequisite(
      'postgres',
      'PostgreSQL server binaries are needed but `pg_config` is not on PATH. ' +
        'Install PostgreSQL 15 or newer (Debian: postgresql), or point PATH at its bin folder.',
    );
  }
}

/** initdb refuses root, so as root the server runs as the `postgres` user. */
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const groups = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (ids.status !== 0 || groups.status !== 0) {
    throw new TestbedError('running as root, PostgreSQL needs an unprivileged user to run as, but there is no `postgres` user (create one, or run as a normal user)');
  }
  return { uid: Number(ids.stdout.trim()), gid: Number(groups.stdout.trim()) };
}

function canUse(dir: string, user: RunAs): boolean {
  return spawnSync('test', ['-w', dir, '-a', '-x', dir], { uid: user.uid, gid: user.gid }).status === 0;
}

/**
 * The data directory: inside the instance when the server's user can reach it, otherwise a
 * throwaway folder in the system temp dir, whose location is remembered for `down`.
 */
function makeDataDir(instanceDir: string, user: RunAs | undefined): string {
  const home = join(instanceDir, 'postgres');
  mkdirSync(home, { recursive: true });
  if (user) chownSync(home, user.uid, user.gid);
  const dataDir = !user || canUse(home, user) ? join(home, 'data') : join(mkdtempSync(join(tmpdir(), 'threeport-testbed-pg-')), 'data');
  writeFileSync(join(instanceDir, 'postgres', 'data-dir'), dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user) {
    chownSync(join(dataDir, '..'), user.uid, user.gid);
    chownSync(dataDir, user.uid, user.gid);
  }
  return dataDir;
}

/** Removes the data directory, wherever `makeDataDir` put it. */
export function removePostgresData(instanceDir: string): void {
  const pointer = join(instanceDir, 'postgres', 'data-dir');
  if (!existsSync(pointer)) return;
  const dataDir = readFileSync(pointer, 'utf8').trim();
  const outside = !dataDir.startsWith(instanceDir + '/');
  rmSync(outside ? join(dataDir, '..') : dataDir, { recursive: true, force: true });
}

/**
 * A throwaway PostgreSQL on a free loopback port, tuned for tests (no fsync); `durable` keeps
 * PostgreSQL's production defaults (fsync, synchronous commit), as benchmarks need.
 */
export async function startPostgres(registry: ProcessRegistry, options: { durable?: boolean } = {}): Promise<PostgresPeer> {
  const binDir = await postgresBinDir();
  const user = unprivilegedUser();
  const dataDir = makeDataDir(registry.instanceDir, user);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  await run(
    join(binDir, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { ...asUser, cwd: tmpdir(), env: { ...process.env, HOME: tmpdir(), USER: user ? 'postgres' : userInfo().username } },
  );
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = registry.start(
      'postgres',
      join(binDir, 'postgres'),
      [
        '-D', dataDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
        '-c', 'max_connections=500',
      ],
      { ...asUser, cwd: tmpdir(), stopSignal: 'SIGINT' },
    );
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitFor('PostgreSQL', () => probePostgres(url), {
        timeoutMs: 30_000,
        failFast: () => (isRunning(server) ? undefined : `exited\n${tail(readFileSync(server.log, 'utf8'))}`),
      });
      return { url, port, dataDir };
    } catch (error) {
      await registry.stop('postgres');
      const portTaken = readFileSync(server.log, 'utf8').includes('Address already in use');
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

/** True once the server answers a query. */
export async function probePostgres(url: string): Promise<true | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates a new empty database with a unique name and returns its URL. */
export async function createDatabase(adminUrl: string, prefix = 'test'): Promise<string> {
  const name = `${prefix}_${Date.now().toString(36)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
