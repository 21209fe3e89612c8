import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { NatsBus } from '../../src/bus/nats.ts';
import { streamConfigs } from '../../src/bus/streams.ts';
import { isConflict, isNotFound } from '../../src/client/api-client.ts';
import { writeNotification } from '../../src/model/notification.ts';
import type { ControllerManager } from '../../src/controller/manager.ts';
import { registry } from '../../src/model/registry.ts';
import { startApi } from '../support/control-plane.ts';
import { startNats } from '../support/peers.ts';
import { createSample, uniqueName } from '../support/samples.ts';
import { cleanUp } from '../support/control-plane.ts';
import { eventually, startControllers, testLogger } from './support/harness.ts';
import { type CallRecord, recordingReconciler } from './support/recording-reconciler.ts';

async function controllerBus(url: string): Promise<NatsBus> {
  const bus = new NatsBus({ url, logger: testLogger(), streams: streamConfigs(registry) });
  cleanUp(() => bus.close());
  return bus;
}

describe('controller runtime on NATS JetStream (PostgreSQL API, in-process replicas)', async () => {
  const nats = await startNats();
  const api = await startApi({ database: 'postgres', natsUrl: nats.url });
  const records: CallRecord[] = [];
  const behaviour = { failPrefix: 'flaky-', failTimes: 4, slowPrefix: 'slow-', slowMs: 1500 };
  // Two replicas in this process, each with its own NATS connection, sharing consumers and locks.
  const managers: ControllerManager[] = [];
  for (const replica of ['a', 'b']) {
    const reconcilers = ['WorkloadDefinition', 'WorkloadInstance'].map((kind) => recordingReconciler(kind, replica, (r) => records.push(r), behaviour));
    managers.push(await startControllers(await controllerBus(nats.url), api.client, reconcilers, { concurrency: 4 }));
  }
  const definitions = api.client.kind('WorkloadDefinition');
  const starts = (id: number) => records.filter((r) => r.id === id && r.event === 'start');

  it('reconciles a burst of duplicate notifications once per change', async () => {
    const created = await definitions.create({ Name: uniqueName('dup'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await eventually('created reconciled', async () => (await definitions.get(id)).Reconciled === true);
    expect(starts(id)).toHaveLength(1);

    // One change, announced by the API and by 40 more copies (distinct message IDs, so JetStream
    // keeps them all), split between both replicas.
    const changed = await definitions.update(id, { YAMLDocument: 'kind: Secret', Reconciled: false });
    const connection = await connect({ servers: nats.url });
    const js = jetstream(connection);
    await Promise.all(
      Array.from({ length: 40 }, (_, copy) => js.publish('workloadDefinition.update', writeNotification(registry.get('WorkloadDefinition'), 'Updated', changed).payload, { msgID: `dup-${id}-${copy}` })),
    );
    await connection.close();
    await eventually('update reconciled', async () => (await definitions.get(id)).Reconciled === true);
    // Every copy must have come through (finding nothing to do) before counting.
    await eventually('duplicates drained', async () => (await managers[0]!.depth()) === 0);
    expect(starts(id).map((r) => r.operation)).toEqual(['Created', 'Updated']);

    await definitions.update(id, { YAMLDocument: 'kind: Pod', Reconciled: false });
    await eventually('second change reconciled', () => starts(id).length === 3);
  });

  it('retries a failing reconcile with growing backoff, shows the error in Status, and ends Reconciled', async () => {
    const instance = await createSample(api.client, registry.get('WorkloadInstance'), { Name: uniqueName('flaky') });
    const id = Number(instance.ID);
    const instances = api.client.kind('WorkloadInstance');
    const seen = new Set<string>();
    await eventually(
      'Reconciled after four failures',
      async () => {
        const current = await instances.get(id);
        if (typeof current.Status === 'string') seen.add(current.Status);
        return current.Reconciled === true;
      },
      60_000,
      25,
    );
    const attempts = starts(id).filter((r) => r.kind === 'WorkloadInstance');
    expect(attempts.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
    const gaps = attempts.slice(1).map((r, index) => r.at - attempts[index]!.at);
    // initial 300 ms, doubling, ±10 % jitter: no wait shorter than its floor (a loaded machine
    // only adds to them, so only lower bounds are facts; the floors double).
    gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual(300 * 2 ** index * 0.9 - 5));
    // The error is in Status and in the runtime's condition, written once: retries failing the same way add nothing.
    expect([...seen].filter((status) => status.startsWith('Error:'))).toEqual([expect.stringMatching(/^Error: simulated failure/)]);
    const failureRevisions = (await instances.revisions(id)).filter((revision) => String(revision.Object.Status ?? '').startsWith('Error:'));
    expect(failureRevisions).toHaveLength(1);
    const final = await instances.get(id);
    expect(final).toMatchObject({ Status: 'Reconciled', ObservedGeneration: final.Generation });
    expect(final.Conditions).toEqual([expect.objectContaining({ Type: 'Reconciled', Status: 'True', Reason: 'Reconciled' })]);
    // The failures are also Events attached to the object.
    const references = await api.client.kind('AttachedObjectReference').listAll({ objecttype: 'v0.WorkloadInstance', objectid: id });
    expect(references.length).toBeGreaterThan(0);
    const event = await api.client.kind('Event').get(Number(references[0]!.AttachedObjectID));
    expect(event).toMatchObject({ Reason: 'FailedCreate', Type: 'Warning', ReportingController: 'WorkloadController' });
  });

  it('runs the delete protocol end to end: cleanup, confirmation, removal; a repeated DELETE meanwhile is refused', async () => {
    const created = await definitions.create({ Name: uniqueName('slow-del'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await eventually('created reconciled', async () => (await definitions.get(id)).Reconciled === true);

    const scheduled = await definitions.delete(id);
    expect(scheduled.DeletionScheduled).toBeTruthy();
    expect(scheduled.Reconciled).toBe(false);
    await eventually('cleanup started', () => starts(id).some((r) => r.operation === 'Deleted'));
    const again = await definitions.delete(id).then(() => 'accepted', (error: unknown) => (isConflict(error) ? 'conflict' : String(error)));
    expect(again).toBe('conflict');
    const acknowledged = await definitions.get(id);
    expect(acknowledged.DeletionAcknowledged).toBeTruthy();

    await eventually('removed', async () => definitions.get(id).then(() => false, (error: unknown) => isNotFound(error)));
    expect(starts(id).map((r) => r.operation)).toEqual(['Created', 'Deleted']);
    // The history outlives the object.
    const revisions = await definitions.revisions(id);
    expect(revisions.some((revision) => revision.Object.DeletionConfirmed)).toBe(true);
  });
});

describe('resync', async () => {
  const nats = await startNats();
  const api = await startApi({ database: 'postgres', natsUrl: nats.url });
  const records: CallRecord[] = [];

  it('reconciles an object whose notification was never sent', async () => {
    await nats.stop();
    const created = await api.client.kind('WorkloadDefinition').create({ Name: uniqueName('lost'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    // The notification waits in the outbox for NATS; throw it away, as if it had been lost.
    await api.server.relay.stop();
    await api.server.db.query('DELETE FROM threeport_outbox');
    await nats.start();

    await startControllers(await controllerBus(nats.url), api.client, [recordingReconciler('WorkloadDefinition', 'a', (r) => records.push(r))], { resyncIntervalMs: 1000 });
    await eventually('reconciled by resync', async () => (await api.client.kind('WorkloadDefinition').get(id)).Reconciled === true, 30_000);
    expect(records.filter((r) => r.id === id && r.event === 'start').map((r) => r.operation)).toEqual(['Created']);
  });
});
