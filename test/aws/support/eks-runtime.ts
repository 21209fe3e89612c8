/**
 * An EKS runtime made through the API against moto and, since moto's clusters have no reachable
 * endpoint, pointed at a test-bed cluster once made (the AWS controller leaves an endpoint it did
 * not report alone): what the managed-service tests deploy their workloads onto.
 */
import type { ApiClient } from '../../../src/client/api-client.ts';
import { readClusterConnection } from '../../../src/cli/providers/local-runtime.ts';
import type { ObjectOf } from '../../../src/model/object-types.ts';
import type { AwsDescription } from '../../../src/testbed/description.ts';
import { eventually } from '../../support/eventually.ts';
import { kubeconfig } from '../../support/peers.ts';
import { uniqueName } from '../../support/samples.ts';

/** Fast polling, so provisioning on moto and re-checks happen within a test. */
export const fastAws = {
  eks: { pollIntervalMs: 200, checkIntervalMs: 1000, tokenRefreshMarginMs: 300_000 },
  services: { pollIntervalMs: 200, checkIntervalMs: 1500 },
  account: { checkIntervalMs: 60_000 },
};

export const statusOf = async (client: ApiClient, kind: string, id: number): Promise<string> => String((await client.kind(kind).get(id)).Status ?? '');

export async function waitForStatus(client: ApiClient, kind: string, id: number, prefix: string, timeoutMs = 120_000): Promise<void> {
  await eventually(`${kind} ${id} ${prefix}`, async () => (await statusOf(client, kind, id)).startsWith(prefix) || `Status: ${await statusOf(client, kind, id)}`, timeoutMs, 200);
}

export async function defaultAccount(client: ApiClient, aws: AwsDescription): Promise<ObjectOf<'AwsAccount'>> {
  return client.kind('AwsAccount').create({ Name: uniqueName('account'), AccountID: '123456789012', DefaultAccount: true, DefaultRegion: aws.region, AccessKeyID: aws.credentials.accessKeyId, SecretAccessKey: aws.credentials.secretAccessKey });
}

/** A runtime with InfraProvider eks, made in moto, then connected to the test-bed cluster. */
export async function eksRuntimeOn(client: ApiClient, cluster: 'a' | 'b', location = 'NorthAmerica:NewYork'): Promise<{ runtime: ObjectOf<'KubernetesRuntimeInstance'>; eks: ObjectOf<'AwsEksKubernetesRuntimeInstance'> }> {
  const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('eks'), InfraProvider: 'eks' });
  const created = await client.kind('KubernetesRuntimeInstance').create({ Name: uniqueName('eks'), Location: location, KubernetesRuntimeDefinitionID: definition.ID });
  let eks: ObjectOf<'AwsEksKubernetesRuntimeInstance'> | undefined;
  await eventually('EKS instance made', async () => Boolean((eks = (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: created.ID }))[0])));
  await waitForStatus(client, 'AwsEksKubernetesRuntimeInstance', eks!.ID, 'Ready');
  const { path, context } = kubeconfig(cluster);
  const { context: _context, ...connection } = readClusterConnection(path, context);
  await client.kind('KubernetesRuntimeInstance').update(created.ID, connection);
  await waitForStatus(client, 'KubernetesRuntimeInstance', created.ID, 'Ready');
  return { runtime: await client.kind('KubernetesRuntimeInstance').get(created.ID), eks: await client.kind('AwsEksKubernetesRuntimeInstance').get(eks!.ID) };
}
