/**
 * Deleting a Kubernetes runtime that workload instances still run on (they were put on it after
 * its deletion was asked for): without ForceDelete nothing takes them away, so its Status says
 * what to do; with ForceDelete the runtime controller deletes them first. No cluster is needed to
 * get there: the runtime has no connection details.
 */
import { describe, expect, it } from 'vitest';
import type { Reconciler } from '../../src/controller/reconciler.ts';
import { runtimeInstanceReconciler } from '../../src/controllers/kubernetes-runtime/runtime-instance.ts';
import { conditionsOf, findCondition, RECONCILED } from '../../src/model/conditions.ts';
import { registry } from '../../src/model/registry.ts';
import { createSample, uniqueName } from '../support/samples.ts';
import { startBed } from './support/beds.ts';
import { eventually, startControllers } from './support/harness.ts';

describe('deleting a runtime with workload instances on it', async () => {
  const bed = await startBed('embedded');
  const { client } = bed.api;
  const runtimes = client.kind('KubernetesRuntimeInstance');

  it('without ForceDelete, waits saying how to go on; with it, deletes them first', { timeout: 120_000 }, async () => {
    const runtime = await createSample(client, registry.get('KubernetesRuntimeInstance'), { Name: uniqueName('leaving') });
    const id = Number(runtime.ID);
    await runtimes.delete(id);
    const definition = await createSample(client, registry.get('WorkloadDefinition'));
    const instance = await client.kind('WorkloadInstance').create({ Name: uniqueName('late'), WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: id });

    await startControllers(await bed.controllerBus(), client, [runtimeInstanceReconciler({ apiUrl: bed.api.url }) as Reconciler]);
    const waitingFor = async () => findCondition(conditionsOf(await runtimes.get(id)), RECONCILED)?.Message;
    const advice = '1 workload instance(s) still run on it: delete them, or set ForceDelete to delete them with the runtime';
    await eventually('the runtime waits, saying how to go on', async () => (await waitingFor()) === advice || String(await waitingFor()));
    expect((await client.kind('WorkloadInstance').get(Number(instance.ID))).DeletionScheduled, 'nothing deleted it').toBeUndefined();

    await runtimes.update(id, { ForceDelete: true });
    await eventually('the runtime deletes its workload instance', async () => (await client.kind('WorkloadInstance').get(Number(instance.ID))).DeletionScheduled !== undefined);
    await eventually('and says so', async () => (await waitingFor()) === 'deleting the 1 workload instance(s) on it first' || String(await waitingFor()));
  });
});
