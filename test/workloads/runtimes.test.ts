/**
 * Kubernetes runtimes: checked when their connection details arrive, an unreachable one is an
 * error that recovers by itself (its workloads with it), deleting one with workloads needs
 * ForceDelete, and then takes them along.
 */
import { describe, expect, it } from 'vitest';
import { DependencyWalker, explain } from '../../src/cli/operations/why.ts';
import { describeText, gatherDescription } from '../../src/cli/output/describe.ts';
import { registry } from '../../src/model/registry.ts';
import { isConflict, isNotFound } from '../../src/client/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from './support/manifests.ts';
import { tcpProxy } from './support/tcp-proxy.ts';
import { namespaceOf, startWorkloadPlane } from './support/workload-plane.ts';

describe('kubernetes runtimes', async () => {
  const plane = await startWorkloadPlane();
  const { client } = plane;

  it('without connection details it waits, saying what is missing', async () => {
    const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('empty'), InfraProvider: 'kind' });
    const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: uniqueName('empty'), Location: 'Local', KubernetesRuntimeDefinitionID: definition.ID });
    await eventually('waiting', async () => String((await client.kind('KubernetesRuntimeInstance').get(runtime.ID)).Status).startsWith('Waiting: no connection details yet'));
  });

  it('threeport’s components go into the cluster; the agent as a Deployment where it can run there', async () => {
    const runtime = await plane.registerCluster('b', { AgentLocation: 'Cluster' });
    const kube = await plane.kube('b');
    const { controlPlaneId } = await client.info();
    expect(await kube.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'threeportworkloads.control-plane.threeport.io' })).toBeDefined();
    const name = `threeport-agent-${controlPlaneId!.slice(0, 8)}`;
    const agent = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: 'threeport-control-plane' });
    const container = (agent?.spec as { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } }).template.spec;
    expect(container.serviceAccountName).toBe('threeport-agent');
    expect(container.containers[0]?.args).toEqual(['agent', '--api-url', plane.api.url, '--control-plane-id', controlPlaneId]);
    expect(String(runtime.Status)).toContain('agent: in the cluster');
    // Its Agent condition follows the Deployment: available once its pod is ready.
    await eventually('agent available', async () => {
      const agentCondition = (await client.kind('KubernetesRuntimeInstance').get(runtime.ID)).Conditions?.find((condition) => condition.Type === 'Agent');
      return (agentCondition?.Status === 'True' && agentCondition.Reason === 'Cluster') || JSON.stringify(agentCondition);
    });

    // Where it can't run (simulated nodes), the control plane runs it instead and the Deployment goes.
    await client.kind('KubernetesRuntimeInstance').update(runtime.ID, { AgentLocation: 'Automatic' });
    await eventually('Deployment removed', async () => !(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: 'threeport-control-plane' })));
    // The Status is written after the Deployment is removed: wait for it rather than read between the two.
    await eventually('agent run by the control plane', async () => {
      const status = String((await client.kind('KubernetesRuntimeInstance').get(runtime.ID)).Status);
      return status.includes('agent: run by the control plane') || `Status: ${status}`;
    });
  });

  it('an unreachable cluster is an error on the runtime and its workloads, and both recover when it is back', async () => {
    const direct = await plane.registerCluster('a');
    const proxy = await tcpProxy(new URL(String(direct.APIEndpoint)));
    const runtime = await plane.registerCluster('a', { APIEndpoint: proxy.url });
    const { instance } = await plane.deploy(uniqueName('cut-off'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');

    await proxy.cut();
    await eventually('runtime in error', async () => {
      const current = await client.kind('KubernetesRuntimeInstance').get(runtime.ID);
      const status = String(current.Status);
      return (status.startsWith('Error: cannot reach the cluster') && status.includes('connection refused')) || `Status: ${status}`;
    }, 60_000);
    await plane.waitForStatus(instance.ID, 'Error: Kubernetes runtime', 60_000);
    // tptctl why (and describe) name the runtime as the root cause, with what its controller recorded.
    const answer = explain(await new DependencyWalker(client).walk(registry.get('WorkloadInstance'), await client.kind('WorkloadInstance').get(instance.ID)));
    expect(answer).toMatch(new RegExp(`^workload instance ${instance.Name} is not ready because kubernetes runtime instance ${runtime.Name} is not:\n`));
    expect(answer).toMatch(new RegExp(`└─ kubernetes runtime instance ${runtime.Name}: Error: cannot reach the cluster.*connection refused`));
    const described = describeText(await gatherDescription(client, registry.get('WorkloadInstance'), await client.kind('WorkloadInstance').get(instance.ID)));
    expect(described).toContain(`* Not Ready Because: kubernetes runtime instance ${runtime.Name}: Error: cannot reach the cluster`);

    await proxy.restore();
    await eventually('runtime ready again', async () => String((await client.kind('KubernetesRuntimeInstance').get(runtime.ID)).Status).startsWith('Ready'), 60_000);
    await plane.waitForStatus(instance.ID, 'Healthy', 60_000);
  });

  it('deleting a runtime with workloads is refused, unless ForceDelete: then its workloads go first', async () => {
    const runtime = await plane.registerCluster('b');
    const { instance } = await plane.deploy(uniqueName('forced'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    const runtimes = client.kind('KubernetesRuntimeInstance');

    const refused = await runtimes.delete(runtime.ID).then(() => undefined, (error: unknown) => error as Error);
    expect(isConflict(refused)).toBe(true);
    expect(refused?.message).toContain('has related workload instances - cannot be deleted');
    expect(refused?.message).toContain('ForceDelete');

    await runtimes.update(runtime.ID, { ForceDelete: true });
    await runtimes.delete(runtime.ID);
    await eventually('runtime removed', async () => runtimes.get(runtime.ID).then(() => false, (error: unknown) => isNotFound(error)), 90_000);
    expect(await client.kind('WorkloadInstance').get(instance.ID).then(() => 'still there', (error: unknown) => (isNotFound(error) ? 'gone' : String(error)))).toBe('gone');
    const kube = await plane.kube('b');
    await eventually('its namespace gone', async () => !(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })), 120_000);
  });
});
