/**
 * What the runtime does around one reconcile (delivery-processor.ts, worker.ts), on both buses:
 * reconciles stopped by their time limit, a lost lock or shutdown; terminal and retryable
 * failures; requeue and waiting results; writes through the context racing other writers.
 *
 * Each test reconciles a kind of its own, so the queue depth it checks is its alone.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/controller/backoff.ts';
import { isStaleObjectError, RetryableError, TerminalError } from '../../src/controller/errors.ts';
import type { ControllerManager } from '../../src/controller/manager.ts';
import type { ApiObject } from '../../src/model/kind.ts';
import { registry } from '../../src/model/registry.ts';
import { createSample, editableStringField, uniqueName } from '../support/samples.ts';
import { buses, startBed } from './support/beds.ts';
import { eventually, startControllers } from './support/harness.ts';
import { gate, hang, scriptedReconciler, untilAborted } from './support/scripted.ts';

/** Reconciles counted by result, from the manager's metrics. */
async function results(manager: ControllerManager): Promise<Record<string, number>> {
  const counted: Record<string, number> = {};
  for (const value of (await manager.metrics.reconciles.get()).values) counted[String(value.labels.result)] = (counted[String(value.labels.result)] ?? 0) + value.value;
  return counted;
}

/** Generous: a loaded 2-core machine; failures show the condition that was waited for. */
const LONG = { timeout: 120_000 };

const reasonName = (reason: unknown): string => (reason instanceof Error || reason instanceof DOMException ? `${reason.name}: ${reason.message}` : String(reason));

describe('backoff between retries', () => {
  const policy = { initialMs: 300, maxMs: 5000, jitter: 0.1 };
  it('doubles from initialMs, stops at maxMs, and jitters within ±jitter', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(attempt, policy, middle))).toEqual([300, 600, 1200, 2400, 4800, 5000, 5000]);
    expect(backoffDelay(3, policy, () => 0)).toBe(1080);
    expect(backoffDelay(3, policy, () => 1)).toBe(1320);
    expect(backoffDelay(60, policy, () => 1)).toBe(5500);
  });
});

describe.each(buses)('the runtime around one reconcile (%s bus)', async (busName) => {
  const bed = await startBed(busName);
  const { client } = bed.api;
  const create = (kind: string, name: string, fields: ApiObject = {}) => createSample(client, registry.get(kind), { Name: name, ...fields });
  /** A change of desired state for `kind`. */
  const edit = (kind: string): ApiObject => ({ [editableStringField(registry.get(kind)) ?? 'YAMLDocument']: uniqueName('changed') });
  const statuses = async (kind: string, id: number) => (await client.kind(kind).revisions(id)).map((revision) => revision.Object.Status);
  const drained = (manager: ControllerManager) => eventually('the queue drained', async () => (await manager.depth()) === 0 || `depth ${await manager.depth()}`);

  describe('reconciles stopped before they finish', () => {
    it('a handler hanging past timeoutMs is aborted, its lock released, the notification retried with backoff, and the retry succeeds', LONG, async () => {
      const kind = 'GatewayDefinition';
      // Long enough that an ordinary reconcile on a loaded machine never meets it.
      const scripted = scriptedReconciler(kind, { timeoutMs: 3000 });
      const name = uniqueName('hang');
      const reasons: unknown[] = [];
      const lateWrites: string[] = [];
      scripted.script(name, (context, call) => {
        if (call.call > 1) return undefined;
        void untilAborted(context.signal).then(async (reason) => {
          reasons.push(reason);
          // Work that carries on after the time-out cannot write through the context any more.
          lateWrites.push(await context.update({ CreationConfirmed: '2026-05-01T11:00:00.000Z' }).then(() => 'written', () => 'refused'));
        });
        return hang(); // never returns: the runtime must not depend on the handler giving up
      });
      // A lock TTL far beyond the test: the retry can take the lock only if the time-out released it.
      await startControllers(await bed.controllerBus(), client, [scripted.reconciler], { lockTtlMs: 600_000, backoff: { initialMs: 1000, maxMs: 5000, jitter: 0.1 } });
      const id = Number((await create(kind, name)).ID);

      await eventually('reconciled by the retry', async () => (await client.kind(kind).get(id)).Reconciled === true, 60_000);
      const [first, second, ...more] = scripted.callsOf(id);
      expect(more).toEqual([]);
      expect(reasons.map(reasonName)).toEqual([expect.stringMatching(/^TimeoutError/)]);
      expect(first!.signal.aborted).toBe(true);
      expect(second!.attempt).toBe(2);
      // The time limit, then at least the first backoff (1 s − 10 % jitter).
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(3000 + 900 - 5);
      expect(await statuses(kind, id)).toContain('Error: the reconcile did not finish within 3s');
      expect(await client.eventsOf(id)).toEqual([expect.objectContaining({ Reason: 'FailedCreate', Type: 'Warning', Note: 'the reconcile did not finish within 3s' })]);
      await eventually('the late write settled', () => lateWrites.length === 1);
      expect(lateWrites).toEqual(['refused']);
      const final = await client.kind(kind).get(id);
      expect(final).toMatchObject({ Status: 'Reconciled', ObservedGeneration: 1 });
      expect(final.CreationConfirmed ?? null).toBeNull();
    });

    it('losing the lock mid-reconcile aborts the handler’s signal and hands the delivery back without marking anything', LONG, async () => {
      const kind = 'LoggingDefinition';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('steal');
      const started = gate();
      const reasons: unknown[] = [];
      scripted.script(name, async (context, call) => {
        if (call.call > 1) return undefined;
        started.open();
        const reason = await untilAborted(context.signal);
        reasons.push(reason);
        throw reason;
      });
      const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const id = Number((await create(kind, name)).ID);
      await started.opened;

      // Another holder rewrites the key, as a replica that (wrongly or not) thought the lock expired.
      const locks = await bed.lockStore(kind);
      const key = `${kind}Reconciler.${id}`;
      const entry = await locks.get(key);
      expect(JSON.parse(entry!.value)).toEqual({ holder: manager.id, attempt: 0 });
      await locks.update(key, JSON.stringify({ holder: 'intruder', attempt: 0 }), entry!.revision);

      await eventually('the handler’s signal aborted', () => reasons.length === 1);
      expect(reasonName(reasons[0])).toMatch(/lock was taken over by another replica/);
      // The intruder never refreshes its lock: once it is stale the runtime takes it and reconciles.
      await eventually('reconciled after the intruder’s lock expired', async () => (await client.kind(kind).get(id)).Reconciled === true, 60_000);
      const calls = scripted.callsOf(id);
      expect(calls.map((call) => call.attempt), 'a lost lock is not a failure').toEqual([1, 1]);
      // Nothing was written for the interrupted reconcile: the object has its create and its success.
      expect((await client.kind(kind).revisions(id)).map((revision) => revision.Object.Status ?? null)).toEqual([null, 'Reconciled']);
      expect(await client.eventsOf(id)).toEqual([]);
      await drained(manager);
      expect(await results(manager)).not.toHaveProperty('error');
    });

    it('shutdown mid-reconcile hands the notification back; the next controller process reconciles it as a first attempt', LONG, async () => {
      const kind = 'MetricsDefinition';
      const doomed = scriptedReconciler(kind);
      const name = uniqueName('shutdown');
      const started = gate();
      const reasons: unknown[] = [];
      doomed.script(name, (context) => {
        started.open();
        void untilAborted(context.signal).then((reason) => reasons.push(reason));
        return hang();
      });
      const first = await startControllers(await bed.controllerBus(), client, [doomed.reconciler], { shutdownGraceMs: 300 });
      const id = Number((await create(kind, name)).ID);
      await started.opened;
      await first.stop();
      expect(reasons.map(reasonName)).toEqual([expect.stringMatching(/^AbortError/)]);
      expect(await client.kind(kind).get(id)).toMatchObject({ Reconciled: false, Version: 1 });

      const successor = scriptedReconciler(kind);
      await startControllers(await bed.controllerBus(), client, [successor.reconciler]);
      await eventually('reconciled by the next process', async () => (await client.kind(kind).get(id)).Reconciled === true);
      expect(successor.callsOf(id).map((call) => [call.operation, call.attempt])).toEqual([['Created', 1]]);
      expect(await client.eventsOf(id)).toEqual([]);
    });
  });

  describe('failures', () => {
    it('a TerminalError is recorded (Reconciled False, Failed; a FailedCreate Warning) and not retried until the object changes', LONG, async () => {
      const kind = 'ObservabilityDashboardDefinition';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('terminal');
      scripted.script(name, (_context, call) => {
        if (call.call === 1) throw new TerminalError('the chart repository URL is not valid');
      });
      const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const id = Number((await create(kind, name)).ID);

      await eventually('the failure recorded', async () => (await client.kind(kind).get(id)).CreationFailed === true);
      const failed = await client.kind(kind).get(id);
      expect(failed).toMatchObject({ Reconciled: false, Status: 'Failed: the chart repository URL is not valid (not retried until the object changes)' });
      expect(failed.Conditions).toEqual([expect.objectContaining({ Type: 'Reconciled', Status: 'False', Reason: 'Failed', ObservedGeneration: 1 })]);
      expect(await client.eventsOf(id)).toEqual([expect.objectContaining({ Reason: 'FailedCreate', Type: 'Warning', Note: 'the chart repository URL is not valid', ReportingController: 'ObservabilityController' })]);
      // Acked, not handed back: nothing is queued for it, so nothing will retry it.
      await drained(manager);
      expect(await results(manager)).toMatchObject({ terminal: 1 });
      expect(await results(manager)).not.toHaveProperty('error');
      expect(scripted.callsOf(id)).toHaveLength(1);

      // A change of desired state is looked at at once.
      await client.kind(kind).update(id, edit(kind));
      await eventually('reconciled after the change', async () => (await client.kind(kind).get(id)).Reconciled === true);
      expect(scripted.callsOf(id).map((call) => [call.operation, call.attempt, call.generation])).toEqual([
        ['Created', 1, 1],
        ['Created', 2, 2],
      ]);
      expect(await client.kind(kind).get(id)).toMatchObject({ CreationFailed: false, Status: 'Reconciled', ObservedGeneration: 2 });
    });

    it('the API refusing the handler’s request (a bad reference, 400) is terminal too', LONG, async () => {
      const kind = 'ObservabilityStackDefinition';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('bad-ref');
      scripted.script(name, async (context) => {
        await context.client.kind('WorkloadInstance').create({ Name: uniqueName('wi'), WorkloadDefinitionID: 2_147_483_000, KubernetesRuntimeInstanceID: 2_147_483_001 });
      });
      const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const id = Number((await create(kind, name)).ID);

      await eventually('the failure recorded', async () => (await client.kind(kind).get(id)).CreationFailed === true);
      const failed = await client.kind(kind).get(id);
      expect(failed.Status).toMatch(/^Failed: .*with ID 2147483\d{3} does not exist \(not retried until the object changes\)$/);
      expect(failed.Conditions).toEqual([expect.objectContaining({ Type: 'Reconciled', Status: 'False', Reason: 'Failed' })]);
      expect(await client.eventsOf(id)).toEqual([expect.objectContaining({ Reason: 'FailedCreate', Type: 'Warning', Note: expect.stringMatching(/does not exist/) })]);
      await drained(manager);
      expect(await results(manager)).toMatchObject({ terminal: 1 });
      expect(await results(manager)).not.toHaveProperty('error');
      expect(scripted.callsOf(id)).toHaveLength(1);
    });

    it('a RetryableError with retryAfterMs waits at least that long, however short the backoff', LONG, async () => {
      const kind = 'ControlPlaneDefinition';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('rate-limited');
      scripted.script(name, (_context, call) => {
        if (call.call === 1) throw new RetryableError('the provider is rate limiting us', { retryAfterMs: 2500 });
      });
      await startControllers(await bed.controllerBus(), client, [scripted.reconciler], { backoff: { initialMs: 100, maxMs: 1000, jitter: 0.1 } });
      const id = Number((await create(kind, name)).ID);
      await eventually('reconciled by the retry', async () => (await client.kind(kind).get(id)).Reconciled === true);
      const [first, second] = scripted.callsOf(id);
      expect(second!.attempt).toBe(2);
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(2500 - 5);
      expect(await statuses(kind, id)).toContain('Error: the provider is rate limiting us');
    });
  });

  describe('results that are neither done nor failed', () => {
    it('requeueAfterMs looks again after that long, without counting an attempt or writing anything', LONG, async () => {
      const kind = 'KubernetesRuntimeDefinition';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('requeue');
      scripted.script(name, (_context, call) => (call.call === 1 ? { requeueAfterMs: 1500 } : undefined));
      const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const id = Number((await create(kind, name)).ID);
      await eventually('reconciled on the second look', async () => (await client.kind(kind).get(id)).Reconciled === true);
      const [first, second] = scripted.callsOf(id);
      expect([first!.attempt, second!.attempt]).toEqual([1, 1]);
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(1500 - 5);
      expect((await client.kind(kind).revisions(id)).map((revision) => revision.Object.Status ?? null)).toEqual([null, 'Reconciled']);
      expect(await client.eventsOf(id)).toEqual([]);
      expect(await results(manager)).toMatchObject({ requeue: 1, success: 1 });
      expect(await results(manager)).not.toHaveProperty('error');
    });

    it('a long-running create: acknowledged (a heartbeat on each look), then confirmed by the success that ends it', LONG, async () => {
      const kind = 'ControlPlaneInstance';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('long-create');
      const acknowledged: (string | undefined)[] = [];
      scripted.script(name, async (context, call) => {
        await context.acknowledgeCreation();
        acknowledged.push(context.object.CreationAcknowledged as string | undefined);
        return call.call < 3 ? { requeueAfterMs: 300 } : undefined;
      });
      await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const id = Number((await create(kind, name)).ID);
      await eventually('reconciled', async () => (await client.kind(kind).get(id)).Reconciled === true);
      const done = await client.kind(kind).get(id);
      expect(acknowledged.every(Boolean)).toBe(true);
      expect(new Set(acknowledged).size).toBe(3);
      expect(Date.parse(String(done.CreationConfirmed))).toBeGreaterThanOrEqual(Date.parse(String(acknowledged[2])));
      expect(done).toMatchObject({ CreationAcknowledged: acknowledged[2], CreationFailed: false });
    });

    it('`waiting` shows the Waiting condition without failure events, and a requested reconcile looks again', LONG, async () => {
      const kind = 'TerraformDefinition';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('waiting');
      scripted.script(name, (_context, call) => (call.call === 1 ? { waiting: 'the AWS account is not reconciled yet' } : undefined));
      const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const id = Number((await create(kind, name)).ID);

      await eventually('waiting', async () => (await client.kind(kind).get(id)).Status === 'Waiting: the AWS account is not reconciled yet');
      const waiting = await client.kind(kind).get(id);
      expect(waiting).toMatchObject({ Reconciled: false, CreationFailed: false });
      expect(waiting.Conditions).toEqual([expect.objectContaining({ Type: 'Reconciled', Status: 'False', Reason: 'Waiting', Message: 'the AWS account is not reconciled yet' })]);
      expect(await client.eventsOf(id)).toEqual([]);

      // Whatever it waited for is ready: the runtime is asked, and it does not wait out its 30 s.
      await client.kind(kind).requestReconcile(id, 'the AWS account is reconciled');
      await eventually('reconciled', async () => (await client.kind(kind).get(id)).Reconciled === true);
      expect(scripted.callsOf(id).map((call) => call.attempt)).toEqual([1, 1]);
      expect(await client.kind(kind).get(id)).toMatchObject({ Status: 'Reconciled' });
      expect(await results(manager)).not.toHaveProperty('error');
    });
  });

  describe('writes through the context racing other writers', () => {
    it('a function patch is recomputed on the fresh object; a plain patch is re-applied when only controller-owned fields moved', LONG, async () => {
      const kind = 'HelmWorkloadDefinition';
      const scripted = scriptedReconciler(kind);
      const acknowledged = '2026-05-01T10:00:00.000Z';
      const functionName = uniqueName('function-patch');
      const plainName = uniqueName('plain-patch');
      const seenVersions: number[] = [];
      const errors: unknown[] = [];
      scripted.script(functionName, async (context) => {
        // Another writer (an agent, another controller) writes a controller-owned field first.
        await client.kind(kind).update(Number(context.object.ID), { CreationAcknowledged: acknowledged });
        await context.update((current) => {
          seenVersions.push(Number(current.Version));
          return { CreationConfirmed: current.CreationAcknowledged ?? '2000-01-01T00:00:00.000Z' };
        });
      });
      // A patch whose every value is undefined is no write (not an empty PATCH the API refuses).
      const nothingName = uniqueName('nothing-to-write');
      scripted.script(nothingName, async (context) => {
        await context.update((current) => ({ CreationConfirmed: current.CreationAcknowledged }));
        await context.update({ CreationConfirmed: undefined });
      });
      scripted.script(plainName, async (context) => {
        await client.kind(kind).update(Number(context.object.ID), { CreationAcknowledged: acknowledged });
        await context.update({ CreationConfirmed: '2026-05-01T11:00:00.000Z' }).catch((error: unknown) => {
          errors.push(error);
          throw error;
        });
      });
      await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const functionId = Number((await create(kind, functionName)).ID);
      const plainId = Number((await create(kind, plainName)).ID);
      const nothingId = Number((await create(kind, nothingName)).ID);

      const reconciled = async (id: number) => (await client.kind(kind).get(id)).Reconciled === true || String((await client.kind(kind).get(id)).Status);
      await eventually('the first reconciled', () => reconciled(functionId));
      await eventually('the second reconciled', () => reconciled(plainId));
      await eventually('the third reconciled', () => reconciled(nothingId));
      expect((await client.kind(kind).revisions(nothingId)).map((revision) => revision.Object.Status ?? null)).toEqual([null, 'Reconciled']);
      expect(seenVersions, 'computed on the version read, then on the one the other writer made').toEqual([1, 2]);
      expect(await client.kind(kind).get(functionId)).toMatchObject({ CreationAcknowledged: acknowledged, CreationConfirmed: acknowledged });
      expect(errors).toEqual([]);
      expect(await client.kind(kind).get(plainId)).toMatchObject({ CreationAcknowledged: acknowledged, CreationConfirmed: '2026-05-01T11:00:00.000Z' });
      expect(scripted.callsOf(functionId)).toHaveLength(1);
      expect(scripted.callsOf(plainId)).toHaveLength(1);
    });

    it('a plain patch throws StaleObjectError when the desired state moved, and the runtime reconciles the current state', LONG, async () => {
      const kind = 'WorkloadDefinition';
      const scripted = scriptedReconciler(kind);
      const name = uniqueName('stale');
      const errors: unknown[] = [];
      scripted.script(name, async (context, call) => {
        if (call.call > 1) return;
        await client.kind(kind).update(Number(context.object.ID), { YAMLDocument: 'kind: Secret' });
        await context.update({ CreationConfirmed: '2026-05-01T11:00:00.000Z' }).catch((error: unknown) => {
          errors.push(error);
          throw error;
        });
      });
      const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
      const id = Number((await create(kind, name, { YAMLDocument: 'kind: ConfigMap' })).ID);

      await eventually('reconciled', async () => (await client.kind(kind).get(id)).Reconciled === true);
      await drained(manager);
      expect(errors.map(isStaleObjectError)).toEqual([true]);
      const calls = scripted.callsOf(id);
      expect(calls.map((call) => [call.operation, call.attempt, call.generation])).toEqual([
        ['Created', 1, 1],
        ['Created', 1, 2],
      ]);
      const final = await client.kind(kind).get(id);
      expect(final).toMatchObject({ YAMLDocument: 'kind: Secret', ObservedGeneration: 2, Status: 'Reconciled' });
      expect(final.CreationConfirmed ?? null, 'nothing written from a stale view').toBeNull();
      expect(await client.eventsOf(id)).toEqual([]);
      expect(await results(manager)).not.toHaveProperty('error');
    });
  });
});
