import { describe, expect, it } from 'vitest';
import { startApi, tempDir } from '../support/control-plane.ts';
import { startNats } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { eventually } from './support/harness.ts';
import { now, overlaps } from './support/recording-reconciler.ts';
import { readRecords, recordPath, spawnReplica } from './support/replicas.ts';

describe('controller replicas surviving crashes', async () => {
  const nats = await startNats();
  const api = await startApi({ database: 'postgres', natsUrl: nats.url });
  const dir = tempDir('crash');
  const definitions = api.client.kind('WorkloadDefinition');

  it('reconciles an object whose replica was killed (-9) mid-reconcile, once its lock expires', { timeout: 120_000 }, async () => {
    const file = recordPath(dir, 'kill');
    const doomed = await spawnReplica({ apiUrl: api.url, natsUrl: nats.url, recordFile: file, name: 'doomed', behaviour: { slowPrefix: 'stuck-', slowMs: 600_000 } });
    const created = await definitions.create({ Name: uniqueName('stuck'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await eventually('the doomed replica started reconciling', () => readRecords(file).some((r) => r.id === id && r.event === 'start'));
    await doomed.kill();
    const killedAt = now();

    await spawnReplica({ apiUrl: api.url, natsUrl: nats.url, recordFile: file, name: 'survivor' });
    await eventually('reconciled by the survivor', async () => (await definitions.get(id)).Reconciled === true, 60_000);
    const survivorStart = readRecords(file).find((r) => r.id === id && r.replica === 'survivor' && r.event === 'start');
    expect(survivorStart).toBeDefined();
    expect(survivorStart!.at).toBeGreaterThan(killedAt);
  });

  it('strands nothing when NATS restarts in the middle of a run', { timeout: 180_000 }, async () => {
    const file = recordPath(dir, 'restart');
    await Promise.all(['r1', 'r2'].map((name) => spawnReplica({ apiUrl: api.url, natsUrl: nats.url, recordFile: file, name, behaviour: { delayMs: 150 } })));
    const ids: number[] = [];
    const write = async (count: number, prefix: string) => {
      for (let index = 0; index < count; index++) {
        const created = await definitions.create({ Name: uniqueName(prefix), YAMLDocument: 'kind: ConfigMap' });
        ids.push(Number(created.ID));
      }
    };
    await write(100, 'before');
    await nats.stop();
    await write(50, 'during');
    await nats.start();
    await write(50, 'after');

    await eventually('every object reconciled', async () => {
      const waiting = ids.length - (await Promise.all(ids.map((id) => definitions.get(id)))).filter((o) => o.Reconciled === true).length;
      return waiting === 0 || `${waiting} waiting`;
    }, 150_000, 500);
    expect(overlaps(readRecords(file))).toEqual([]);
  });
});
