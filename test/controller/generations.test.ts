/**
 * Generations (src/store/generation.ts with the runtime): a change of desired state is a new
 * generation that notifies; writes of controller-owned fields are not and notify nobody; retries
 * failing the same way add no revisions; the runtime derives the operation from the object and
 * records the generation it reconciled. PGlite API, in-process bus (what notifies is the store's
 * decision, the same on every bus).
 */
import { describe, expect, it } from 'vitest';
import type { MemoryBus } from '../../src/bus/memory.ts';
import { REDACTED_PLACEHOLDER } from '../../src/model/fields.ts';
import { isNotFound } from '../../src/client/api-client.ts';
import type { Condition } from '../../src/model/conditions.ts';
import { writeNotification } from '../../src/model/notification.ts';
import { registry } from '../../src/model/registry.ts';
import { startApi } from '../support/control-plane.ts';
import { uniqueName } from '../support/samples.ts';
import { eventually, startControllers } from './support/harness.ts';
import { scriptedReconciler } from './support/scripted.ts';

const LONG = { timeout: 120_000 };
const kind = registry.get('WorkloadDefinition');

describe('generations', async () => {
  const api = await startApi({ database: 'pglite' });
  const definitions = api.client.kind('WorkloadDefinition');
  const bus = api.server.bus as MemoryBus;
  /** Message IDs of every notification published (`WorkloadDefinition.<id>.<version>`). */
  const published: string[] = [];
  bus.subscribe('workloadDefinition.*', (message) => published.push(message.messageId));
  const notifiedVersions = (id: number) => published.filter((messageId) => messageId.startsWith(`WorkloadDefinition.${id}.`)).map((messageId) => Number(messageId.split('.')[2]));

  it('a change of desired state after Reconciled=true bumps Generation and notifies; a controller-owned write does neither', LONG, async () => {
    const scripted = scriptedReconciler('WorkloadDefinition');
    const manager = await startControllers(api.server.bus, api.client, [scripted.reconciler]);
    const created = await definitions.create({ Name: uniqueName('generations'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await eventually('reconciled', async () => (await definitions.get(id)).Reconciled === true);
    expect(await definitions.get(id)).toMatchObject({ Generation: 1, ObservedGeneration: 1, Version: 2 });

    // What an agent or another controller writes: status, a domain condition.
    const healthy: Condition = { Type: 'Healthy', Status: 'True', Reason: 'Ready', LastTransitionTime: new Date().toISOString() };
    const reported = await definitions.update(id, { Status: 'Ready', Conditions: [...((await definitions.get(id)).Conditions ?? []), healthy] });
    expect(reported).toMatchObject({ Generation: 1, Reconciled: true, Version: 3 });

    const changed = await definitions.update(id, { YAMLDocument: 'kind: Secret' });
    expect(changed).toMatchObject({ Generation: 2, Reconciled: false, ObservedGeneration: 1 });
    // Until its controller is done, the new generation says so, not what the last one reached.
    expect(changed.Status).toBe('Reconciling: generation 2 waits for its controller');
    expect(changed.Conditions).toContainEqual(expect.objectContaining({ Type: 'Reconciled', Status: 'Unknown', Reason: 'Reconciling', ObservedGeneration: 2 }));
    await eventually('the change reconciled', async () => (await definitions.get(id)).Reconciled === true);
    await eventually('drained', async () => (await manager.depth()) === 0);

    // Notifications are published in commit order: the change's arrived, the report's never did.
    expect(notifiedVersions(id)).toEqual([1, 4]);
    expect(scripted.callsOf(id).map((call) => [call.operation, call.generation, call.observedGeneration])).toEqual([
      ['Created', 1, undefined],
      ['Updated', 2, 1],
    ]);
    const final = await definitions.get(id);
    expect(final).toMatchObject({ Generation: 2, ObservedGeneration: 2, Status: 'Reconciled' });
    // The runtime's condition beside the domain's, which it left alone.
    expect(final.Conditions).toEqual([
      expect.objectContaining({ Type: 'Reconciled', Status: 'True', ObservedGeneration: 2 }),
      expect.objectContaining({ Type: 'Healthy', Status: 'True', Reason: 'Ready' }),
    ]);
  });

  it('a change sent with Reconciled true, as the original’s clients send whole objects, is still a change to reconcile', LONG, async () => {
    const created = await definitions.create({ Name: uniqueName('whole-object'), YAMLDocument: 'kind: ConfigMap', Reconciled: true });
    expect(created).toMatchObject({ Generation: 1, Reconciled: true });
    const id = Number(created.ID);
    const { ID: _id, CreatedAt: _c, UpdatedAt: _u, Version: _v, Generation: _g, ...whole } = await definitions.get(id);
    const changed = await definitions.update(id, { ...whole, YAMLDocument: 'kind: Secret', Reconciled: true });
    expect(changed).toMatchObject({ Generation: 2, Reconciled: false, Status: 'Reconciling: generation 2 waits for its controller' });
    await eventually('notified', async () => notifiedVersions(id).includes(Number(changed.Version)));
    // A controller that knows no conditions (the original's) marks it done with Reconciled alone: that settles the condition.
    const done = await definitions.update(id, { Reconciled: true });
    expect(done).toMatchObject({ Generation: 2, Reconciled: true, Status: 'Reconciled' });
    expect(done.Conditions).toEqual([expect.objectContaining({ Type: 'Reconciled', Status: 'True', ObservedGeneration: 2 })]);
    // The same whole object again changes nothing: no generation, Reconciled as sent.
    const same = await definitions.update(id, { ...whole, YAMLDocument: 'kind: Secret', Reconciled: true });
    expect(same).toMatchObject({ Generation: 2, Reconciled: true });
  });

  it('secrets written back as read (ciphertext or the redaction placeholder) are no change', LONG, async () => {
    const definition = await api.client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('secrets'), InfraProvider: 'kind', Reconciled: true });
    const runtimes = api.client.kind('KubernetesRuntimeInstance');
    const runtime = await runtimes.create({ Name: uniqueName('secrets'), KubernetesRuntimeDefinitionID: definition.ID, Location: 'Local', ConnectionToken: 'token-1', Reconciled: true });
    const echoed = await runtimes.update(runtime.ID, { ConnectionToken: runtime.ConnectionToken });
    expect(echoed).toMatchObject({ Generation: 1, Reconciled: true });
    const redacted = await runtimes.update(runtime.ID, { ConnectionToken: REDACTED_PLACEHOLDER });
    expect(redacted).toMatchObject({ Generation: 1, Reconciled: true, ConnectionToken: runtime.ConnectionToken });
    const rotated = await runtimes.update(runtime.ID, { ConnectionToken: 'token-2' });
    expect(rotated).toMatchObject({ Generation: 2, Reconciled: false });
  });

  it('a retry failing the same way adds no revision', LONG, async () => {
    const scripted = scriptedReconciler('WorkloadDefinition');
    const name = uniqueName('same-failure');
    scripted.script(name, (_context, call) => {
      if (call.call <= 3) throw new Error('the cluster is unreachable');
    });
    await startControllers(api.server.bus, api.client, [scripted.reconciler], { backoff: { initialMs: 100, maxMs: 400, jitter: 0.1 } });
    const id = Number((await definitions.create({ Name: name, YAMLDocument: 'kind: ConfigMap' })).ID);
    await eventually('reconciled after three failures', async () => (await definitions.get(id)).Reconciled === true);
    expect(scripted.callsOf(id).map((call) => call.attempt)).toEqual([1, 2, 3, 4]);
    const revisions = await definitions.revisions(id);
    expect(revisions.map((revision) => revision.Object.Status ?? null)).toEqual([null, 'Error: the cluster is unreachable', 'Reconciled']);
    // One Event, counted.
    expect((await api.client.eventsOf(id)).map((event) => [event.Reason, event.Count])).toEqual([['FailedCreate', 3]]);
  });

  it('the operation comes from the object (Created until the first success, Updated after, Deleted once scheduled), whatever notification arrived', LONG, async () => {
    const name = uniqueName('operations');
    const created = await definitions.create({ Name: name, YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await definitions.update(id, { YAMLDocument: 'kind: Secret' });
    const third = await definitions.update(id, { YAMLDocument: 'kind: Service' });
    // A stray Deleted notification, as an old controller might have sent, queued with the rest.
    await bus.publish(`${kind.subjectPrefix}.delete`, writeNotification(kind, 'Deleted', third).payload, `stray-deleted-${id}`);
    await eventually('every notification published', () => notifiedVersions(id).length === 3);

    const first = scriptedReconciler('WorkloadDefinition');
    const manager = await startControllers(api.server.bus, api.client, [first.reconciler]);
    await eventually('reconciled', async () => (await definitions.get(id)).Reconciled === true);
    await eventually('drained', async () => (await manager.depth()) === 0);
    // Five notifications (created, updated twice, a stray delete): one reconcile, of the current generation, never succeeded before.
    expect(first.callsOf(id).map((call) => [call.operation, call.generation])).toEqual([['Created', 3]]);
    expect(await definitions.get(id)).toMatchObject({ Generation: 3, ObservedGeneration: 3 });

    await definitions.update(id, { YAMLDocument: 'kind: Pod' });
    await eventually('the change reconciled', () => first.callsOf(id).length === 2);
    expect(first.callsOf(id)[1]).toMatchObject({ operation: 'Updated', generation: 4, observedGeneration: 3 });
    await eventually('marked', async () => (await definitions.get(id)).ObservedGeneration === 4);

    // With the controller down, stray Created and Updated notifications go ahead of the delete's own.
    await manager.stop();
    const current = await definitions.get(id);
    await bus.publish(`${kind.subjectPrefix}.create`, writeNotification(kind, 'Created', current).payload, `stray-created-${id}`);
    await bus.publish(`${kind.subjectPrefix}.update`, writeNotification(kind, 'Updated', current).payload, `stray-updated-${id}`);
    await definitions.delete(id);
    const second = scriptedReconciler('WorkloadDefinition');
    await startControllers(api.server.bus, api.client, [second.reconciler]);
    await eventually('removed', () => definitions.get(id).then(() => false, (error: unknown) => isNotFound(error)));
    expect(second.callsOf(id).map((call) => call.operation)).toEqual(['Deleted']);
  });
});
