/**
 * Resync, the safety net of level-triggering (src/controller/resync.ts), on both buses: objects
 * whose notifications were lost are found and reconciled even while one hot object keeps the
 * queue busy, over more than one page; a confirmed deletion never removed is finished; a kind
 * whose listing fails holds up no other kind; kinds that ask for it get every object re-verified,
 * which writes nothing when nothing changed, once per interval across all replicas together.
 *
 * Lost notifications are made the way they get lost: the relay is stopped, objects are written
 * (their notifications wait in the outbox), and the outbox is emptied.
 */
import { describe, expect, it } from 'vitest';
import type { Publisher } from '../../src/bus/publisher.ts';
import type { ControllerBus } from '../../src/bus/work-queue.ts';
import { isNotFound } from '../../src/client/api-client.ts';
import { TerminalError } from '../../src/controller/errors.ts';
import { openResyncRecords, Resync } from '../../src/controller/resync.ts';
import { conditionsOf, findCondition } from '../../src/model/conditions.ts';
import type { ApiObject } from '../../src/model/kind.ts';
import { writeNotification } from '../../src/model/notification.ts';
import { registry } from '../../src/model/registry.ts';
import { captureLogger, WARN } from '../support/capture-log.ts';
import { cleanUp } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';
import { buses, startBed, type Bed } from './support/beds.ts';
import { eventually, startControllers } from './support/harness.ts';
import { gate, scriptedReconciler } from './support/scripted.ts';

const LONG = { timeout: 240_000 };

/** Runs `work` for 0…count-1 with at most `limit` at a time; returns the results in order. */
async function pool<T>(count: number, limit: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await work(index);
      }
    }),
  );
  return results;
}

/** Runs `write` with the outbox relay stopped, then throws away the notifications it queued. */
async function withNotificationsLost<T>(bed: Bed, write: () => Promise<T>): Promise<T> {
  await bed.api.server.relay.stop();
  try {
    return await write();
  } finally {
    await bed.api.server.db.query('DELETE FROM threeport_outbox');
    bed.api.server.relay.start();
  }
}

/** The bus as a resync publishes to it, remembering what was published and when. */
function recording(bus: ControllerBus): Publisher & { published: { at: number; subject: string; message: { Object: ApiObject; Requested?: string } }[] } {
  const published: { at: number; subject: string; message: { Object: ApiObject; Requested?: string } }[] = [];
  return {
    published,
    async publish(subject, payload, messageId) {
      published.push({ at: Date.now(), subject, message: JSON.parse(payload) as { Object: ApiObject; Requested?: string } });
      await bus.publish(subject, payload, messageId);
    },
    close: async () => undefined,
  };
}

/** A resync as a controller replica runs it, on its own connection to the bus. */
async function replica(bed: Bed, options: Partial<ConstructorParameters<typeof Resync>[0]> & Pick<ConstructorParameters<typeof Resync>[0], 'targets'>) {
  const bus = await bed.controllerBus();
  const publisher = recording(bus);
  const resync = new Resync({ client: bed.api.client, bus: publisher, intervalMs: 0, records: await openResyncRecords(bus), logger: captureLogger().logger, ...options });
  cleanUp(() => resync.stop());
  return { resync, published: publisher.published };
}

describe.each(buses)('resync (%s bus)', async (busName) => {
  const bed = await startBed(busName);
  const { client } = bed.api;

  it('one hot object whose notifications keep the queue busy does not keep resync from queueing the objects waiting behind it', LONG, async () => {
    const kind = 'WorkloadDefinition';
    const scripted = scriptedReconciler(kind);
    const hotName = uniqueName('hot');
    const release = gate();
    scripted.script(hotName, () => release.opened);
    const { hot, waiting } = await withNotificationsLost(bed, async () => ({
      hot: await client.kind(kind).create({ Name: hotName, YAMLDocument: 'kind: ConfigMap' }),
      waiting: await pool(30, 4, () => client.kind(kind).create({ Name: uniqueName('waiting'), YAMLDocument: 'kind: ConfigMap' })),
    }));
    // More notifications for the hot object than there are objects waiting (an agent reporting
    // drift over and over): the old resync skipped a kind whose queue was at least that deep.
    const bus = await bed.controllerBus();
    const copies = 100;
    for (let copy = 0; copy < copies; copy++) await bus.publish(`${registry.get(kind).subjectPrefix}.update`, writeNotification(registry.get(kind), 'Updated', hot).payload, `hot-${String(hot.ID)}-${copy}`);

    const manager = await startControllers(bus, client, [scripted.reconciler], { resyncIntervalMs: 0 });
    await eventually('every waiting object reconciled while the hot one is still busy', async () => {
      const { total } = await client.kind(kind).list({ reconciled: false }, { size: 1 });
      return total === 1 || `${total} not reconciled`;
    }, 120_000);
    expect((await client.kind(kind).get(Number(hot.ID))).Reconciled).toBe(false);
    expect(await manager.depth(), 'the hot object’s notifications were queued all along').toBeGreaterThanOrEqual(copies);
    for (const object of waiting) expect(scripted.callsOf(object.ID).map((call) => call.operation), String(object.Name)).toEqual(['Created']);

    release.open();
    await eventually('the hot object reconciled', async () => (await client.kind(kind).get(Number(hot.ID))).Reconciled === true);
    await eventually('its copies drained', async () => (await manager.depth()) === 0 || `depth ${await manager.depth()}`, 60_000);
    expect(scripted.callsOf(hot.ID)).toHaveLength(1);
  });

  it('pages through more waiting objects than one page holds', LONG, async () => {
    const kind = 'GatewayDefinition';
    const scripted = scriptedReconciler(kind);
    const count = 620; // the client asks for 500 a page
    const objects = await withNotificationsLost(bed, () => pool(count, 8, (index) => createSample(client, registry.get(kind), { Name: uniqueName(`page-${index}`) })));
    expect((await client.kind(kind).list({ reconciled: false }, { size: 1 })).total).toBe(count);

    const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler], { resyncIntervalMs: 0 });
    await eventually('every object reconciled', async () => {
      const { total } = await client.kind(kind).list({ reconciled: false }, { size: 1 });
      return total === 0 || `${total} not reconciled`;
    }, 180_000, 500);
    await eventually('drained', async () => (await manager.depth()) === 0);
    const reconciledIds = new Set(scripted.calls.map((call) => call.id));
    expect(objects.filter((object) => !reconciledIds.has(Number(object.ID))).map((object) => object.Name)).toEqual([]);
  });

  it('finishes a deletion its controller confirmed but never completed (a crash before the final DELETE)', LONG, async () => {
    const kind = 'MetricsDefinition';
    const scripted = scriptedReconciler(kind);
    const id = await withNotificationsLost(bed, async () => {
      const object = await createSample(client, registry.get(kind), { Name: uniqueName('confirmed'), Reconciled: true });
      const id = Number(object.ID);
      await client.kind(kind).delete(id);
      const now = new Date().toISOString();
      await client.kind(kind).update(id, { DeletionAcknowledged: now, DeletionConfirmed: now, Reconciled: true });
      return id;
    });
    await startControllers(await bed.controllerBus(), client, [scripted.reconciler], { resyncIntervalMs: 0 });
    await eventually('removed', () => client.kind(kind).get(id).then(() => 'still there', (error: unknown) => isNotFound(error) || String(error)));
    expect(scripted.callsOf(id), 'the cleanup is not run again').toEqual([]);
    const revisions = await client.kind(kind).revisions(id);
    expect(revisions.at(-1)?.Operation).toBe('Deleted');
  });

  it('a kind with resyncIntervalMs gets every object re-verified; a re-verification that finds it so writes nothing', LONG, async () => {
    const kind = 'LoggingDefinition';
    const verified = scriptedReconciler(kind, { resyncIntervalMs: 1500 });
    const other = scriptedReconciler('ControlPlaneDefinition');
    await startControllers(await bed.controllerBus(), client, [verified.reconciler, other.reconciler]);
    const objects = await pool(3, 3, (index) => createSample(client, registry.get(kind), { Name: uniqueName(`verify-${index}`) }));
    const bystander = await createSample(client, registry.get('ControlPlaneDefinition'), { Name: uniqueName('not-verified') });
    // Its generation failed for good: it waits for a change, re-verification does not re-run it.
    const doomedName = uniqueName('doomed');
    verified.script(doomedName, () => {
      throw new TerminalError('the manifest is invalid');
    });
    const doomed = await createSample(client, registry.get(kind), { Name: doomedName });
    const reconciled = async (target: string, id: unknown) => (await client.kind(target).get(Number(id))).Reconciled === true;
    for (const object of objects) await eventually('reconciled', () => reconciled(kind, object.ID));
    await eventually('bystander reconciled', () => reconciled('ControlPlaneDefinition', bystander.ID));
    const settled: ApiObject[] = await Promise.all(objects.map((object) => client.kind(kind).get(Number(object.ID))));
    const revisionCounts = await Promise.all(objects.map(async (object) => (await client.kind(kind).revisions(Number(object.ID))).length));

    await eventually('the doomed one failed for good', async () => findCondition(conditionsOf(await client.kind(kind).get(Number(doomed.ID))), 'Reconciled')?.Reason === 'Failed');
    const doomedCalls = verified.callsOf(doomed.ID).length;
    const passesBefore = Math.min(...objects.map((object) => verified.callsOf(object.ID).length));
    await eventually('every object re-verified three more times', () => objects.every((object) => verified.callsOf(object.ID).length >= Math.max(3, passesBefore + 3)) || verified.calls.map((call) => call.id).join(','), 60_000);
    for (const object of objects) {
      expect(verified.callsOf(object.ID).map((call) => call.operation).slice(0, 3)).toEqual(['Created', 'Updated', 'Updated']);
    }
    expect(await Promise.all(objects.map((object) => client.kind(kind).get(Number(object.ID))))).toEqual(settled);
    expect(await Promise.all(objects.map(async (object) => (await client.kind(kind).revisions(Number(object.ID))).length))).toEqual(revisionCounts);
    expect(other.callsOf(bystander.ID), 'a kind without resyncIntervalMs is left alone').toHaveLength(1);
    // At most once more: a pass that listed it just before its failure was recorded.
    expect(verified.callsOf(doomed.ID).length, 'a terminal failure is not re-verified').toBeLessThanOrEqual(doomedCalls + 1);
  });

  it('a kind whose waiting objects cannot be listed holds up no other kind, and is tried again on its own', LONG, async () => {
    const broken = registry.get('TerraformDefinition');
    const healthy = registry.get('ObservabilityDashboardDefinition');
    const { stranded, waiting } = await withNotificationsLost(bed, async () => ({
      stranded: await createSample(client, broken, { Name: uniqueName('stranded') }),
      waiting: await pool(3, 3, (index) => createSample(client, healthy, { Name: uniqueName(`waiting-${index}`) })),
    }));
    const queuedIds = (published: { subject: string; message: { Object: ApiObject } }[], kind: string) =>
      published.filter((entry) => entry.subject.startsWith(`${registry.get(kind).subjectPrefix}.`)).map((entry) => Number(entry.message.Object.ID));

    // The kind's table is out of reach (a failed migration, a lost grant): its listing answers 500.
    const { db } = bed.api.server;
    await db.query(`ALTER TABLE ${broken.table} RENAME TO ${broken.table}_away`);
    let restored = false;
    const restore = async (): Promise<void> => {
      if (!restored) await db.query(`ALTER TABLE ${broken.table}_away RENAME TO ${broken.table}`);
      restored = true;
    };
    cleanUp(restore);
    const log = captureLogger();
    const { resync, published } = await replica(bed, { targets: [broken, healthy].map((kind) => ({ kind, everyObjectIntervalMs: 0 })), logger: log.logger });

    // Listed first and failing, the broken kind does not keep the healthy one from being queued.
    const pass = await resync.pendingPass();
    expect(pass.failed.map((kind) => kind.name)).toEqual([broken.name]);
    expect(queuedIds(published, healthy.name).sort()).toEqual(waiting.map((object) => Number(object.ID)).sort());
    expect(queuedIds(published, broken.name)).toEqual([]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: WARN, kind: broken.name, msg: expect.stringContaining('resync could not look for objects waiting') }));

    // Running: the healthy kind is queued at start, the broken one once it can be listed again.
    published.length = 0;
    resync.start();
    await eventually('the healthy kind queued at start', () => queuedIds(published, healthy.name).length === waiting.length);
    expect(queuedIds(published, broken.name)).toEqual([]);
    await restore();
    await eventually('the broken kind queued once it can be listed', () => queuedIds(published, broken.name).includes(Number(stranded.ID)), 30_000);
    expect(queuedIds(published, healthy.name), 'a retry of the failed kind does not queue the others again').toHaveLength(waiting.length);
  });

  it('every object is re-verified once per interval across all the replicas, not once per replica', LONG, async () => {
    const kind = registry.get('ObservabilityStackDefinition');
    const object = await createSample(client, kind, { Name: uniqueName('shared-pass'), Reconciled: true });
    const requests = (published: { at: number; message: { Object: ApiObject; Requested?: string } }[]) =>
      published.filter((entry) => entry.message.Requested === 'resync' && Number(entry.message.Object.ID) === Number(object.ID)).map((entry) => entry.at);

    // Two replicas asked at the same moment: one of them does the pass; asked again, neither.
    const [first, second] = await Promise.all([replica(bed, { targets: [] }), replica(bed, { targets: [] })]);
    const intervalMs = 3000;
    const claimed = await Promise.all([first.resync.everyObjectPassIfDue(kind, 600_000), second.resync.everyObjectPassIfDue(kind, 600_000)]);
    expect(claimed.filter((queued) => queued !== undefined)).toEqual([1]);
    expect(await Promise.all([first.resync.everyObjectPassIfDue(kind, 600_000), second.resync.everyObjectPassIfDue(kind, 600_000)])).toEqual([undefined, undefined]);

    // Running side by side (on a kind of its own: the record above stays fresh for ten minutes),
    // their passes together come one interval apart.
    const running = await Promise.all([0, 1].map(() => replica(bed, { targets: [{ kind: registry.get('ObservabilityStackInstance'), everyObjectIntervalMs: intervalMs }] })));
    const instance = await createSample(client, registry.get('ObservabilityStackInstance'), { Name: uniqueName('shared-pass'), Reconciled: true });
    const passes = () =>
      running
        .flatMap(({ published }) => published.filter((entry) => entry.message.Requested === 'resync' && Number(entry.message.Object.ID) === Number(instance.ID)).map((entry) => entry.at))
        .sort((a, b) => a - b);
    for (const { resync } of running) resync.start();
    await eventually('four passes', () => passes().length >= 4 || `${passes().length} passes`, 120_000);
    await Promise.all(running.map(({ resync }) => resync.stop()));
    const at = passes();
    const gaps = at.slice(1).map((time, index) => time - at[index]!);
    // A pass claims its record before it lists and queues: half an interval absorbs how long that takes.
    expect(gaps.every((gap) => gap >= intervalMs / 2), `gaps between passes: ${gaps.join(', ')} ms`).toBe(true);
    expect(requests(first.published).length + requests(second.published).length).toBe(1);
  });

  it('a replica starting takes a pass half an interval old as due: what changed while no controller ran is found soon', LONG, async () => {
    const kind = registry.get('ObservabilityDashboardInstance');
    const object = await createSample(client, kind, { Name: uniqueName('after-restart'), Reconciled: true });
    const intervalMs = 20_000;
    const before = await replica(bed, { targets: [] });
    const passedAt = Date.now();
    expect(await before.resync.everyObjectPassIfDue(kind, intervalMs)).toBeGreaterThanOrEqual(1);
    await before.resync.stop();
    // Every replica down for more than half an interval, then one starts.
    await eventually('half an interval passed', () => Date.now() - passedAt > intervalMs / 2 + 200, intervalMs);
    const restarted = await replica(bed, { targets: [{ kind, everyObjectIntervalMs: intervalMs }] });
    restarted.resync.start();
    const requested = () => restarted.published.filter((entry) => entry.message.Requested === 'resync' && Number(entry.message.Object.ID) === Number(object.ID));
    await eventually('re-verified after the start', () => requested().length > 0, intervalMs);
    expect(requested()[0]!.at - passedAt, 'sooner than a whole interval after the last pass').toBeLessThan(intervalMs);
    await restarted.resync.stop();
  });
});
