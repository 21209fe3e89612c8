/**
 * Applications end to end on the test bed: an application with a secret, a database, a bucket and
 * two dependency workloads (one nested under the other) plus one it only uses, placed by
 * requirements on an EKS runtime (made in moto, connected to cluster a); the database's account
 * lacking RDS permissions at first (moto enforcing IAM) — the status names it, and once granted the
 * work resumes; delete removes only what it made. Also: cycles refused with the cycle named, and a
 * runtime provisioned from a tier's profile when none meets its requirements.
 */
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/client/api-client.ts';
import { readClusterConnection } from '../../src/cli/providers/local-runtime.ts';
import type { ApiObject } from '../../src/model/kind.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import type { ObjectOf } from '../../src/model/object-types.ts';
import { eventually } from '../support/eventually.ts';
import { cleanAws, kubeconfig } from '../support/peers.ts';
import { webApp } from '../support/manifests.ts';
import { uniqueName } from '../support/samples.ts';
import { namespaceOf, startWorkloadPlane } from '../workloads/support/workload-plane.ts';
import { eksRuntimeOn, fastAws, statusOf, waitForStatus } from '../aws/support/eks-runtime.ts';

const LONG = { timeout: 300_000 };
const ACCOUNT = '123456789012';


interface ChildRecord {
  Role: string;
  Kind: string;
  ID: number;
  Name: string;
  Made: boolean;
}

describe('applications', async () => {
  const aws = await cleanAws();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  afterAll(() => {
    delete process.env.AWS_ENDPOINT_URL;
  });
  const config = { region: aws.region, endpoint: aws.endpoint };
  const rootIam = new IAMClient({ ...config, credentials: aws.credentials });
  const userWithKeys = async (name: string, policy?: string[]) => {
    await rootIam.send(new CreateUserCommand({ UserName: name }));
    if (policy) await rootIam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'some', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: policy, Resource: '*' }] }) }));
    else await rootIam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    const { AccessKey } = await rootIam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { AccessKeyID: String(AccessKey?.AccessKeyId), SecretAccessKey: String(AccessKey?.SecretAccessKey) };
  };
  const admin = await userWithKeys('admin');
  // Everything but RDS: the database of the first application is refused until this user is granted more.
  const noRds = await userWithKeys('no-rds', ['iam:*', 'sts:*', 'ec2:*', 's3:*']);
  rootIam.destroy();
  // From here on moto checks every request's signature and permissions, as AWS does.
  expect((await fetch(`${aws.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' })).ok).toBe(true);
  const adminIam = new IAMClient({ ...config, credentials: { accessKeyId: admin.AccessKeyID, secretAccessKey: admin.SecretAccessKey } });
  afterAll(() => adminIam.destroy());

  const plane = await startWorkloadPlane({
    database: 'pglite',
    auth: true,
    groups: ['workload', 'kubernetes-runtime', 'aws', 'secret', 'application'],
    settings: { aws: fastAws, application: { pollIntervalMs: 200, checkIntervalMs: 2000 } },
  });
  const { client } = plane;
  const applications = client.kind('Application');
  await client.kind('AwsAccount').create({ Name: uniqueName('admin'), AccountID: ACCOUNT, DefaultAccount: true, DefaultRegion: aws.region, ...admin });
  const limitedAccount = await client.kind('AwsAccount').create({ Name: uniqueName('no-rds'), AccountID: ACCOUNT, DefaultRegion: aws.region, ...noRds });
  const { runtime } = await eksRuntimeOn(client, 'a', 'NorthAmerica:NewYork');
  const kube = await plane.kube('a');

  const childrenOf = async (id: number): Promise<ChildRecord[]> => ((await applications.get(id)).Children ?? []) as ChildRecord[];
  const exists = (kind: string, id: number) => client.kind(kind).get(id).then(() => true, (error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
  const envOf = async (namespace: string, name: string): Promise<Record<string, string | undefined>> => {
    const live = (await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name }));
    const [container] = (live?.spec as { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } }).template.spec.containers;
    return Object.fromEntries((container?.env ?? []).map((entry) => [entry.name, entry.value]));
  };

  const names = { shop: uniqueName('shop'), api: uniqueName('api'), cache: uniqueName('cache'), queue: uniqueName('queue') };
  let declaration: Record<string, unknown>;
  let shop: ObjectOf<'Application'>;
  let queue: ObjectOf<'Application'>;

  it('makes everything in dependency order, passes each dependency’s address to its dependent, and reports one status; a part refused by AWS is named, and resumes once allowed', LONG, async () => {
    queue = await applications.create({ Name: names.queue, Runtime: { Name: runtime.Name }, YAMLDocument: webApp(names.queue) });
    declaration = {
      Name: names.shop,
      Runtime: { Location: 'NorthAmerica:NewYork', InfraProvider: 'eks' },
      YAMLDocument: webApp(names.shop),
      Secret: { Backend: 'direct' },
      SecretData: { password: 'hunter2' },
      AwsRelationalDatabase: { AwsAccountName: limitedAccount.Name, Engine: 'mariadb', EngineVersion: '10.6', DatabaseName: 'shop', DatabasePort: 3306, MachineSize: 'Small', StorageGb: 20, BackupDays: 1, WorkloadSecretName: 'shop-db' },
      AwsObjectStorageBucket: { WorkloadServiceAccountName: 'shop-files', WorkloadBucketEnvVar: 'S3_BUCKET' },
      Dependencies: [
        { Application: names.queue },
        { Name: names.api, YAMLDocument: webApp(names.api), Dependencies: [{ Name: names.cache, YAMLDocument: webApp(names.cache) }] },
      ],
    };
    shop = await applications.create(declaration);
    // The secret's values are never returned.
    expect(JSON.stringify(await applications.get(shop.ID))).not.toContain('hunter2');

    // The database's account may not use RDS: the application's status says which part and why.
    await eventually('the refused database named', async () => {
      const status = await statusOf(client, 'Application', shop.ID);
      return /AwsRelationalDatabaseInstance .*rds:/.test(status) || status;
    }, 180_000, 250);
    await adminIam.send(new AttachUserPolicyCommand({ UserName: 'no-rds', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await waitForStatus(client, 'Application', shop.ID, 'Healthy', 180_000);

    const children = await childrenOf(shop.ID);
    expect(children.map((child) => `${child.Role} ${child.Kind} ${child.Made ? 'made' : 'used'}`)).toEqual([
      'runtime KubernetesRuntimeInstance used',
      `dependency:${names.queue} Application used`,
      `dependency:${names.api} Application made`,
      'workload-definition WorkloadDefinition made',
      'workload WorkloadInstance made',
      'secret-definition SecretDefinition made',
      'secret SecretInstance made',
      'database-definition AwsRelationalDatabaseDefinition made',
      'database AwsRelationalDatabaseInstance made',
      'bucket-definition AwsObjectStorageBucketDefinition made',
      'bucket AwsObjectStorageBucketInstance made',
    ]);
    const placement = (await applications.get(shop.ID)).Placement as { Name: string; Reason: string; Provisioned: boolean };
    expect(placement).toMatchObject({ Name: runtime.Name, Provisioned: false });
    expect(placement.Reason).toContain('meets the requirements (Location NorthAmerica:NewYork, InfraProvider eks)');

    // Dependencies first: the nested cache before the api, the api before the shop.
    const api = (await applications.findByName(names.api))!;
    const workloadOf = async (id: number) => (await childrenOf(id)).find((child) => child.Role === 'workload')!;
    const [cacheWorkload, apiWorkload, shopWorkload] = await Promise.all([applications.findByName(names.cache).then((cache) => workloadOf(Number(cache!.ID))), workloadOf(Number(api.ID)), workloadOf(shop.ID)]);
    const createdAt = async (id: number) => Date.parse(String((await client.kind('WorkloadInstance').get(id)).CreatedAt));
    expect(await createdAt(cacheWorkload.ID)).toBeLessThan(await createdAt(apiWorkload.ID));
    expect(await createdAt(apiWorkload.ID)).toBeLessThan(await createdAt(shopWorkload.ID));

    // Connection details, without any ID named: the dependencies' Service addresses, the database's Secret, the bucket's variable, the secret.
    const shopNamespace = await namespaceOf(client, shopWorkload.ID);
    const apiNamespace = await namespaceOf(client, apiWorkload.ID);
    const queueNamespace = await namespaceOf(client, (await workloadOf(Number(queue.ID))).ID);
    const upper = (name: string) => name.toUpperCase().replaceAll('-', '_');
    await eventually('addresses on the shop', async () => {
      const env = await envOf(shopNamespace, names.shop);
      return (env[`${upper(names.api)}_HOST`] === `${names.api}.${apiNamespace}.svc.cluster.local` && env[`${upper(names.queue)}_PORT`] === '80' && env[`${upper(names.queue)}_HOST`] === `${names.queue}.${queueNamespace}.svc.cluster.local` && env.S3_BUCKET !== undefined) || JSON.stringify(env);
    });
    expect((await envOf(apiNamespace, names.api))[`${upper(names.cache)}_HOST`]).toMatch(new RegExp(`^${names.cache}\\.`));
    expect(await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: shopNamespace, name: 'shop-db' })).toBeDefined();
    const secretRecord = children.find((child) => child.Role === 'secret')!;
    const delivered = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: shopNamespace, name: secretRecord.Name });
    expect(Buffer.from(String((delivered?.data as Record<string, string>).password), 'base64').toString()).toBe('hunter2');
  });

  it('is idempotent: the same declaration created again is the same application; another one of that name is a conflict; every look made each part once', LONG, async () => {
    const before = await childrenOf(shop.ID);
    expect((await applications.create(declaration)).ID).toBe(shop.ID);
    await expect(applications.create({ ...declaration, SecretData: { password: 'other' } })).rejects.toMatchObject({ status: 409 });
    await expect(applications.create({ Name: names.shop, YAMLDocument: webApp(names.shop) })).rejects.toMatchObject({ status: 409 });
    const { Generation: generation } = await applications.get(shop.ID);
    await applications.update(shop.ID, { Runtime: { Location: 'NorthAmerica:NewYork', InfraProvider: 'eks' }, Dependencies: shop.Dependencies });
    expect((await applications.get(shop.ID)).Generation).toBe(generation);
    expect(await childrenOf(shop.ID)).toEqual(before);
    // The controller looked many times (every 200 ms while waiting on the database): still one of each.
    for (const kind of ['WorkloadDefinition', 'WorkloadInstance', 'SecretDefinition', 'AwsRelationalDatabaseDefinition', 'AwsObjectStorageBucketDefinition']) {
      expect((await client.kind(kind).listAll()).filter((object) => String(object.Name).startsWith(names.shop)), kind).toHaveLength(1);
    }
  });

  it('refuses a dependency cycle, naming it, and makes nothing', LONG, async () => {
    const [a, b] = [uniqueName('ring-a'), uniqueName('ring-b')];
    const first = await applications.create({ Name: a, Runtime: { Name: runtime.Name }, YAMLDocument: webApp(a), Dependencies: [{ Application: b }] });
    const second = await applications.create({ Name: b, Runtime: { Name: runtime.Name }, YAMLDocument: webApp(b), Dependencies: [{ Name: uniqueName('inner'), YAMLDocument: webApp('inner'), Dependencies: [{ Application: a }] }] });
    await eventually('cycle named', async () => (await statusOf(client, 'Application', first.ID)).includes(`dependency cycle: ${a} → ${b} → `) || statusOf(client, 'Application', first.ID), 30_000);
    const secondCycle = new RegExp(`dependency cycle: ${b} → inner-[0-9a-f]+ → ${a} → ${b}`);
    await eventually('cycle named from the other side', async () => secondCycle.test(await statusOf(client, 'Application', second.ID)) || statusOf(client, 'Application', second.ID), 30_000);
    expect(await childrenOf(first.ID)).toEqual([]);
    expect(await childrenOf(second.ID)).toEqual([]);
    // A declaration that cannot be one is refused on write.
    await expect(applications.create({ Name: uniqueName('self'), YAMLDocument: webApp('x'), Dependencies: [{ Application: 'x' }, { Name: 'n', Helm: { Chart: 'c' }, Gateway: { Name: 'g' } }] })).rejects.toMatchObject({ status: 400 });
    for (const id of [first.ID, second.ID]) await applications.delete(id);
    await eventually('cycle applications gone', async () => !(await exists('Application', first.ID)) && !(await exists('Application', second.ID)));
  });

  it('deleting removes what it made, last made first, and nothing it only used', LONG, async () => {
    const children = await childrenOf(shop.ID);
    const api = (await applications.findByName(names.api))!;
    const apiChildren = await childrenOf(Number(api.ID));
    await applications.delete(shop.ID);
    await eventually('shop gone', async () => !(await exists('Application', shop.ID)), 180_000, 250);
    for (const child of [...children, ...apiChildren].filter((record) => record.Made)) expect(await exists(child.Kind, child.ID), `${child.Kind} ${child.Name}`).toBe(false);
    expect(await exists('Application', Number(queue.ID))).toBe(true);
    expect(await exists('KubernetesRuntimeInstance', runtime.ID)).toBe(true);
    expect(await applications.findByName(names.cache)).toBeUndefined();
    await applications.delete(Number(queue.ID));
  });

  it('keeps a nested application another application depends on when its parent goes, saying so on it', LONG, async () => {
    const [outer, inner, user] = [uniqueName('outer'), uniqueName('inner'), uniqueName('user')];
    const parent = await applications.create({ Name: outer, Runtime: { Name: runtime.Name }, YAMLDocument: webApp(outer), Dependencies: [{ Name: inner, YAMLDocument: webApp(inner) }] });
    await waitForStatus(client, 'Application', parent.ID, 'Healthy');
    const dependent = await applications.create({ Name: user, Runtime: { Name: runtime.Name }, YAMLDocument: webApp(user), Dependencies: [{ Application: inner }] });
    await waitForStatus(client, 'Application', dependent.ID, 'Healthy');
    const nested = (await applications.findByName(inner))!;
    await applications.delete(parent.ID);
    await eventually('parent gone', async () => !(await exists('Application', parent.ID)), 180_000, 250);
    expect(await exists('Application', Number(nested.ID))).toBe(true);
    const kept = await client.kind('Event').listAll({ reason: 'KeptForOthers' });
    expect(kept.map((event) => String(event.Note))).toContainEqual(expect.stringContaining(`Application ${inner} is used by 1 other application (${user}); application ${outer}, which made it, was deleted`));
    for (const id of [dependent.ID, Number(nested.ID)]) {
      await applications.delete(id);
      await eventually(`application ${id} gone`, async () => !(await exists('Application', id)), 180_000, 250);
    }
  });

  it('takes over what an older tptctl’s client-side expansion left (the same declaration, part of no application) and removes it with the application; refuses another object of a part’s name', LONG, async () => {
    const name = uniqueName('legacy');
    // What the original's tptctl made for a Workload config: a definition and an instance named after it.
    const definition = await client.kind('WorkloadDefinition').create({ Name: name, YAMLDocument: webApp(name) });
    const instance = await client.kind('WorkloadInstance').create({ Name: name, WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const legacy = await applications.create({ Name: name, Runtime: { Name: runtime.Name }, YAMLDocument: webApp(name) });
    await waitForStatus(client, 'Application', legacy.ID, 'Healthy');
    expect((await childrenOf(legacy.ID)).map((child) => `${child.Kind} ${child.ID} ${String(child.Made)}`)).toEqual([
      `KubernetesRuntimeInstance ${runtime.ID} false`,
      `WorkloadDefinition ${definition.ID} true`,
      `WorkloadInstance ${instance.ID} true`,
    ]);
    await applications.delete(legacy.ID);
    await eventually('legacy gone, with what it took over', async () => !(await exists('Application', legacy.ID)) && !(await exists('WorkloadInstance', instance.ID)) && !(await exists('WorkloadDefinition', definition.ID)), 180_000, 250);

    // An object of that name declaring something else is someone's: refused, named, left alone.
    const other = uniqueName('taken');
    const theirs = await client.kind('WorkloadDefinition').create({ Name: other, YAMLDocument: webApp('something-else') });
    const refused = await applications.create({ Name: other, Runtime: { Name: runtime.Name }, YAMLDocument: webApp(other) });
    await eventually('refused', async () => (await statusOf(client, 'Application', refused.ID)).includes(`a WorkloadDefinition named ${other} exists already and was not made for this application (its YAMLDocument differs from what this application declares)`) || statusOf(client, 'Application', refused.ID), 60_000);
    await applications.delete(refused.ID);
    await eventually('refused application gone', async () => !(await exists('Application', refused.ID)), 60_000, 250);
    expect(await exists('WorkloadDefinition', theirs.ID)).toBe(true);
    await client.kind('WorkloadDefinition').delete(theirs.ID);
  });

  it('provisions a runtime from the tier’s profile when none meets its requirements, says so, and removes it with the application', LONG, async () => {
    const profile = await client.kind('Profile').create({ Name: uniqueName('small'), Runtime: { InfraProvider: 'eks', Location: 'NorthAmerica:Chicago', NodeSize: 'Small', HighAvailability: true }, Overridable: ['Runtime.NodeMaximum'] });
    const tier = await client.kind('Tier').create({ Name: uniqueName('dev'), Criticality: 10, Profile: profile.Name });
    const name = uniqueName('lab');
    // The profile fixes NodeSize: an application may not change it.
    const refused = await applications.create({ Name: uniqueName('big'), Tier: tier.Name, Runtime: { NodeSize: 'Large' }, YAMLDocument: webApp('big') });
    await eventually('profile refusal', async () => (await statusOf(client, 'Application', refused.ID)).includes(`profile ${String(profile.Name)} sets Runtime.NodeSize to "Small"`) || statusOf(client, 'Application', refused.ID), 30_000);
    await applications.delete(refused.ID);

    const lab = await applications.create({ Name: name, Tier: tier.Name, Runtime: { NodeMaximum: 5 }, YAMLDocument: webApp(name) });
    let made: ChildRecord | undefined;
    await eventually('runtime provisioned', async () => Boolean((made = (await childrenOf(lab.ID)).find((child) => child.Role === 'runtime' && child.Made && child.ID > 0))));
    const provisioned = await client.kind('KubernetesRuntimeInstance').get(made!.ID);
    expect(provisioned.Location).toBe('NorthAmerica:Chicago');
    expect(await client.kind('KubernetesRuntimeDefinition').get(Number(provisioned.KubernetesRuntimeDefinitionID))).toMatchObject({ InfraProvider: 'eks', NodeSize: 'Small', NodeMaximum: 5, HighAvailability: true });
    expect(((await applications.get(lab.ID)).Placement as { Reason: string }).Reason).toContain('provisioned one on EKS in NorthAmerica:Chicago');
    let eks: ApiObject | undefined;
    await eventually('EKS cluster made', async () => Boolean((eks = (await client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: made!.ID }))[0])));
    await waitForStatus(client, 'AwsEksKubernetesRuntimeInstance', Number(eks!.ID), 'Ready');
    // moto's clusters have no endpoint: point the runtime at the test bed's cluster b, as a real cluster would be reached.
    const { path, context } = kubeconfig('b');
    const { context: _context, ...connection } = readClusterConnection(path, context);
    await client.kind('KubernetesRuntimeInstance').update(made!.ID, connection);
    await waitForStatus(client, 'Application', lab.ID, 'Healthy', 180_000);

    await applications.delete(lab.ID);
    await eventually('application and its runtime gone', async () => !(await exists('Application', lab.ID)) && !(await exists('KubernetesRuntimeInstance', made!.ID)), 180_000, 250);
    expect(await exists('AwsEksKubernetesRuntimeInstance', Number(eks!.ID))).toBe(false);
  });
});
