/**
 * npm run bench:api — the API's throughput and latency, measured like the Go original in
 * shared/baselines.md: a separate `threeport server` process, load from this process (autocannon),
 * on PostgreSQL (durable: fsync on, as production) and on embedded PGlite.
 *
 *   BENCH_DURATION=15 BENCH_ENGINES=postgres,postgres:2,pglite npm run bench:api
 *   (postgres:2 = `threeport server --workers 2`; postgres+mtls = auth on, every request over
 *   TLS with a client certificate, keep-alive connections)
 *
 *   npm run bench:api:mtls   plain HTTP and mTLS side by side, one load generator (autocannon: wrk
 *                            cannot present client certificates), with the cost of mTLS in percent
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { BootstrapCredentials } from '../src/auth/bootstrap.ts';
import { ApiClient } from '../src/client/api-client.ts';
import { FieldCipher } from '../src/crypto/field-cipher.ts';
import { startPostgres } from '../src/testbed/peers/postgres.ts';
import { ProcessRegistry } from '../src/local-runtime/processes.ts';
import { freePort } from '../src/local-runtime/ports.ts';

const durationS = Number(process.env.BENCH_DURATION ?? 15);
const engines = (process.env.BENCH_ENGINES ?? 'postgres,postgres:2,pglite').split(',');
/** Rows in the table during the filtered-list run, as in the baseline. */
const TABLE_ROWS = 13_404;
const repoRoot = new URL('../', import.meta.url).pathname;

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** A client certificate for the load: auth on. */
type Tls = { ca: string; cert: string; key: string };

interface EngineResult {
  engine: string;
  creates: Measure;
  getById: Measure;
  filteredList: Measure;
  rssMb: number;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/**
 * The load generator: wrk, as the baseline used (a light C process, so it leaves the CPU to the
 * server), installed from Debian when missing and possible; autocannon otherwise.
 */
function findWrk(): string | undefined {
  const found = () => spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).stdout.trim() || undefined;
  if (found() || process.env.BENCH_LOAD === 'autocannon') return found();
  if (process.getuid?.() === 0) {
    log('installing wrk (apt-get) to load the server as the baseline did');
    spawnSync('sh', ['-c', 'apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1']);
  }
  return found();
}
const wrk = process.env.BENCH_LOAD === 'autocannon' ? undefined : findWrk();

/** A wrk script that POSTs workload definitions with names unique across threads. */
const createScript = `
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) counter = 0; wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json" end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"Name":"wrk' .. tid .. '-' .. counter .. '","YAMLDocument":"kind: Pod"}')
end
`;

function milliseconds(text: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

function runWrk(binary: string, url: string, connections: number, script?: string): Measure {
  const args = ['-t2', `-c${connections}`, `-d${durationS}s`, '--latency', ...(script ? ['-s', script] : []), url];
  const { stdout } = spawnSync(binary, args, { encoding: 'utf8' });
  const percentile = (p: string) => milliseconds(new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`).exec(stdout)?.[1] ?? '');
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0)),
    p50: Math.round(percentile('50') * 10) / 10,
    p99: Math.round(percentile('99') * 10) / 10,
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
  };
}

async function load(options: autocannon.Options & { script?: string }, tls?: Tls): Promise<Measure> {
  if (wrk && !tls) return runWrk(wrk, options.url, options.connections ?? 16, options.script);
  const result = await autocannon({ duration: durationS, ...options, ...(tls && { tlsOptions: tls }) });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

async function startServer(args: string[], encryptionKey: string, credentials?: string): Promise<{ url: string; child: ChildProcess; client: ApiClient; tls?: Tls; stop(): Promise<void> }> {
  const port = await freePort();
  const auth = credentials ? ['--auth-enabled', 'true', '--bootstrap-credentials', credentials] : [];
  const child = spawn(process.execPath, [join(repoRoot, 'bin/threeport.js'), 'server', '--listen', `127.0.0.1:${port}`, ...auth, ...args], {
    env: { ...process.env, THREEPORT_ENCRYPTION_KEY: encryptionKey },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const url = `${credentials ? 'https' : 'http'}://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  let tls: Tls | undefined;
  let client: ApiClient | undefined;
  for (;;) {
    if (credentials && !tls) {
      try {
        const written = JSON.parse(readFileSync(credentials, 'utf8')) as BootstrapCredentials;
        tls = { ca: written.CACert, cert: written.ClientCert, key: written.ClientKey };
      } catch {
        // Not written yet.
      }
    }
    if (!credentials || tls) {
      client = new ApiClient({ baseUrl: url, ...(tls && { tls: { ca: tls.ca, certificate: tls.cert, key: tls.key } }) });
      if (await client.request('GET', '/readyz').then(() => true, () => false)) break;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('threeport server did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    url,
    child,
    client,
    ...(tls && { tls }),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident memory of the server and its worker processes, in MB. */
function rssMb(pid: number): number {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  const kilobytes = [pid, ...children].reduce((sum, id) => {
    const status = readFileSync(`/proc/${id}/status`, 'utf8');
    return sum + Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }, 0);
  return Math.round(kilobytes / 1024);
}

async function measure(engine: string, server: { url: string; child: ChildProcess; client: ApiClient; tls?: Tls }, scriptPath: string): Promise<EngineResult> {
  const { url, child, client, tls } = server;
  const base = `${url}/v0/workload-definitions`;
  const headers = { 'content-type': 'application/json' };
  let counter = 0;
  const uniqueCreate = {
    method: 'POST' as const,
    path: '/v0/workload-definitions',
    headers,
    setupRequest: (request: autocannon.Request) => ({
      ...request,
      body: JSON.stringify({ Name: `wd${++counter}`, YAMLDocument: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n' }),
    }),
  };

  log(`${engine}: creates, 16 connections, ${durationS} s`);
  const creates = await load({ url: `${url}/v0/workload-definitions`, connections: 16, requests: [uniqueCreate], script: scriptPath }, tls);

  const rows = (await client.kind('WorkloadDefinition').list({}, { size: 1 })).total;
  if (rows < TABLE_ROWS) {
    log(`${engine}: filling the table to ${TABLE_ROWS} rows`);
    await autocannon({ url, connections: 32, amount: TABLE_ROWS - rows, requests: [uniqueCreate], ...(tls && { tlsOptions: tls }) });
  }
  const first = (await client.kind('WorkloadDefinition').list({}, { size: 1 })).objects[0];
  if (!first) throw new Error('the first created object is missing');
  const id = Number(first.ID);

  log(`${engine}: get by id, 32 connections, ${durationS} s`);
  const getById = await load({ url: `${base}/${id}`, connections: 32 }, tls);
  log(`${engine}: filtered list, 32 connections, ${durationS} s`);
  const filteredList = await load({ url: `${base}?name=${encodeURIComponent(String(first.Name))}`, connections: 32 }, tls);
  return { engine, creates, getById, filteredList, rssMb: rssMb(child.pid!) };
}

const baseline = {
  creates: '393/s, p50 32 ms, p99 166 ms',
  getById: '5,505/s, p50 2.9 ms, p99 363 ms',
  filteredList: '878/s, p50 30 ms, p99 384 ms',
  rss: '47 MB',
};

function cell(m: Measure): string {
  return `${m.rps.toLocaleString('en-US')}/s, p50 ${m.p50} ms, p99 ${m.p99} ms${m.errors ? `, ${m.errors} errors` : ''}`;
}

function columnName(engine: string): string {
  const [database = '', mode] = engine.split('+');
  const name = database === 'pglite' ? 'ours, PGlite' : database.includes(':') ? `ours, PostgreSQL, ${database.split(':')[1]} workers` : 'ours, PostgreSQL';
  return mode === 'mtls' ? `${name}, mTLS` : name;
}

/** What mTLS costs against the same database without it, in percent of throughput. */
function mtlsCost(results: EngineResult[]): string[] {
  return results
    .filter((r) => r.engine.endsWith('+mtls'))
    .flatMap((secured) => {
      const plain = results.find((r) => r.engine === secured.engine.replace('+mtls', ''));
      if (!plain) return [];
      const cost = (a: Measure, b: Measure) => `${Math.round((1 - b.rps / a.rps) * 100)}%`;
      return [`mTLS cost on ${columnName(plain.engine).replace('ours, ', '')}: creates ${cost(plain.creates, secured.creates)}, get-by-id ${cost(plain.getById, secured.getById)}, filtered list ${cost(plain.filteredList, secured.filteredList)} fewer requests/s`];
    });
}

function printTable(results: EngineResult[]): void {
  const columns = results.map((r) => columnName(r.engine));
  const row = (name: string, how: string, values: string[], original: string) => `| ${name} | ${how} | ${values.join(' | ')} | ${original} |`;
  const lines = [
    `| measure | how | ${columns.join(' | ')} | original (baselines.md) |`,
    `|---|---|${columns.map(() => '---|').join('')}---|`,
    row('creates/s', `POST /v0/workload-definitions, unique names, 16 connections, ${durationS} s`, results.map((r) => cell(r.creates)), baseline.creates),
    row('get-by-id/s', `GET /v0/workload-definitions/:id, 32 connections, ${durationS} s`, results.map((r) => cell(r.getById)), baseline.getById),
    row('filtered list/s', `GET ?name=<one name> with ≥${TABLE_ROWS.toLocaleString('en-US')} rows, 32 connections, ${durationS} s`, results.map((r) => cell(r.filteredList)), baseline.filteredList),
    row('memory', 'API server RSS after the runs', results.map((r) => `${r.rssMb} MB`), baseline.rss),
  ];
  const generator = wrk ? `wrk, 2 threads${results.some((r) => r.engine.endsWith('+mtls')) ? ' (autocannon for mTLS)' : ''}` : 'autocannon';
  process.stdout.write(`\n${lines.join('\n')}\n\n${mtlsCost(results).map((line) => `${line}\n`).join('')}load generator: ${generator}; server log level info; ${new Date().toISOString()}\n`);
}

async function main(): Promise<void> {
  const results: EngineResult[] = [];
  const encryptionKey = FieldCipher.generateKey();
  for (const engine of engines) {
    const workDir = mkdtempSync(join(tmpdir(), `threeport-bench-${engine}-`));
    const scriptPath = join(workDir, 'create.lua');
    writeFileSync(scriptPath, createScript);
    const registry = new ProcessRegistry(workDir);
    try {
      let args: string[];
      if (engine.startsWith('postgres')) {
        log('starting PostgreSQL (fsync on)');
        const postgres = await startPostgres(registry, { durable: true });
        args = ['--database-url', postgres.url, '--workers', engine.split('+')[0]!.split(':')[1] ?? '1'];
      } else {
        args = ['--data-dir', join(workDir, 'data')];
      }
      const server = await startServer([...args, '--log-level', 'info'], encryptionKey, engine.endsWith('+mtls') ? join(workDir, 'credentials.json') : undefined);
      try {
        results.push(await measure(engine, server, scriptPath));
      } finally {
        await server.stop();
      }
    } finally {
      await registry.stopAll();
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  printTable(results);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(1);
});
