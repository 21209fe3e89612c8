/**
 * AWS through tptctl, as a user works: `tptctl up` with the SDK's endpoint setting
 * (AWS_ENDPOINT_URL, here moto's) in its environment, which the control plane it starts uses;
 * the original's config files — an AWS account, an EKS runtime, a workload, a database, a bucket,
 * a Terraform config — created and deleted unchanged; `describe` showing what was made in AWS.
 * moto's clusters have no endpoint to reach, so once the EKS runtime is made the test points it at
 * test-bed cluster a.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/client/api-client.ts';
import { readClusterConnection } from '../../src/cli/providers/local-runtime.ts';
import { freePort } from '../../src/local-runtime/ports.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import { taggedResources } from '../aws/support/aws-inventory.ts';
import { eventually } from '../support/eventually.ts';
import { cleanAws, kubeconfig, terraformFixture } from '../support/peers.ts';
import { kubeOf, namespaceOf } from '../workloads/support/workload-plane.ts';
import { ensureBundle, sample, Tptctl } from './support.ts';

const LONG = { timeout: 300_000 };

describe('AWS through tptctl', async () => {
  await ensureBundle();
  const aws = await cleanAws();
  const fixture = await terraformFixture();
  const tptctl = new Tptctl({ AWS_ENDPOINT_URL: aws.endpoint, THREEPORT_TERRAFORM: fixture.terraform, THREEPORT_TERRAFORM_PROVIDER_MIRROR: fixture.providerMirror });
  const samples = join(tptctl.dir, 'samples');
  cpSync(sample('aws'), samples, { recursive: true });
  const notes = join(tptctl.dir, 'notes');
  writeFileSync(join(samples, 'terraform.tfvars'), `${readFileSync(join(samples, 'terraform.tfvars'), 'utf8')}directory = "${notes}"\n`);
  const file = (name: string) => join(samples, name);
  const port = await freePort();
  await tptctl.ok(['up', '--name', 'aws', '--listen', `127.0.0.1:${port}`], { timeoutMs: 120_000 });
  afterAll(() => tptctl.run(['down', '--name', 'aws']), 60_000);
  const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` });
  const controlPlaneId = String((await client.info()).controlPlaneId);
  const describeText = (kind: string, name: string) => tptctl.ok(['describe', kind, '-n', name]);
  const waitFor = (kind: string, name: string, pattern: RegExp, timeoutMs = 120_000) =>
    eventually(`${kind} ${name} ${String(pattern)}`, async () => pattern.test(await describeText(kind, name)) || describeText(kind, name), timeoutMs, 500);

  it('an account: its credentials checked by the control plane tptctl started, against the endpoint in its environment', LONG, async () => {
    expect(await tptctl.ok(['create', 'aws-account', '-c', file('aws-account.yaml')])).toContain('created');
    await waitFor('aws-account', 'default-account', /AwsAccount Status: Verified\n\* AwsAccount Status Reason: its access key acts as arn:aws:/);
  });

  it('an EKS runtime from the original’s config: made in AWS, describe listing what was made', LONG, async () => {
    expect(await tptctl.ok(['create', 'aws-eks-kubernetes-runtime', '-c', file('eks-runtime.yaml')])).toContain('created');
    await waitFor('aws-eks-kubernetes-runtime-instance', 'eks-runtime', /Status: Ready/);
    const text = await describeText('aws-eks-kubernetes-runtime-instance', 'eks-runtime');
    expect(text).toContain('* Cloud Settings: ClusterName=eks-runtime, Region=us-east-1, Zones=us-east-1a us-east-1b');
    expect(text).toMatch(/\* Cloud Resources \(23\):/);
    expect(text).toMatch(/\n\s*eks-cluster\s+eks-runtime\s+made/);
    expect(text).toMatch(/\n\s*nat-gateway\/us-east-1b\s+nat-\w+\s+made/);
    // moto's cluster cannot be reached: the runtime is pointed at a test-bed cluster from here on.
    const { path, context } = kubeconfig('a');
    const { context: _context, ...connection } = readClusterConnection(path, context);
    const runtime = (await client.kind('KubernetesRuntimeInstance').findByName('eks-runtime'))!;
    await client.kind('KubernetesRuntimeInstance').update(runtime.ID, connection);
    await waitFor('kubernetes-runtime-instance', 'eks-runtime', /Status: Ready/);
  });

  it('a workload on it, with a database, a bucket and Terraform outputs from the original’s configs', LONG, async () => {
    expect(await tptctl.ok(['create', 'workload', '-c', file('s3-client-workload.yaml'), '--wait'], { timeoutMs: 120_000 })).toContain('Complete: workload s3-client created');
    await tptctl.ok(['create', 'aws-relational-database', '-c', file('rds.yaml')]);
    await tptctl.ok(['create', 'aws-object-storage-bucket', '-c', file('s3.yaml')]);
    await tptctl.ok(['create', 'terraform', '-c', file('terraform.yaml')]);
    await waitFor('aws-relational-database-instance', 's3-client-db', /Status: Available/);
    await waitFor('aws-object-storage-bucket-instance', 's3-client-bucket', /Status: Available/);
    await waitFor('terraform-instance', 'notes', /Status: Applied/);
    expect(readFileSync(join(notes, 'note.txt'), 'utf8')).toBe('kept by terraform');

    const workload = (await client.kind('WorkloadInstance').findByName('s3-client'))!;
    const namespace = await namespaceOf(client, workload.ID);
    const kube = await kubeOf('a');
    const secretKeys = async (name: string) => Object.keys(((await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name }))?.data ?? {})).sort();
    expect(await secretKeys('s3-client-db')).toEqual(['db-endpoint', 'db-name', 'db-password', 'db-port', 'db-user']);
    expect(await secretKeys('notes')).toEqual(['note_digest']);
    const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: 's3-client' });
    const env = (deployment?.spec as { template: { spec: { containers: { env?: { name: string }[] }[] } } }).template.spec.containers[0]!.env ?? [];
    expect(env.map((entry) => entry.name)).toEqual(['S3_BUCKET_NAME']);
    const account = (await kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: 's3-client' })) as Manifest;
    expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(await describeText('aws-relational-database-instance', 's3-client-db')).toMatch(/\* Cloud Resources \(3\):[\s\S]*db-instance\s+threeport-[0-9a-f]{8}-s3-client-db-\d+\s+made/);
  });

  it('deleting them through tptctl removes everything from the cluster and from AWS', LONG, async () => {
    for (const [kind, config] of [['terraform', 'terraform.yaml'], ['aws-object-storage-bucket', 's3.yaml'], ['aws-relational-database', 'rds.yaml'], ['workload', 's3-client-workload.yaml']] as const) {
      expect(await tptctl.ok(['delete', kind, '-c', file(config), '--wait', '--timeout', '120s'], { timeoutMs: 150_000 })).toContain('deleted');
    }
    expect(existsSync(join(notes, 'note.txt'))).toBe(false);
    expect(await tptctl.ok(['delete', 'aws-eks-kubernetes-runtime', '-c', file('eks-runtime.yaml'), '--wait', '--timeout', '120s'], { timeoutMs: 150_000 })).toContain('deleted');
    await eventually('nothing left in AWS', async () => (await taggedResources(aws, controlPlaneId)).length === 0 || (await taggedResources(aws, controlPlaneId)).join(', '), 60_000, 500);
    // Its Kubernetes runtime goes last, through its own two-phase delete.
    await eventually('its runtime gone', async () => (await client.kind('KubernetesRuntimeInstance').findByName('eks-runtime')) === undefined, 60_000, 500);
  });
});
