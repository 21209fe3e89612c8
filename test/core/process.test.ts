import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { freePort } from '../../src/local-runtime/ports.ts';
import { repoRoot, runThreeport, spawnApi, tempDir } from '../support/control-plane.ts';
import { freshDatabase } from '../support/peers.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';

const key = FieldCipher.generateKey();

/** The process failed with exit code 1 and a one-line reason, no stack trace. */
function expectStartupError(result: { code: number | null; output: string }, reason: string | RegExp): void {
  expect(result.code, result.output).toBe(1);
  expect(result.output).toMatch(reason);
  expect(result.output).not.toMatch(/\n\s+at /);
}

describe('threeport server start-up errors are clear', () => {
  it('a malformed database URL', async () => {
    expectStartupError(await runThreeport(['server', '--database-url', 'mysql://x'], { THREEPORT_ENCRYPTION_KEY: key }), 'invalid database URL');
  });

  it('an unreachable database, with the password kept out of the message', async () => {
    const port = await freePort();
    const result = await runThreeport(['server', '--database-url', `postgres://threeport:hunter2@127.0.0.1:${port}/threeport`], { THREEPORT_ENCRYPTION_KEY: key });
    expectStartupError(result, /cannot connect to the database at postgres:\/\/threeport:\*\*\*@127\.0\.0\.1/);
    expect(result.output).not.toContain('hunter2');
  });

  it('an external database without an encryption key, or a bad key', async () => {
    const env = { THREEPORT_ENCRYPTION_KEY: '', ENCRYPTION_KEY: '' };
    expectStartupError(await runThreeport(['server', '--database-url', 'postgres://x@127.0.0.1/x'], env), 'an encryption key is required');
    expectStartupError(await runThreeport(['server', '--encryption-key', 'c2hvcnQ=', '--data-dir', tempDir('key')]), 'must be 32 bytes');
  });

  it('a data directory holding files but no database', async () => {
    const dataDir = tempDir('not-a-database');
    mkdirSync(join(dataDir, 'pglite'));
    writeFileSync(join(dataDir, 'pglite', 'notes.txt'), 'mine');
    const result = await runThreeport(['server', '--data-dir', dataDir]);
    expectStartupError(result, `threeport: ${join(dataDir, 'pglite')} holds files but no database: move them away or choose another data directory`);
    expect(readdirSync(join(dataDir, 'pglite'))).toEqual(['notes.txt']);
  });

  it('bad flags and addresses', async () => {
    expectStartupError(await runThreeport(['server', '--listen', 'nowhere', '--data-dir', tempDir('listen')]), 'invalid listen address');
    expectStartupError(await runThreeport(['server', '--nats-url', 'http://x', '--data-dir', tempDir('nats')]), 'invalid NATS URL');
    expectStartupError(await runThreeport(['server', '--log-level', 'loud', '--data-dir', tempDir('log')]), 'invalid log level');
    const busy = await spawnApi({ encryptionKey: key });
    const port = new URL(busy.url).port;
    expectStartupError(await runThreeport(['server', '--listen', `127.0.0.1:${port}`, '--data-dir', tempDir('busy')]), 'the address is in use');
  }, 180_000);
});

describe('threeport server at work', () => {
  it('logs one JSON line per request without secrets, and stops cleanly on SIGTERM', async () => {
    const server = await spawnApi({ databaseUrl: await freshDatabase(), encryptionKey: key });
    await server.client.kind('AwsAccount').create({
      Name: uniqueName('acct'),
      AccountID: '123456789012',
      DefaultRegion: 'us-east-1',
      AccessKeyID: 'AKIA-VISIBLE-NOWHERE',
      SecretAccessKey: 'secret-visible-nowhere',
    });
    await server.client.kind('SecretDefinition').create({ Name: uniqueName('s'), Data: { token: 'token-visible-nowhere' } });
    await fetch(`${server.url}/v0/aws-accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"SecretAccessKey": "broken-visible-nowhere"' });

    expect(await server.stop()).toBe(0);
    const lines = server.output().trim().split('\n');
    const requests = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'request');
    expect(requests.map((r) => [r.method, r.url, r.status])).toEqual(
      expect.arrayContaining([
        ['POST', '/v0/aws-accounts', 201],
        ['POST', '/v0/secret-definitions', 201],
        ['POST', '/v0/aws-accounts', 400],
      ]),
    );
    expect(server.output()).not.toMatch(/visible-nowhere|hunter2/);
    expect(server.output()).toContain('shutting down');
  });

  it('--workers runs API processes that share the port and the database, and stop together', async () => {
    const server = await spawnApi({ databaseUrl: await freshDatabase(), encryptionKey: key, workers: 2 });
    const tiers = server.client.kind('Tier');
    const created = await Promise.all(Array.from({ length: 40 }, (_, i) => tiers.create({ Name: `worker-tier-${i}`, Criticality: i })));
    expect(new Set(created.map((tier) => tier.ID)).size).toBe(40);
    const name = uniqueName('race');
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => tiers.create({ Name: name, Criticality: 1 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    // The API answers as soon as one worker listens; the other may still be starting on a loaded machine.
    const listening = (): number => new Set(server.output().split('\n').filter((line) => line.includes('Server listening')).map((line) => (JSON.parse(line) as { pid: number }).pid)).size;
    await expect.poll(listening, { timeout: 30_000 }).toBe(2);
    expect(await server.stop()).toBe(0);
  }, 120_000);

  it('serves Prometheus metrics on /metrics: requests by route template (never an ID), latency, the process', async () => {
    const server = await spawnApi({ encryptionKey: '' });
    const created = await server.client.kind('AwsAccount').create({ Name: 'measured', AccountID: '123456789012', DefaultRegion: 'us-east-1' });
    await server.client.kind('AwsAccount').get(Number(created.ID));
    await fetch(`${server.url}/no/such/path/${created.ID}`);
    const answer = await fetch(`${server.url}/metrics`);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const text = await answer.text();
    expect(text).toMatch(/threeport_api_requests_total\{method="GET",route="\/v0\/aws-accounts\/:id",status="200"\} 1/);
    expect(text).toMatch(/threeport_api_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).toContain('threeport_api_request_duration_seconds_bucket{le="0.005",method="POST",route="/v0/aws-accounts"}');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).not.toContain(String(created.ID));
    await server.stop();
  }, 120_000);

  it('the all-in-one at rest runs with its memory-saving V8 flags and loads neither the AWS SDK nor the Kubernetes client (~180 MB between them)', async () => {
    const modules = join(tempDir('modules'), 'loaded.txt');
    const allInOne = await spawnApi({
      command: 'all-in-one',
      encryptionKey: '',
      env: { NODE_OPTIONS: `--import=${join(repoRoot, 'test/support/record-modules.mjs')}`, RECORD_MODULES_TO: modules, THREEPORT_METRICS_LISTEN: 'off', THREEPORT_V8_FLAGS: undefined },
    });
    await eventually('every reconciler started', () => allInOne.output().includes('"reconciler":"ApplicationReconciler"'));
    await allInOne.client.kind('WorkloadDefinition').list();
    // Running the embedded database, it executed itself again (same PID) with V8's baseline WebAssembly compiler only.
    expect(readFileSync(`/proc/${allInOne.child.pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--liftoff-only', '--max-semi-space-size=2']));
    expect(await allInOne.stop()).toBe(0);
    const loaded = readFileSync(modules, 'utf8').split('\n');
    expect(loaded.filter((url) => url.includes('/node_modules/fastify/')).length).toBeGreaterThan(10); // the hook saw what loaded (from the bundle or the sources)
    expect(loaded.filter((url) => url.includes('/@aws-sdk/') || url.includes('/@kubernetes/client-node/'))).toEqual([]);
  }, 120_000);

  it('embedded mode keeps its data and generated key across restarts', async () => {
    const dataDir = tempDir('embedded');
    const first = await spawnApi({ dataDir, encryptionKey: '' });
    const created = await first.client.kind('AwsAccount').create({ Name: 'kept', AccountID: '123456789012', DefaultRegion: 'us-east-1', AccessKeyID: 'a', SecretAccessKey: 'b' });
    expect(await first.stop()).toBe(0);
    const second = await spawnApi({ dataDir, encryptionKey: '' });
    expect(await second.client.kind('AwsAccount').get(Number(created.ID))).toEqual(created);
    await second.stop();
  }, 180_000);
});
