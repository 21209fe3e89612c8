/**
 * Controllers asking for each other's attention (requestReconcile, POST /v0/<kind>/:id/reconcile)
 * on both buses, and Events recorded concurrently (POST /v0/events/record) on both databases.
 */
import { describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/client/api-client.ts';
import type { ControllerManager } from '../../src/controller/manager.ts';
import { subjectOf } from '../../src/model/notification.ts';
import { registry } from '../../src/model/registry.ts';
import { startApi } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';
import { buses, startBed } from './support/beds.ts';
import { eventually, startControllers } from './support/harness.ts';
import { scriptedReconciler } from './support/scripted.ts';

const LONG = { timeout: 120_000 };

describe.each(buses)('reconcile requests (%s bus)', async (busName) => {
  const bed = await startBed(busName);
  const { client } = bed.api;
  const drained = (...managers: ControllerManager[]) =>
    eventually('the queues drained', async () => {
      const depths = await Promise.all(managers.map((manager) => manager.depth()));
      return depths.every((depth) => depth === 0) || `depths ${depths.join(', ')}`;
    });

  it('a reconciler of one kind asks for a reconcile of a Reconciled object of another controller group', LONG, async () => {
    const runtimes = scriptedReconciler('KubernetesRuntimeDefinition');
    const workloads = scriptedReconciler('WorkloadDefinition');
    // Two controller processes, as in production: the kubernetes-runtime one and the workload one.
    const runtimeController = await startControllers(await bed.controllerBus(), client, [runtimes.reconciler]);
    const workloadController = await startControllers(await bed.controllerBus(), client, [workloads.reconciler]);
    const runtime = await createSample(client, registry.get('KubernetesRuntimeDefinition'), { Name: uniqueName('runtime') });
    const runtimeId = Number(runtime.ID);
    await eventually('the runtime definition reconciled', async () => (await client.kind('KubernetesRuntimeDefinition').get(runtimeId)).Reconciled === true);
    const before = await client.kind('KubernetesRuntimeDefinition').get(runtimeId);

    const asking = uniqueName('asks');
    workloads.script(asking, async (context) => {
      await context.requestReconcile('KubernetesRuntimeDefinition', runtimeId, 'a workload definition on it changed');
    });
    const workload = await client.kind('WorkloadDefinition').create({ Name: asking, YAMLDocument: 'kind: ConfigMap' });
    await eventually('the request reached the other controller', () => runtimes.callsOf(runtimeId).length === 2);
    await eventually('the workload definition reconciled', async () => (await client.kind('WorkloadDefinition').get(Number(workload.ID))).Reconciled === true);
    await drained(runtimeController, workloadController);

    expect(runtimes.callsOf(runtimeId).map((call) => [call.operation, call.attempt])).toEqual([
      ['Created', 1],
      ['Updated', 1],
    ]);
    // Re-verifying an object that is already so writes nothing.
    expect(await client.kind('KubernetesRuntimeDefinition').get(runtimeId)).toEqual(before);
  });

  it('a request is sent once the requester is Reconciled, so the object asked sees it done', LONG, async () => {
    const runtimes = scriptedReconciler('KubernetesRuntimeDefinition');
    const workloads = scriptedReconciler('WorkloadDefinition');
    const runtimeController = await startControllers(await bed.controllerBus(), client, [runtimes.reconciler]);
    const workloadController = await startControllers(await bed.controllerBus(), client, [workloads.reconciler]);
    const asking = uniqueName('asks');
    const runtimeName = uniqueName('runtime');
    let seen: unknown;
    runtimes.script(runtimeName, async (context, call) => {
      if (call.call === 2) seen = (await context.client.kind('WorkloadDefinition').findByName(asking))?.Reconciled;
    });
    const runtime = await createSample(client, registry.get('KubernetesRuntimeDefinition'), { Name: runtimeName });
    const runtimeId = Number(runtime.ID);
    await eventually('the runtime definition reconciled', async () => (await client.kind('KubernetesRuntimeDefinition').get(runtimeId)).Reconciled === true);

    let askedWhileReconciling = false;
    workloads.script(asking, async (context) => {
      await context.requestReconcile('KubernetesRuntimeDefinition', runtimeId, 'a workload definition on it changed');
      // Before, the request went at once: the runtime was reconciled while this one was not done.
      askedWhileReconciling = await eventually('the runtime asked', () => runtimes.callsOf(runtimeId).length === 2, 1000).then(() => true, () => false);
    });
    await client.kind('WorkloadDefinition').create({ Name: asking, YAMLDocument: 'kind: ConfigMap' });
    await eventually('the request reached the other controller', () => runtimes.callsOf(runtimeId).length === 2);
    await drained(runtimeController, workloadController);
    expect(askedWhileReconciling).toBe(false);
    expect(seen).toBe(true);
  });

  it('a request the broker does not take marks the requester for reconcile again, so it asks again', LONG, async () => {
    const runtimes = scriptedReconciler('KubernetesRuntimeDefinition');
    const workloads = scriptedReconciler('WorkloadDefinition');
    const runtimeController = await startControllers(await bed.controllerBus(), client, [runtimes.reconciler]);
    // The workload controller's bus refuses requests to the runtime controller while `refusing`.
    const realBus = await bed.controllerBus();
    let refused = 0;
    let refusing = true;
    const runtimeSubject = subjectOf(registry.get('KubernetesRuntimeDefinition'), 'Updated');
    const flakyBus = new Proxy(realBus, {
      get(target, property, receiver) {
        if (property === 'publish') {
          return (subject: string, payload: string, messageId: string) => {
            if (subject === runtimeSubject && refusing) {
              refused++;
              return Promise.reject(new Error('the broker is not answering'));
            }
            return target.publish(subject, payload, messageId);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const workloadController = await startControllers(flakyBus, client, [workloads.reconciler]);
    const runtimeName = uniqueName('runtime');
    const runtime = await createSample(client, registry.get('KubernetesRuntimeDefinition'), { Name: runtimeName });
    const runtimeId = Number(runtime.ID);
    await eventually('the runtime definition reconciled', async () => (await client.kind('KubernetesRuntimeDefinition').get(runtimeId)).Reconciled === true);

    const asking = uniqueName('asks');
    workloads.script(asking, async (context, call) => {
      await context.requestReconcile('KubernetesRuntimeDefinition', runtimeId, `a workload definition on it changed (call ${call.call})`);
    });
    const workload = await client.kind('WorkloadDefinition').create({ Name: asking, YAMLDocument: 'kind: ConfigMap' });
    await eventually('the request refused, every try', () => refused >= 3);
    refusing = false;
    await eventually('the request reached the other controller after all', () => runtimes.callsOf(runtimeId).length === 2, 60_000);
    await eventually('the workload definition reconciled', async () => (await client.kind('WorkloadDefinition').get(Number(workload.ID))).Reconciled === true);
    await drained(runtimeController, workloadController);
    expect(workloads.callsOf(workload.ID).length).toBeGreaterThanOrEqual(2);
  });

  it('POST /v0/<kind>/:id/reconcile answers 404 for a missing object and 202 otherwise, and reaches the reconciler', LONG, async () => {
    const kind = 'GatewayDefinition';
    const scripted = scriptedReconciler(kind);
    const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler]);
    const gateway = await createSample(client, registry.get(kind), { Name: uniqueName('gw') });
    const id = Number(gateway.ID);
    await eventually('reconciled', async () => (await client.kind(kind).get(id)).Reconciled === true);

    const post = (target: number, reason: string) =>
      fetch(`${bed.api.url}${registry.get(kind).path}/${target}/reconcile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Reason: reason }) });
    const missing = await post(2_147_483_000, 'drift seen by an agent');
    expect(missing.status).toBe(404);
    expect(await client.kind(kind).requestReconcile(2_147_483_000, 'again').then(() => 'accepted', (error: unknown) => (isNotFound(error) ? 'not found' : String(error)))).toBe('not found');

    const accepted = await post(id, 'drift seen by an agent');
    expect(accepted.status).toBe(202);
    await eventually('the request reconciled', () => scripted.callsOf(id).length === 2);
    // Another reason is another request, even within the same second.
    await client.kind(kind).requestReconcile(id, 'the certificate was renewed');
    await eventually('the second request reconciled', () => scripted.callsOf(id).length === 3);
    await drained(manager);
    expect(scripted.callsOf(id).map((call) => call.operation)).toEqual(['Created', 'Updated', 'Updated']);
    expect((await client.kind(kind).get(id)).Version).toBe(Number(gateway.Version) + 1);
  });
});

describe.each(['pglite', 'postgres'] as const)('recording Events concurrently (%s)', async (database) => {
  const api = await startApi({ database });

  it('20 concurrent records of the same event on one object give one Event with Count 20', LONG, async () => {
    const object = await createSample(api.client, registry.get('WorkloadDefinition'));
    const objectId = Number(object.ID);
    const record = (note = 'the cluster is unreachable') =>
      api.client.recordEvent({ kind: 'WorkloadDefinition', objectId, reason: 'FailedUpdate', type: 'Warning', note, reportingController: 'WorkloadController' });
    const results = await Promise.all(Array.from({ length: 20 }, () => record()));

    const events = await api.client.eventsOf(objectId);
    expect(events).toEqual([expect.objectContaining({ Reason: 'FailedUpdate', Type: 'Warning', Note: 'the cluster is unreachable', Count: 20 })]);
    expect(new Set(results.map((event) => event.ID))).toEqual(new Set([events[0]!.ID]));
    // Serialised: every recorder saw the count its own increment made.
    expect(results.map((event) => Number(event.Count)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    const references = await api.client.kind('AttachedObjectReference').listAll({ objecttype: 'v0.WorkloadDefinition', objectid: objectId });
    expect(references).toHaveLength(1);

    // Another note is another Event; the route says which it did.
    const recordRaw = (note: string, id = objectId) =>
      fetch(`${api.url}/v0/events/record`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ObjectType: 'v0.WorkloadDefinition', ObjectID: id, Reason: 'FailedUpdate', Type: 'Warning', Note: note, ReportingController: 'WorkloadController' }),
      });
    expect((await recordRaw('the cluster refused the manifest')).status).toBe(201);
    expect((await recordRaw('the cluster refused the manifest')).status).toBe(200);
    expect((await api.client.eventsOf(objectId)).map((event) => [event.Note, event.Count])).toEqual([
      ['the cluster is unreachable', 20],
      ['the cluster refused the manifest', 2],
    ]);
    expect((await recordRaw('the cluster is unreachable', 2_147_483_000)).status, 'an Event on a missing object').toBe(404);
  });
});
