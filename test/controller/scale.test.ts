import { describe, expect, it } from 'vitest';
import { startApi, tempDir } from '../support/control-plane.ts';
import { startNats } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { eventually } from './support/harness.ts';
import { overlaps } from './support/recording-reconciler.ts';
import { readRecords, recordPath, spawnReplica } from './support/replicas.ts';

/** Runs `work` over `items` with at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

describe('controller replicas in separate processes on NATS (PostgreSQL API)', async () => {
  const nats = await startNats();
  const api = await startApi({ database: 'postgres', natsUrl: nats.url });
  const dir = tempDir('replicas');
  const file = recordPath(dir, 'calls');
  const replicas = await Promise.all(
    ['r1', 'r2', 'r3'].map((name) => spawnReplica({ apiUrl: api.url, natsUrl: nats.url, recordFile: file, name, behaviour: { delayMs: 3 }, runtime: { concurrency: 8 } })),
  );
  const definitions = api.client.kind('WorkloadDefinition');

  it('reconciles 1,000 objects, each change at least once, never two replicas on one object at once', { timeout: 240_000 }, async () => {
    const ids: number[] = [];
    await pool(Array.from({ length: 1000 }, (_, index) => index), 16, async (index) => {
      const created = await definitions.create({ Name: uniqueName(`scale-${index}`), YAMLDocument: 'kind: ConfigMap' });
      ids.push(Number(created.ID));
      // A second change right behind the first: its notification races the create's reconcile,
      // usually on another replica, which is what the lock is for.
      if (index % 2 === 0) await definitions.update(Number(created.ID), { YAMLDocument: 'kind: Secret', Reconciled: false });
    });

    await eventually('every object reconciled', async () => {
      const { total } = await definitions.list({ reconciled: false }, { size: 1 });
      return total === 0 || `${total} not reconciled yet`;
    }, 180_000, 500);

    const records = readRecords(file);
    const done = new Set(records.filter((r) => r.event === 'end' && r.outcome === 'done').map((r) => r.id));
    expect(ids.filter((id) => !done.has(id))).toEqual([]);
    expect(overlaps(records)).toEqual([]);
    // Real load balancing: every replica did a share.
    const perReplica = new Map<string, number>();
    for (const record of records) if (record.event === 'start') perReplica.set(record.replica, (perReplica.get(record.replica) ?? 0) + 1);
    expect([...perReplica.keys()].sort()).toEqual(['r1', 'r2', 'r3']);
    // The last reconcile of each object saw its final version (the update, where there was one).
    for (const id of ids) {
      const object = await definitions.get(id);
      const last = records.filter((r) => r.id === id && r.event === 'start').at(-1)!;
      expect(last.version).toBe(Number(object.Version) - 1);
    }
  });

  it('stops gracefully on SIGTERM', async () => {
    const codes = await Promise.all(replicas.map((replica) => replica.stop()));
    expect(codes).toEqual([0, 0, 0]);
  });
});
