/**
 * A database and a bucket as dependencies of a workload on an EKS runtime (made in moto, its
 * workloads on test-bed cluster a): RDS in the cluster's private subnets with its connection as a
 * Secret in the workload's namespace; S3 with a role for the workload's service account, the
 * role's annotation and the bucket's name on every container through the workload's own
 * resources (drift correction keeps them); a second controller replica makes nothing twice;
 * deleting each takes its wiring out of the workload and its resources out of AWS.
 */
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetBucketEncryptionCommand, GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/model/manifest.ts';
import { eventually } from '../support/eventually.ts';
import { cleanAws } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { namespaceOf, startWorkloadPlane } from '../workloads/support/workload-plane.ts';
import { taggedResources } from './support/aws-inventory.ts';
import { defaultAccount, eksRuntimeOn, fastAws, statusOf, waitForStatus } from './support/eks-runtime.ts';

const LONG = { timeout: 180_000 };

const app = (name: string, serviceAccount: string | undefined): string => `
${serviceAccount ? `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${serviceAccount}\n---\n` : ''}apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      serviceAccountName: ${serviceAccount ?? 'uploader'}
      initContainers:
        - name: migrate
          image: busybox:1.36
      containers:
        - name: web
          image: nginx:1.27
          env: [{name: MODE, value: web}]
        - name: worker
          image: busybox:1.36
`;

describe('databases and buckets of workloads', async () => {
  const aws = await cleanAws();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  afterAll(() => {
    delete process.env.AWS_ENDPOINT_URL;
  });
  const config = { region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials };
  const plane = await startWorkloadPlane({ database: 'pglite', auth: true, groups: ['workload', 'kubernetes-runtime', 'aws'], settings: { aws: fastAws } });
  // Two controller replicas from the start: every create below may run on either, or both at once.
  await plane.startControllers();
  const { client } = plane;
  const controlPlaneId = String((await client.unbound().info()).controlPlaneId);
  const account = await defaultAccount(client, aws);
  const { runtime, eks } = await eksRuntimeOn(client, 'a');
  const kube = await plane.kube('a');
  const eksInventory = eks.ResourceInventory as { Zones: string[]; Resources: Record<string, { id: string; cidr?: string }> };
  const privateSubnets = eksInventory.Zones.map((zone) => eksInventory.Resources[`subnet/private/${zone}`]!);

  const name = uniqueName('shop');
  const { instance: workload } = await plane.deploy(name, app(name, 'uploader'), runtime.ID);
  await plane.waitForStatus(workload.ID, 'Healthy');
  const namespace = await namespaceOf(client, workload.ID);
  const deployment = () => kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name });
  const serviceAccount = () => kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: 'uploader' });
  const secret = (secretName: string) => kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: secretName });
  const envOf = (live: Manifest | undefined): Record<string, Record<string, string | undefined>> => {
    const spec = (live?.spec as { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[]; initContainers: { name: string; env?: { name: string; value?: string }[] }[] } } }).template.spec;
    return Object.fromEntries([...spec.initContainers, ...spec.containers].map((container) => [container.name, Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value]))]));
  };

  let database: { ID: number; Name: string };
  let bucket: { ID: number; Name: string };
  let bucketName: string;

  it('a database in the cluster’s private subnets, reachable from them only, its connection as a Secret in the workload’s namespace', LONG, async () => {
    const definition = await client.kind('AwsRelationalDatabaseDefinition').create({
      Name: uniqueName('db'), Engine: 'mariadb', EngineVersion: '10.6', DatabaseName: 'shop', DatabasePort: 3306, BackupDays: 7, MachineSize: 'Small', StorageGb: 20, WorkloadSecretName: 'shop-db', AwsAccountID: account.ID,
    });
    database = await client.kind('AwsRelationalDatabaseInstance').create({ Name: uniqueName('db'), AwsRelationalDatabaseDefinitionID: definition.ID, WorkloadInstanceID: workload.ID });
    await waitForStatus(client, 'AwsRelationalDatabaseInstance', database.ID, 'Available');
    expect(await statusOf(client, 'AwsRelationalDatabaseInstance', database.ID)).toContain(`Secret ${namespace}/shop-db`);

    const stored = await client.kind('AwsRelationalDatabaseInstance').get(database.ID);
    const inventory = stored.ResourceInventory as { Identifier: string; Username: string; Password: string };
    const rds = new RDSClient(config);
    const [made] = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: inventory.Identifier }))).DBInstances ?? [];
    rds.destroy();
    expect(made).toMatchObject({ Engine: 'mariadb', EngineVersion: '10.6', DBInstanceClass: 'db.t3.small', AllocatedStorage: 20, BackupRetentionPeriod: 7, DBName: 'shop', StorageEncrypted: true, PubliclyAccessible: false, MasterUsername: inventory.Username });
    expect(made?.DBSubnetGroup?.Subnets?.map((subnet) => subnet.SubnetIdentifier).sort()).toEqual(privateSubnets.map((subnet) => subnet.id).sort());
    const ec2 = new EC2Client(config);
    const [group] = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [String(made?.VpcSecurityGroups?.[0]?.VpcSecurityGroupId)] }))).SecurityGroups ?? [];
    ec2.destroy();
    expect(group?.IpPermissions).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: privateSubnets.map((subnet) => expect.objectContaining({ CidrIp: subnet.cidr })) })]);

    const live = await secret('shop-db');
    const data = Object.fromEntries(Object.entries((live?.data ?? {}) as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]));
    expect(data).toEqual({ 'db-endpoint': made?.Endpoint?.Address, 'db-port': '3306', 'db-name': 'shop', 'db-user': inventory.Username, 'db-password': expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    // Kept encrypted: the password never appears in the API's answers.
    expect(JSON.stringify(stored)).not.toContain(data['db-password']);
  });

  it('an edited definition (size class, storage, backups) is followed by the database at its next check', LONG, async () => {
    const stored = await client.kind('AwsRelationalDatabaseInstance').get(database.ID);
    const identifier = (stored.ResourceInventory as { Identifier: string }).Identifier;
    await client.kind('AwsRelationalDatabaseDefinition').update(stored.AwsRelationalDatabaseDefinitionID, { MachineSize: 'Medium', StorageGb: 30, BackupDays: 3 });
    const rds = new RDSClient(config);
    await eventually('database resized', async () => {
      const [made] = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }))).DBInstances ?? [];
      return (made?.DBInstanceClass === 'db.t3.medium' && made.AllocatedStorage === 30 && made.BackupRetentionPeriod === 3) || `${made?.DBInstanceClass} ${made?.AllocatedStorage} GB ${made?.BackupRetentionPeriod} days`;
    }, 60_000, 250);
    rds.destroy();
    await waitForStatus(client, 'AwsRelationalDatabaseInstance', database.ID, 'Available: mariadb 10.6 (db.t3.medium, 30 GB, backups 3 days)');
  });

  it('a bucket, its role for the workload’s service account, the annotation and the env var on every container; drift correction keeps them', LONG, async () => {
    const definition = await client.kind('AwsObjectStorageBucketDefinition').create({ Name: uniqueName('files'), WorkloadServiceAccountName: 'uploader', WorkloadBucketEnvVar: 'S3_BUCKET', AwsAccountID: account.ID });
    bucket = await client.kind('AwsObjectStorageBucketInstance').create({ Name: uniqueName('files'), AwsObjectStorageBucketDefinitionID: definition.ID, WorkloadInstanceID: workload.ID });
    await waitForStatus(client, 'AwsObjectStorageBucketInstance', bucket.ID, 'Available');
    const inventory = (await client.kind('AwsObjectStorageBucketInstance').get(bucket.ID)).ResourceInventory as { BucketName: string; Resources: Record<string, { id: string; arn?: string }> };
    bucketName = inventory.BucketName;
    const roleArn = inventory.Resources['role/workload']!.arn;

    const s3 = new S3Client({ ...config, forcePathStyle: true });
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucketName }))).PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    expect((await s3.send(new GetBucketEncryptionCommand({ Bucket: bucketName }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    s3.destroy();
    const iam = new IAMClient(config);
    const trust = JSON.parse(decodeURIComponent(String((await iam.send(new GetRoleCommand({ RoleName: inventory.Resources['role/workload']!.id }))).Role?.AssumeRolePolicyDocument)));
    iam.destroy();
    expect(JSON.stringify(trust)).toContain(`system:serviceaccount:${namespace}:uploader`);

    expect(envOf(await deployment())).toEqual({ migrate: { S3_BUCKET: bucketName }, web: { MODE: 'web', S3_BUCKET: bucketName }, worker: { S3_BUCKET: bucketName } });
    expect((await serviceAccount())?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(roleArn);

    // Someone takes the variable out of the live Deployment: the workload's drift correction puts it back.
    // A JSON patch, not a PUT of what was read: the cluster's own status writes would make a PUT conflict.
    await kube.transport.request('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`, {
      body: [{ op: 'replace', path: '/spec/template/spec/containers/1/env', value: [] }],
      contentType: 'application/json-patch+json',
    });
    await eventually('env var restored', async () => envOf(await deployment()).worker?.S3_BUCKET === bucketName, 60_000, 200);
  });

  it('a second bucket of the workload shares its service account’s role (one role per service account), each with its own policy', LONG, async () => {
    const definition = await client.kind('AwsObjectStorageBucketDefinition').create({ Name: uniqueName('media'), WorkloadServiceAccountName: 'uploader', WorkloadBucketEnvVar: 'MEDIA_BUCKET', AwsAccountID: account.ID });
    const media = await client.kind('AwsObjectStorageBucketInstance').create({ Name: uniqueName('media'), AwsObjectStorageBucketDefinitionID: definition.ID, WorkloadInstanceID: workload.ID });
    await waitForStatus(client, 'AwsObjectStorageBucketInstance', media.ID, 'Available');
    const mediaInventory = (await client.kind('AwsObjectStorageBucketInstance').get(media.ID)).ResourceInventory as { BucketName: string; Resources: Record<string, { id: string; arn?: string }> };
    const filesInventory = (await client.kind('AwsObjectStorageBucketInstance').get(bucket.ID)).ResourceInventory as { Resources: Record<string, { id: string; arn?: string }> };
    expect(mediaInventory.Resources['role/workload']).toEqual(filesInventory.Resources['role/workload']);
    const iam = new IAMClient(config);
    const policies = async () => (await iam.send(new ListRolePoliciesCommand({ RoleName: filesInventory.Resources['role/workload']!.id }))).PolicyNames?.sort();
    expect(await policies()).toEqual([bucketName, mediaInventory.BucketName].sort());
    await eventually('both variables', async () => envOf(await deployment()).web?.MEDIA_BUCKET === mediaInventory.BucketName && envOf(await deployment()).web?.S3_BUCKET === bucketName, 30_000, 200);

    await client.kind('AwsObjectStorageBucketInstance').delete(media.ID);
    await eventually('media bucket instance gone', async () => client.kind('AwsObjectStorageBucketInstance').get(media.ID).then(() => false, () => true), 60_000, 200);
    expect(await policies()).toEqual([bucketName]);
    iam.destroy();
    expect(envOf(await deployment()).web).toEqual({ MODE: 'web', S3_BUCKET: bucketName });
    expect((await serviceAccount())?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(filesInventory.Resources['role/workload']!.arn);
  });

  it('with two replicas and a re-check every 1.5 s, everything exists once', LONG, async () => {
    const before = await taggedResources(aws, controlPlaneId);
    // The EKS runtime's own resources aside: the database's three, the bucket, the role of the workload's service account.
    const services = ['bucket', 'db-instance', 'db-subnet-group', 'role/workload', 'security-group'];
    expect(before.map((line) => line.split(' ')[2] ?? '').filter((key) => services.includes(key)).sort()).toEqual(services);
    const start = Date.now();
    await eventually('several re-checks', async () => Date.now() - start > 6000 && (await statusOf(client, 'AwsObjectStorageBucketInstance', bucket.ID)).startsWith('Available'), 30_000, 500);
    expect(await taggedResources(aws, controlPlaneId)).toEqual(before);
  });

  it('a workload without the service account gets one, with the role, and loses it with its last bucket', LONG, async () => {
    const other = uniqueName('worker');
    // Its pods run as a service account it does not have: Down until the bucket brings it.
    const { instance: bare } = await plane.deploy(other, app(other, undefined), runtime.ID);
    await plane.waitForStatus(bare.ID, 'Down');
    const bareNamespace = await namespaceOf(client, bare.ID);
    const definition = await client.kind('AwsObjectStorageBucketDefinition').create({ Name: uniqueName('scratch'), WorkloadServiceAccountName: 'uploader', WorkloadBucketEnvVar: 'SCRATCH', AwsAccountID: account.ID });
    const scratch = await client.kind('AwsObjectStorageBucketInstance').create({ Name: uniqueName('scratch'), AwsObjectStorageBucketDefinitionID: definition.ID, WorkloadInstanceID: bare.ID });
    await waitForStatus(client, 'AwsObjectStorageBucketInstance', scratch.ID, 'Available');
    const added = await kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: bareNamespace, name: 'uploader' });
    expect(added?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::123456789012:role\/threeport-/);
    await plane.waitForStatus(bare.ID, 'Healthy');
    await client.kind('AwsObjectStorageBucketInstance').delete(scratch.ID);
    await eventually('scratch bucket gone', async () => client.kind('AwsObjectStorageBucketInstance').get(scratch.ID).then(() => false, () => true), 60_000, 200);
    await eventually('its service account removed', async () => (await kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: bareNamespace, name: 'uploader' })) === undefined, 30_000, 200);
  });

  it('deleting the last bucket takes its variable and the annotation out of the workload, and its bucket and the role out of AWS', LONG, async () => {
    await client.kind('AwsObjectStorageBucketInstance').delete(bucket.ID);
    await eventually('bucket instance gone', async () => client.kind('AwsObjectStorageBucketInstance').get(bucket.ID).then(() => false, () => true), 60_000, 200);
    expect(envOf(await deployment())).toEqual({ migrate: {}, web: { MODE: 'web' }, worker: {} });
    expect((await serviceAccount())?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
    expect((await taggedResources(aws, controlPlaneId)).filter((line) => / (bucket|role\/workload)$/.test(line))).toEqual([]);
    expect(await plane.waitForStatus(workload.ID, 'Healthy')).toBeTruthy();
  });

  it('deleting the database removes its Secret, then the database, its subnet group and security group', LONG, async () => {
    await client.kind('AwsRelationalDatabaseInstance').delete(database.ID);
    await eventually('database instance gone', async () => client.kind('AwsRelationalDatabaseInstance').get(database.ID).then(() => false, () => true), 60_000, 200);
    expect(await secret('shop-db')).toBeUndefined();
    const left = await taggedResources(aws, controlPlaneId);
    expect(left.filter((line) => /^(db-instance|db-subnet-group|security-group) /.test(line))).toEqual([]);
  });
});
