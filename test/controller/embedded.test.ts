import { describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/client/api-client.ts';
import { startApi } from '../support/control-plane.ts';
import { uniqueName } from '../support/samples.ts';
import { type CallRecord, recordingReconciler } from './support/recording-reconciler.ts';
import { eventually, startControllers } from './support/harness.ts';

describe('controller runtime on the embedded bus (PGlite API, in-process queue and locks)', async () => {
  const api = await startApi({ database: 'pglite' });
  const records: CallRecord[] = [];
  const manager = await startControllers(api.server.bus, api.client, [recordingReconciler('WorkloadDefinition', 'embedded', (r) => records.push(r), { failPrefix: 'flaky-', failTimes: 2 })], {
    concurrency: 4,
  });
  const definitions = api.client.kind('WorkloadDefinition');
  const calls = (id: number) => records.filter((r) => r.id === id && r.event === 'start');

  it('reconciles a created object and marks it Reconciled', async () => {
    const created = await definitions.create({ Name: uniqueName('wd'), YAMLDocument: 'kind: ConfigMap' });
    await eventually('Reconciled', async () => (await definitions.get(Number(created.ID))).Reconciled === true);
    expect(calls(Number(created.ID)).map((r) => r.operation)).toEqual(['Created']);
  });

  it('reconciles an update that sets Reconciled=false, once', async () => {
    const created = await definitions.create({ Name: uniqueName('wd'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await eventually('created reconciled', async () => (await definitions.get(id)).Reconciled === true);
    await definitions.update(id, { YAMLDocument: 'kind: Secret', Reconciled: false });
    await eventually('update reconciled', async () => (await definitions.get(id)).Reconciled === true && calls(id).length === 2);
    expect(calls(id).map((r) => r.operation)).toEqual(['Created', 'Updated']);
  });

  it('retries a failing reconcile with backoff until it succeeds', async () => {
    const created = await definitions.create({ Name: uniqueName('flaky'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await eventually('Reconciled after failures', async () => (await definitions.get(id)).Reconciled === true, 30_000);
    expect(calls(id).map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  it('runs the two-phase delete: the reconciler cleans up, the object is removed', async () => {
    const created = await definitions.create({ Name: uniqueName('wd'), YAMLDocument: 'kind: ConfigMap' });
    const id = Number(created.ID);
    await eventually('reconciled', async () => (await definitions.get(id)).Reconciled === true);
    await definitions.delete(id);
    await eventually('removed', async () => definitions.get(id).then(() => false, (error: unknown) => isNotFound(error)));
    expect(calls(id).map((r) => r.operation)).toEqual(['Created', 'Deleted']);
  });

  it('serves its metrics', async () => {
    const text = await manager.metrics.registry.metrics();
    expect(text).toMatch(/threeport_controller_reconciles_total\{reconciler="WorkloadDefinitionReconciler",result="success"\} \d+/);
    expect(text).toContain('threeport_controller_queue_depth');
  });
});
