import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryBus } from '../../src/bus/memory.ts';
import { registry } from '../../src/model/registry.ts';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { spawnApi, startApi, type ApiHarness } from '../support/control-plane.ts';
import { freshDatabase, startNats } from '../support/peers.ts';
import { eventually } from '../support/eventually.ts';
import { createSample, uniqueName } from '../support/samples.ts';

interface Notification {
  subject: string;
  Operation: string;
  CreationTime: number;
  ObjectVersion: string;
  Object: Record<string, unknown>;
}


describe('when the API notifies (in-process bus)', () => {
  let api: ApiHarness;
  const seen: Notification[] = [];
  beforeAll(async () => {
    api = await startApi({ database: 'pglite' });
    (api.server.bus as MemoryBus).subscribe('>', (message) => seen.push({ subject: message.subject, ...JSON.parse(message.payload) }));
  });
  const forObject = (id: unknown) => seen.filter((n) => n.Object.ID === id);

  it('a change of desired state notifies whoever wrote it; controller-owned writes do not; delete notifies', async () => {
    const definitions = api.client.kind('WorkloadDefinition');
    const created = await definitions.create({ Name: uniqueName('wd'), YAMLDocument: 'kind: Pod' });
    const id = Number(created.ID);
    await eventually('create notification', () => forObject(id).length === 1);
    const [first] = forObject(id);
    expect(first).toMatchObject({ subject: 'workloadDefinition.create', Operation: 'Created', ObjectVersion: 'v0' });
    expect(first!.Object).toEqual(created);
    expect(created.Generation).toBe(1);
    expect(Math.abs(first!.CreationTime - Date.now() / 1000)).toBeLessThan(60);

    const changed = await definitions.update(id, { YAMLDocument: 'kind: Service' });
    expect(changed.Generation).toBe(2);
    await eventually('update notification', () => forObject(id).length === 2);
    expect(forObject(id)[1]).toMatchObject({ subject: 'workloadDefinition.update', Operation: 'Updated' });

    // What controllers write (status, conditions) is no new generation and notifies nobody.
    expect((await definitions.update(id, { Status: 'working on it' })).Generation).toBe(2);
    await definitions.update(id, { Reconciled: true, ObservedGeneration: 2 });
    // Once reconciled, a change of desired state marks it unreconciled by itself (the original ignored it).
    const edited = await definitions.update(id, { YAMLDocument: 'kind: ConfigMap' });
    expect(edited).toMatchObject({ Reconciled: false, Generation: 3, ObservedGeneration: 2 });
    await eventually('update notification once reconciled', () => forObject(id).length === 3);
    // Reconciled=false keeps its meaning: reconcile.
    await definitions.update(id, { Reconciled: true });
    await definitions.update(id, { Reconciled: false });
    await eventually('update notification after Reconciled=false', () => forObject(id).length === 4);

    await definitions.delete(id);
    await eventually('delete notification', () => forObject(id).length === 5);
    expect(forObject(id)[4]).toMatchObject({ subject: 'workloadDefinition.delete', Operation: 'Deleted' });
    expect(forObject(id)[4]!.Object.DeletionScheduled).toBeDefined();
    expect(forObject(id).map((n) => n.Object.Version)).toEqual([1, 2, 5, 7, 8]);
  });

  it('a gateway port written on its own path gives its definition a new generation and a notification; reported events give their instance none', async () => {
    const definition = await api.client.kind('GatewayDefinition').create({ Name: uniqueName('gw'), HttpPorts: [{ Port: 80 }] });
    await api.client.kind('GatewayDefinition').update(definition.ID, { Reconciled: true });
    const before = forObject(definition.ID).length;
    const [port] = await api.client.kind('GatewayHttpPort').listAll({ gatewaydefinitionid: definition.ID });
    await api.client.kind('GatewayHttpPort').update(port!.ID, { Port: 8080 });
    const touched = await api.client.kind('GatewayDefinition').get(definition.ID);
    expect(touched).toMatchObject({ Generation: definition.Generation + 1, Reconciled: false });
    await eventually('the definition notified', () => forObject(definition.ID).length === before + 1);
    await api.client.kind('GatewayTcpPort').create({ GatewayDefinitionID: definition.ID, Port: 5432 });
    expect((await api.client.kind('GatewayDefinition').get(definition.ID)).Generation).toBe(definition.Generation + 2);

    const workload = await createSample(api.client, registry.get('WorkloadInstance'));
    const generation = (await api.client.kind('WorkloadInstance').get(Number(workload.ID))).Generation;
    await api.client.kind('WorkloadEvent').create({ RuntimeEventUID: uniqueName('uid'), Type: 'Normal', Reason: 'Pulled', Message: 'pulled', Timestamp: new Date().toISOString(), WorkloadInstanceID: workload.ID });
    expect((await api.client.kind('WorkloadInstance').get(Number(workload.ID))).Generation).toBe(generation);
  });

  it('objects registered as already reconciled, and kinds without a controller, notify nobody', async () => {
    const registered = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('wd'), YAMLDocument: 'x', Reconciled: true });
    const tier = await api.client.kind('Tier').create({ Name: uniqueName('tier'), Criticality: 1 });
    const marker = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('wd'), YAMLDocument: 'x' });
    await eventually('the later notification', () => forObject(marker.ID).length === 1);
    expect(forObject(registered.ID)).toEqual([]);
    expect(forObject(tier.ID)).toEqual([]);
  });

  it('secret data is stored encrypted, and notified as it is stored', async () => {
    const secret = await api.client.kind('SecretDefinition').create({ Name: uniqueName('secret'), Data: { password: 'hunter2' } });
    await eventually('secret notification', () => forObject(secret.ID).length === 1);
    expect(forObject(secret.ID)[0]!.Object).toEqual(secret);
    const data = secret.Data as Record<string, string>;
    expect(data.password).not.toBe('hunter2');
    expect(FieldCipher.fromBase64(api.encryptionKey).decrypt(data.password!)).toBe('hunter2');
    expect((await api.client.kind('SecretDefinition').get(Number(secret.ID))).Data).toEqual(data);
    const [row] = await api.server.db.query<Record<string, unknown>>('SELECT * FROM v0_secret_definitions WHERE id = $1', [secret.ID]);
    expect(row!.data).toEqual(data);
    expect(JSON.stringify(row)).not.toContain('hunter2');
  });
});

/** Reads every notification of one stream through a consumer of the test's own. */
class StreamReader {
  readonly #url: string;
  readonly #stream: string;
  #nc: NatsConnection | undefined;

  constructor(url: string, stream: string) {
    this.#url = url;
    this.#stream = stream;
  }

  async read(count: number, timeoutMs = 30_000): Promise<Notification[]> {
    this.#nc ??= await connect({ servers: this.#url });
    const jsm = await jetstreamManager(this.#nc);
    await jsm.consumers.add(this.#stream, { durable_name: 'test-reader', ack_policy: AckPolicy.Explicit });
    const consumer = await jetstream(this.#nc).consumers.get(this.#stream, 'test-reader');
    const found: Notification[] = [];
    const deadline = Date.now() + timeoutMs;
    while (found.length < count && Date.now() < deadline) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
      for await (const message of batch) {
        found.push({ subject: message.subject, ...message.json<Omit<Notification, 'subject'>>() });
        message.ack();
      }
    }
    return found;
  }

  /** How many messages the stream ever stored (its last sequence): duplicates would count. */
  async stored(): Promise<number> {
    this.#nc ??= await connect({ servers: this.#url });
    const info = await (await jetstreamManager(this.#nc)).streams.info(this.#stream);
    return info.state.last_seq;
  }

  async close(): Promise<void> {
    await this.#nc?.close();
  }
}

/** Rows still waiting in a database's outbox (for an API running in another process). */
async function outboxRows(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>('SELECT count(*) AS count FROM threeport_outbox')).rows[0]!.count);
  } finally {
    await client.end();
  }
}

describe('notifications through NATS JetStream', () => {
  it('writes succeed while NATS is down, and every notification arrives once it is back', async () => {
    const nats = await startNats();
    const api = await startApi({ database: 'postgres', natsUrl: nats.url });
    const definitions = api.client.kind('WorkloadDefinition');
    await definitions.create({ Name: uniqueName('before'), YAMLDocument: 'x' });

    await nats.stop();
    const written = [];
    for (let i = 0; i < 40; i++) written.push(await definitions.create({ Name: uniqueName('during'), YAMLDocument: 'x' }));
    expect(await api.server.db.query('SELECT seq FROM threeport_outbox')).not.toHaveLength(0);

    await nats.start();
    await eventually('empty outbox', async () => (await api.server.db.query('SELECT seq FROM threeport_outbox')).length === 0);
    const reader = new StreamReader(nats.url, 'workloadStream');
    afterAll(() => reader.close());
    const received = await reader.read(41);
    expect(received.map((n) => n.Object.ID).sort()).toEqual(expect.arrayContaining(written.map((o) => o.ID)));
    expect(received).toHaveLength(41);
    // Everything is published (the outbox is empty) and the stream stored each notification once.
    expect(await reader.stored(), 'no duplicates').toBe(41);
  });

  it('a server killed between commit and publish delivers after restart, exactly once', async () => {
    const nats = await startNats();
    const databaseUrl = await freshDatabase();
    const encryptionKey = FieldCipher.generateKey();
    await nats.stop();
    // NATS is down, so these commit with their notifications and none is published.
    const first = await spawnApi({ databaseUrl, natsUrl: nats.url, encryptionKey });
    const created = [];
    for (let i = 0; i < 25; i++) created.push(await first.client.kind('WorkloadInstance').create(await workloadInstancePayload(first)));
    await first.kill();

    await nats.start();
    const second = await spawnApi({ databaseUrl, natsUrl: nats.url, encryptionKey });
    const reader = new StreamReader(nats.url, 'workloadStream');
    afterAll(() => reader.close());
    const received = await reader.read(25);
    expect(received.every((n) => n.subject === 'workloadInstance.create')).toBe(true);
    expect(received.map((n) => n.Object.ID).sort()).toEqual(created.map((o) => o.ID).sort());
    await eventually('the outbox published', async () => (await outboxRows(databaseUrl)) === 0);
    expect(await reader.stored(), 'no duplicates').toBe(25);
    await second.stop();
  });
});

async function workloadInstancePayload(api: { client: ApiHarness['client'] }): Promise<Record<string, unknown>> {
  const definition = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('wd'), YAMLDocument: 'x', Reconciled: true });
  const runtimeDefinition = await api.client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('krd'), InfraProvider: 'kind', Reconciled: true });
  const runtime = await api.client.kind('KubernetesRuntimeInstance').create({
    Name: uniqueName('kri'),
    Location: 'Local',
    KubernetesRuntimeDefinitionID: runtimeDefinition.ID,
    Reconciled: true,
  });
  return { Name: uniqueName('wi'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID };
}
