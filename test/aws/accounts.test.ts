/**
 * AWS accounts' credentials, with moto checking signatures and permissions (its IAM enforcement
 * on): good keys, unknown keys, keys of another account, a role assumed with an ExternalId, keys
 * fixed after the fact; and a permission missing while an EKS runtime is being made — Status names
 * it, and the work resumes once it is granted.
 */
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { cleanAws } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { startWorkloadPlane } from '../workloads/support/workload-plane.ts';
import { fastAws, statusOf, waitForStatus } from './support/eks-runtime.ts';

const ACCOUNT = '123456789012';

describe('AWS accounts', async () => {
  const aws = await cleanAws();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  afterAll(() => {
    delete process.env.AWS_ENDPOINT_URL;
  });
  const iam = new IAMClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
  afterAll(() => iam.destroy());
  const userWithKeys = async (name: string) => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { AccessKeyID: String(AccessKey?.AccessKeyId), SecretAccessKey: String(AccessKey?.SecretAccessKey) };
  };
  const admin = await userWithKeys('admin');
  await iam.send(new AttachUserPolicyCommand({ UserName: 'admin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  const limited = await userWithKeys('limited');
  await iam.send(new PutUserPolicyCommand({ UserName: 'limited', PolicyName: 'no-eks', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:*', 'sts:*', 'ec2:*'], Resource: '*' }] }) }));
  // From here on moto checks every request's signature and permissions, as AWS does.
  const enforced = await fetch(`${aws.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  expect(enforced.ok).toBe(true);
  const adminIam = new IAMClient({ region: aws.region, endpoint: aws.endpoint, credentials: { accessKeyId: admin.AccessKeyID, secretAccessKey: admin.SecretAccessKey } });
  afterAll(() => adminIam.destroy());

  const plane = await startWorkloadPlane({ database: 'pglite', groups: ['kubernetes-runtime', 'aws'], settings: { aws: fastAws } });
  const { client } = plane;
  const accounts = client.kind('AwsAccount');
  const account = (fields: Record<string, unknown>) => accounts.create({ Name: uniqueName('account'), AccountID: ACCOUNT, DefaultRegion: aws.region, ...fields });

  it('good keys: Verified, saying whom they act as', async () => {
    const good = await account(admin);
    await waitForStatus(client, 'AwsAccount', good.ID, 'Verified');
    expect(await statusOf(client, 'AwsAccount', good.ID)).toBe(`Verified: its access key acts as arn:aws:iam::${ACCOUNT}:user/admin`);
  });

  it('unknown keys: refused, saying to check them; fixed keys are checked again at once', async () => {
    const bad = await account({ AccessKeyID: 'AKIAUNKNOWNKEY000000', SecretAccessKey: 'not-a-real-secret' });
    await waitForStatus(client, 'AwsAccount', bad.ID, 'Error');
    expect(await statusOf(client, 'AwsAccount', bad.ID)).toMatch(/^Error: AWS rejected the credentials of account .* \(InvalidClientTokenId\): check its access key or role/);
    await accounts.update(bad.ID, admin);
    await waitForStatus(client, 'AwsAccount', bad.ID, 'Verified');
  });

  it('keys of another account than the one named: refused, saying which account they belong to', async () => {
    const other = await account({ ...admin, AccountID: '999999999999' });
    await waitForStatus(client, 'AwsAccount', other.ID, 'Failed');
    expect(await statusOf(client, 'AwsAccount', other.ID)).toContain(`act in account ${ACCOUNT} (as arn:aws:iam::${ACCOUNT}:user/admin), not in 999999999999`);
  });

  it('a role assumed with the account’s ExternalId', async () => {
    const withRole = await account(admin);
    await waitForStatus(client, 'AwsAccount', withRole.ID, 'Verified');
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/admin` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': withRole.ExternalId } } }] };
    await adminIam.send(new CreateRoleCommand({ RoleName: 'threeport-manager', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    await accounts.update(withRole.ID, { RoleArn: `arn:aws:iam::${ACCOUNT}:role/threeport-manager` });
    await waitForStatus(client, 'AwsAccount', withRole.ID, 'Verified: role');
    expect(await statusOf(client, 'AwsAccount', withRole.ID)).toMatch(new RegExp(`^Verified: role arn:aws:iam::${ACCOUNT}:role/threeport-manager assumed with its access key acts as arn:aws:sts::${ACCOUNT}:assumed-role/threeport-manager/`));
  });

  it('a permission missing half-way through an EKS runtime: Status names it; granted, the work resumes', { timeout: 120_000 }, async () => {
    const restricted = await account({ ...limited, DefaultAccount: true });
    await waitForStatus(client, 'AwsAccount', restricted.ID, 'Verified');
    const definition = await client.kind('KubernetesRuntimeDefinition').create({ Name: uniqueName('eks'), InfraProvider: 'eks' });
    const runtime = await client.kind('KubernetesRuntimeInstance').create({ Name: uniqueName('eks'), Location: 'NorthAmerica:NewYork', KubernetesRuntimeDefinitionID: definition.ID, ForceDelete: true });
    let eksId = 0;
    await eventually('EKS instance made', async () => Boolean((eksId = (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID }))[0]?.ID ?? 0)));
    await waitForStatus(client, 'AwsEksKubernetesRuntimeInstance', eksId, 'Error');
    expect(await statusOf(client, 'AwsEksKubernetesRuntimeInstance', eksId)).toMatch(/^Error: AWS account .* may not eks:DescribeCluster: give its credentials that permission/);

    await adminIam.send(new AttachUserPolicyCommand({ UserName: 'limited', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await waitForStatus(client, 'AwsEksKubernetesRuntimeInstance', eksId, 'Ready', 60_000);
    await client.kind('KubernetesRuntimeInstance').delete(runtime.ID);
    await eventually('the runtime and its cluster removed', async () => (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({})).length === 0, 90_000, 200);
  });
});
