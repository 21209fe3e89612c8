/**
 * Secrets delivered into workloads on the test bed's cluster a: the direct backend (the control
 * plane writes the Kubernetes Secret), and AWS Secrets Manager (moto) synced by the External
 * Secrets Operator, installed from the real chart through the shared chart mirror by the real helm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { describeText, gatherDescription } from '../../src/cli/output/describe.ts';
import { RESTART_ON_CHANGE, RESTARTED_AT } from '../../src/controllers/secret/restarts.ts';
import { REDACTED_PLACEHOLDER } from '../../src/model/fields.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import { registry } from '../../src/model/registry.ts';
import { supportServices } from '../../src/model/support-services.ts';
import { Helm } from '../../src/platform/helm/index.ts';
import { readKubeconfig } from '../../src/platform/kubernetes/kubeconfig.ts';
import { eventually } from '../support/eventually.ts';
import { cleanAws, kubeconfig, serveSharedCharts, serveTestCharts, toolPath } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { deleteEvery, namespaceOf, startWorkloadPlane } from '../workloads/support/workload-plane.ts';

const LONG = { timeout: 300_000 };

/** A Deployment that reads the Secret `secret` as env vars; `restart` annotates it to be restarted when the values change. */
const reader = (name: string, secret: string, restart: boolean): string => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  ${restart ? `annotations: { ${RESTART_ON_CHANGE}: "${secret}" }` : ''}
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: app
          image: nginx:1.27
          envFrom: [{ secretRef: { name: ${secret} } }]
`;

const decoded = (secret: Manifest | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries((secret as { data?: Record<string, string> } | undefined)?.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));

describe('secrets', async () => {
  const aws = await cleanAws();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  const work = mkdtempSync(join(tmpdir(), 'threeport-secrets-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const charts = await serveSharedCharts();
  afterAll(() => charts.close());
  const testCharts = await serveTestCharts(work);
  afterAll(() => testCharts.close());
  // The operator's chart from the shared mirror; the Helm workload's test chart from its own repository.
  const helm = new Helm({ binary: toolPath('helm'), home: join(work, 'helm-home'), timeoutMs: 150_000, mirror: { mappings: { [supportServices['external-secrets'].repository]: charts.url } } });
  const { path: kubeconfigPath, context: kubeContext } = kubeconfig('a');
  const connection = readKubeconfig(kubeconfigPath, kubeContext).credentials;
  const plane = await startWorkloadPlane({
    database: 'pglite',
    auth: true,
    groups: ['workload', 'kubernetes-runtime', 'helm-workload', 'secret'],
    settings: { helm: () => Promise.resolve(helm), secret: { pollIntervalMs: 500 } },
  });
  const { client } = plane;
  const runtime = await plane.registerCluster('a');
  const kube = await plane.kube('a');
  const account = await client.kind('AwsAccount').create({ Name: uniqueName('account'), AccountID: '123456789012', DefaultAccount: true, DefaultRegion: aws.region, AccessKeyID: aws.credentials.accessKeyId, SecretAccessKey: aws.credentials.secretAccessKey });
  const secretsManager = new SecretsManagerClient({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
  afterAll(async () => {
    await deleteEvery(client, ['SecretInstance', 'SecretDefinition', 'WorkloadInstance'], 120_000);
    for (const instance of await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })) await client.kind('HelmWorkloadInstance').delete(instance.ID).catch(() => undefined);
    await eventually('support services uninstalled', async () => (await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).length === 0, 180_000);
  }, 300_000);

  const reconciled = (kind: 'SecretDefinition' | 'SecretInstance', id: number) =>
    eventually(`${kind} ${id} reconciled`, async () => {
      const object = await client.kind(kind).get(id);
      return (object.Reconciled === true && object.ObservedGeneration === object.Generation) || `Status: ${String(object.Status ?? '')}`;
    }, 240_000, 250);
  const templateAnnotations = async (namespace: string, name: string) =>
    ((await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name }))?.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations ?? {};

  it('direct: the Kubernetes Secret holds the values, an update changes them and restarts only the workload that asked, delete removes it', LONG, async () => {
    const secretName = uniqueName('db-creds');
    const app = uniqueName('app');
    const { instance: workload } = await plane.deploy(app, `${reader(app, secretName, true)}---${reader(`${app}-other`, secretName, false)}`, runtime.ID);
    await plane.waitForStatus(workload.ID, 'Healthy');
    const namespace = await namespaceOf(client, workload.ID);
    const password = `pw-${uniqueName('x')}`;
    const definition = await client.kind('SecretDefinition').create({ Name: uniqueName('creds'), Data: { user: 'shop', password } });
    expect(definition.Data, 'never returned, not even to an admin').toBe(REDACTED_PLACEHOLDER);
    const instance = await client.kind('SecretInstance').create({ Name: secretName, SecretDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await reconciled('SecretInstance', instance.ID);
    const secretRef = { apiVersion: 'v1', kind: 'Secret', namespace, name: secretName };
    expect(decoded(await kube.get(secretRef))).toEqual({ user: 'shop', password });
    expect(JSON.stringify(await client.kind('SecretDefinition').get(definition.ID))).not.toContain(password);
    expect(JSON.stringify(await client.kind('SecretDefinition').revisions(definition.ID))).not.toContain(password);
    expect(JSON.stringify(await client.kind('SecretInstance').get(instance.ID))).not.toContain(password);
    expect((await client.kind('SecretInstance').get(instance.ID)).Delivery).toMatchObject({ Backend: 'direct', Namespace: namespace, SecretName: secretName, Workload: `WorkloadInstance ${workload.Name}` });
    expect(await templateAnnotations(namespace, app), 'the first delivery restarts nothing').not.toHaveProperty([RESTARTED_AT]);

    const described = describeText(await gatherDescription(client, registry.get('SecretInstance'), await client.kind('SecretInstance').get(instance.ID)));
    expect(described).toContain(`Secret ${namespace}/${secretName}`);
    expect(described).not.toContain(password);

    const rotated = `pw-${uniqueName('y')}`;
    await client.kind('SecretDefinition').update(definition.ID, { Data: { user: 'shop', password: rotated } });
    await eventually('the new values delivered', async () => decoded(await kube.get(secretRef)).password === rotated);
    await eventually('the annotated reader restarted', async () => (await templateAnnotations(namespace, app))[RESTARTED_AT] !== undefined);
    expect(await templateAnnotations(namespace, `${app}-other`), 'never without the annotation').not.toHaveProperty([RESTARTED_AT]);
    await reconciled('SecretInstance', instance.ID);
    // The workload controller's next apply keeps the restart (another field manager owns it).
    await client.kind('WorkloadInstance').update(workload.ID, { Reconciled: false });
    await plane.waitForStatus(workload.ID, 'Healthy');
    expect(await templateAnnotations(namespace, app)).toHaveProperty([RESTARTED_AT]);

    // Someone edits the Secret in the cluster: the next delivery puts the values back.
    await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName, namespace }, stringData: { password: 'tampered' } }, { force: true, fieldManager: 'someone' });
    await client.kind('SecretInstance').update(instance.ID, { Reconciled: false });
    await eventually('restored', async () => decoded(await kube.get(secretRef)).password === rotated);

    // An instance update is followed (the original ignored them): renamed, its Secret moves.
    const renamedRef = { ...secretRef, name: `${secretName}-v2` };
    await client.kind('SecretInstance').update(instance.ID, { Name: renamedRef.name });
    await eventually('moved', async () => decoded(await kube.get(renamedRef)).password === rotated && (await kube.get(secretRef)) === undefined);

    await client.kind('SecretInstance').delete(instance.ID);
    await eventually('instance gone', async () => (await client.kind('SecretInstance').listAll({ name: renamedRef.name })).length === 0);
    expect(await kube.get(renamedRef)).toBeUndefined();
    expect(await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: app }), 'only its own objects go').toBeDefined();
  });

  it('AWS Secrets Manager: the value is in the store, the operator is installed once, SecretStore and ExternalSecret are correct; an update reaches the store; delete schedules its deletion', LONG, async () => {
    const app = uniqueName('app');
    const { instance: workload } = await plane.deploy(app, reader(app, 'api-key', false), runtime.ID);
    await plane.waitForStatus(workload.ID, 'Healthy');
    const namespace = await namespaceOf(client, workload.ID);
    const name = uniqueName('payments');
    const definition = await client.kind('SecretDefinition').create({ Name: name, AwsAccountID: account.ID, Data: { token: 'first' }, RecoveryWindowDays: 7 });
    await reconciled('SecretDefinition', definition.ID);
    const stored = await secretsManager.send(new GetSecretValueCommand({ SecretId: name }));
    expect(JSON.parse(String(stored.SecretString))).toEqual({ token: 'first' });
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.Tags).toEqual(expect.arrayContaining([{ Key: 'threeport.io/owner', Value: `SecretDefinition/${name}` }]));
    expect((await client.kind('SecretDefinition').get(definition.ID)).Store).toEqual({ AwsAccountID: account.ID, Region: aws.region, Name: name, Arn: described.ARN });

    const instances = await Promise.all(['api-key', 'api-key-2'].map((secretName) => client.kind('SecretInstance').create({ Name: secretName, SecretDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID })));
    for (const instance of instances) await reconciled('SecretInstance', instance.ID);
    const operators = (await client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).filter((release) => release.ReleaseNamespace === supportServices['external-secrets'].namespace);
    expect(operators, 'one operator per runtime').toHaveLength(1);
    expect(await helm.release(connection, String(operators[0]!.Name), supportServices['external-secrets'].namespace)).toMatchObject({ status: 'deployed' });

    // The operator reads with the runtime's account: its keys in the operator's namespace, none in the workload's.
    const store = await kube.get({ apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', namespace, name: 'api-key' });
    expect(store?.spec).toMatchObject({ provider: { aws: { service: 'SecretsManager', region: aws.region } } });
    expect((store?.spec as { provider: { aws: Record<string, unknown> } }).provider.aws).not.toHaveProperty('auth');
    const operatorNamespace = supportServices['external-secrets'].namespace;
    expect(decoded(await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: operatorNamespace, name: 'threeport-external-secrets-aws' }))).toEqual({ accessKeyId: aws.credentials.accessKeyId, secretAccessKey: aws.credentials.secretAccessKey });
    const inWorkload = await kube.list('v1', 'Secret', { namespace });
    expect(JSON.stringify(inWorkload.items)).not.toContain(Buffer.from(aws.credentials.secretAccessKey).toString('base64'));
    const operatorValues = (await client.kind('HelmWorkloadInstance').get(operators[0]!.ID)).ValuesDocument;
    expect(operatorValues).toContain('name: threeport-external-secrets-aws');
    expect(operatorValues).toContain(`value: ${aws.endpoint}`);
    const externalSecret = await kube.get({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', namespace, name: 'api-key' });
    expect(externalSecret?.spec).toMatchObject({ refreshInterval: '1h', secretStoreRef: { name: 'api-key', kind: 'SecretStore' }, target: { name: 'api-key', creationPolicy: 'Owner' }, dataFrom: [{ extract: { key: name } }] });
    const syncMark = externalSecret?.metadata.annotations?.['force-sync'];

    await client.kind('SecretDefinition').update(definition.ID, { Data: { token: 'second' } });
    await reconciled('SecretDefinition', definition.ID);
    expect(JSON.parse(String((await secretsManager.send(new GetSecretValueCommand({ SecretId: name }))).SecretString))).toEqual({ token: 'second' });
    await eventually('the operator told to sync at once', async () => (await kube.get({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', namespace, name: 'api-key' }))?.metadata.annotations?.['force-sync'] !== syncMark);

    for (const instance of instances) await client.kind('SecretInstance').delete(instance.ID);
    await eventually('instances gone', async () => (await client.kind('SecretInstance').listAll({ secretdefinitionid: definition.ID })).length === 0);
    for (const kind of ['SecretStore', 'ExternalSecret']) expect(await kube.get({ apiVersion: 'external-secrets.io/v1', kind, namespace, name: 'api-key' })).toBeUndefined();
    expect((await client.kind('HelmWorkloadInstance').get(operators[0]!.ID)).DeletionScheduled, 'the operator stays for the runtime').toBeFalsy();

    await client.kind('SecretDefinition').delete(definition.ID);
    await eventually('definition gone', async () => (await client.kind('SecretDefinition').listAll({ name })).length === 0);
    expect((await secretsManager.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate, 'scheduled for deletion, recoverable').toBeDefined();

    // Made again within the recovery window: the secret is restored and takes the new values.
    const again = await client.kind('SecretDefinition').create({ Name: name, AwsAccountID: account.ID, Data: { token: 'third' } });
    await reconciled('SecretDefinition', again.ID);
    expect((await secretsManager.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeUndefined();
    expect(JSON.parse(String((await secretsManager.send(new GetSecretValueCommand({ SecretId: name }))).SecretString))).toEqual({ token: 'third' });
  });

  it('a definition moved between backends: its instance goes from the operator to a direct Secret (and back), the stored copy is scheduled for deletion', LONG, async () => {
    const app = uniqueName('app');
    const { instance: workload } = await plane.deploy(app, reader(app, 'moving', false), runtime.ID);
    await plane.waitForStatus(workload.ID, 'Healthy');
    const namespace = await namespaceOf(client, workload.ID);
    const name = uniqueName('moving');
    const definition = await client.kind('SecretDefinition').create({ Name: name, AwsAccountID: account.ID, Data: { token: 'kept' } });
    const instance = await client.kind('SecretInstance').create({ Name: 'moving', SecretDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await reconciled('SecretInstance', instance.ID);
    const externalSecretRef = { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', namespace, name: 'moving' };
    expect(await kube.get(externalSecretRef)).toBeDefined();

    await client.kind('SecretDefinition').update(definition.ID, { Backend: 'direct', AwsAccountID: null } as never);
    await reconciled('SecretDefinition', definition.ID);
    // The instance is asked to deliver again after its definition is reconciled: its move is waited for, not its flags.
    await eventually('delivered directly', async () => (await kube.get(externalSecretRef)) === undefined && (await kube.get({ ...externalSecretRef, kind: 'SecretStore' })) === undefined && (await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: 'moving' })) !== undefined);
    expect(decoded(await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: 'moving' }))).toEqual({ token: 'kept' });
    expect((await secretsManager.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate, 'the copy in the store goes').toBeDefined();
    expect((await client.kind('SecretDefinition').get(definition.ID)).Store).toBeFalsy();

    await client.kind('SecretDefinition').update(definition.ID, { Backend: 'aws-secrets-manager', AwsAccountID: account.ID });
    await reconciled('SecretDefinition', definition.ID);
    // The direct Secret goes (the operator makes its own).
    await eventually('delivered through the store again', async () => (await kube.get(externalSecretRef)) !== undefined && (await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: 'moving' })) === undefined);
    expect((await secretsManager.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate, 'restored').toBeUndefined();
  });

  it("a secret of another AWS account is read through that account's role", LONG, async () => {
    const app = uniqueName('app');
    const { instance: workload } = await plane.deploy(app, reader(app, 'elsewhere', false), runtime.ID);
    await plane.waitForStatus(workload.ID, 'Healthy');
    const namespace = await namespaceOf(client, workload.ID);
    const roleArn = 'arn:aws:iam::210987654321:role/threeport-secrets';
    const other = await client.kind('AwsAccount').create({ Name: uniqueName('other'), AccountID: '210987654321', DefaultRegion: aws.region, AccessKeyID: aws.credentials.accessKeyId, SecretAccessKey: aws.credentials.secretAccessKey, RoleArn: roleArn });
    const definition = await client.kind('SecretDefinition').create({ Name: uniqueName('elsewhere'), AwsAccountID: other.ID, Data: { token: 'theirs' } });
    const instance = await client.kind('SecretInstance').create({ Name: 'elsewhere', SecretDefinitionID: definition.ID, WorkloadInstanceID: workload.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await reconciled('SecretInstance', instance.ID);
    const store = await kube.get({ apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', namespace, name: 'elsewhere' });
    expect((store?.spec as { provider: { aws: Record<string, unknown> } }).provider.aws).toMatchObject({ service: 'SecretsManager', region: aws.region, role: roleArn, externalID: other.ExternalId });
    await client.kind('SecretInstance').delete(instance.ID);
    await eventually('instance gone', async () => (await client.kind('SecretInstance').listAll({ secretdefinitionid: definition.ID })).length === 0);
    await client.kind('SecretDefinition').delete(definition.ID);
    await eventually('definition gone', async () => (await client.kind('SecretDefinition').listAll({ name: String(definition.Name) })).length === 0);
  });

  it('a Helm workload gets its Secret in the release namespace', LONG, async () => {
    const helmDefinition = await client.kind('HelmWorkloadDefinition').create({ Name: uniqueName('web'), Repo: testCharts.url, Chart: 'web', ChartVersion: '0.1.0', ValuesDocument: 'replicaCount: 1\n' });
    const release = await client.kind('HelmWorkloadInstance').create({ Name: uniqueName('web'), HelmWorkloadDefinitionID: helmDefinition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    const definition = await client.kind('SecretDefinition').create({ Name: uniqueName('chart-creds'), Data: { key: 'for-the-chart' } });
    // Created at once: it waits for the release's namespace.
    const instance = await client.kind('SecretInstance').create({ Name: 'chart-creds', SecretDefinitionID: definition.ID, HelmWorkloadInstanceID: release.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await reconciled('SecretInstance', instance.ID);
    const delivery = (await client.kind('SecretInstance').get(instance.ID)).Delivery as { Namespace: string };
    expect(delivery).toMatchObject({ Backend: 'direct', Workload: `HelmWorkloadInstance ${release.Name}` });
    expect(decoded(await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: delivery.Namespace, name: 'chart-creds' }))).toEqual({ key: 'for-the-chart' });
    await client.kind('SecretInstance').delete(instance.ID);
    await eventually('instance gone', async () => (await client.kind('SecretInstance').listAll({ secretdefinitionid: definition.ID })).length === 0);
    await client.kind('HelmWorkloadInstance').delete(release.ID);
    await eventually('release gone', async () => (await client.kind('HelmWorkloadInstance').listAll({ name: String(release.Name) })).length === 0, 120_000);
  });

  it('a secret of that name in Secrets Manager that threeport did not make is refused, never overwritten', LONG, async () => {
    const name = uniqueName('foreign');
    await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ theirs: 'keep' }) }));
    const definition = await client.kind('SecretDefinition').create({ Name: name, AwsAccountID: account.ID, Data: { ours: 'no' } });
    await eventually('refused', async () => /did not make/.test(String((await client.kind('SecretDefinition').get(definition.ID)).Status ?? '')) || String((await client.kind('SecretDefinition').get(definition.ID)).Status));
    expect(JSON.parse(String((await secretsManager.send(new GetSecretValueCommand({ SecretId: name }))).SecretString))).toEqual({ theirs: 'keep' });
    await client.kind('SecretDefinition').delete(definition.ID);
    await eventually('definition gone', async () => (await client.kind('SecretDefinition').listAll({ name })).length === 0);
    expect((await secretsManager.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate, 'someone else’s secret is not deleted either').toBeUndefined();
  });

  it('bad input is a 400 that changes nothing', async () => {
    const bad = async (body: Record<string, unknown>, message: RegExp) => {
      await expect(client.kind('SecretDefinition').create({ Name: uniqueName('bad'), ...body })).rejects.toThrow(message);
    };
    await bad({ Data: { port: 5432 } }, /Data\.port must be a string/);
    await bad({ Data: ['a'] }, /Data must be an object/);
    await bad({ Data: { 'not a key!': 'x' } }, /cannot name a key/);
    await bad({ Data: { a: 'b' }, RecoveryWindowDays: 3 }, /7 to 30/);
    await bad({ Data: { a: 'b' }, Backend: 'vault' }, /not supported; valid values: direct, aws-secrets-manager/);
    const definition = await client.kind('SecretDefinition').create({ Name: uniqueName('ok'), Data: { a: 'b' } });
    await expect(client.kind('SecretInstance').create({ Name: 'Not_A_Name', SecretDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID, WorkloadInstanceID: 1 })).rejects.toThrow(/not one/);
    await expect(client.kind('SecretInstance').create({ Name: 'x', SecretDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID })).rejects.toThrow(/WorkloadInstanceID or HelmWorkloadInstanceID/);
    expect(await client.kind('SecretInstance').listAll({ secretdefinitionid: definition.ID })).toHaveLength(0);
  });
});
