/**
 * A crash while an EKS runtime is being made: the AWS controller, a process of its own, is killed
 * (SIGKILL) the moment AWS has made a NAT gateway whose answer it never got — made, not recorded.
 * A new controller process resumes from the inventory, finds that gateway by its tags instead of
 * making a second, and finishes; every resource exists once. Deleting the runtime then leaves
 * nothing with the control plane's tag, and takes the runtime instance with it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { awsProxy } from '../../src/testbed/aws-proxy.ts';
import { startApi } from '../support/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { cleanAws, startNats } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { spawnController, type Spawned } from '../workloads/support/processes.ts';
import { taggedResources } from './support/aws-inventory.ts';
import { defaultAccount, waitForStatus } from './support/eks-runtime.ts';


const LONG = { timeout: 180_000 };

describe('an EKS runtime whose controller crashes half-way', async () => {
  const aws = await cleanAws();
  const proxy = await awsProxy(aws.endpoint);
  afterAll(() => proxy.close());
  const nats = await startNats();
  const api = await startApi({ natsUrl: nats.url });
  const { client } = api;
  const controlPlaneId = String((await client.unbound().info()).controlPlaneId);
  await defaultAccount(client, aws);
  const spawnAwsController = (): Promise<Spawned> =>
    spawnController({ apiUrl: api.url, natsUrl: nats.url, encryptionKey: api.encryptionKey, groups: ['kubernetes-runtime', 'aws'], env: { AWS_ENDPOINT_URL: proxy.url } });
  let controller: Spawned | undefined;
  afterAll(async () => controller?.kill());

  const inventoryOf = async (id: number) => ((await client.kind('AwsEksKubernetesRuntimeInstance').get(id)).ResourceInventory ?? { Resources: {} }) as { Resources: Record<string, { id: string }> };

  it('resumes after kill -9 with a resource made but not recorded, and makes nothing twice', LONG, async () => {
    const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('eks'), InfraProvider: 'eks' });
    const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: uniqueName('eks'), Location: 'NorthAmerica:NewYork', KubernetesRuntimeDefinitionID: definition.ID });
    const held = proxy.hold((body) => body.includes('Action=CreateNatGateway') && body.includes('us-east-1b'));
    controller = await spawnAwsController();
    await held;
    await controller.kill();

    const [eks] = await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID });
    const recorded = Object.keys((await inventoryOf(eks!.ID)).Resources);
    expect(recorded).toContain('nat-gateway/us-east-1a');
    expect(recorded).not.toContain('nat-gateway/us-east-1b');
    expect(recorded).not.toContain('eks-cluster');
    const inAws = await taggedResources(aws, controlPlaneId);
    expect(inAws.filter((line) => line.endsWith('nat-gateway/us-east-1b'))).toHaveLength(1);

    controller = await spawnAwsController();
    await waitForStatus(client, 'AwsEksKubernetesRuntimeInstance', eks!.ID, 'Ready');
    const inventory = await inventoryOf(eks!.ID);
    const after = await taggedResources(aws, controlPlaneId);
    const keys = after.map((line) => line.split(' ')[2]);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(Object.keys(inventory.Resources).sort());
    // The gateway made before the crash is the one in use.
    expect(after.find((line) => line.endsWith('nat-gateway/us-east-1b'))).toBe(inAws.find((line) => line.endsWith('nat-gateway/us-east-1b')));
    expect(inventory.Resources['nat-gateway/us-east-1b']?.id).toBe(inAws.find((line) => line.endsWith('nat-gateway/us-east-1b'))?.split(' ')[1]);

    // Deleted as `tptctl delete aws-eks-kubernetes-runtime` does, the EKS instance first: its runtime
    // goes with it, though the cluster it points at (moto's) can never be reached.
    await client.kind('AwsEksKubernetesRuntimeInstance').delete(eks!.ID);
    await eventually('runtime and EKS instance gone', async () => (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({})).length === 0 && (await client.kind('KubernetesRuntimeInstance').listAll({})).length === 0, 120_000, 200);
    expect(await taggedResources(aws, controlPlaneId)).toEqual([]);
  });
});
