/**
 * Every kind through the real tptctl: the sample configs (equivalents of the original's, side files
 * included) through create → get (table, json, yaml) → describe → apply → delete, against the
 * embedded control plane (`tptctl up`) and against PostgreSQL + NATS.
 */
import { isDeepStrictEqual } from 'node:util';
import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ApiClient } from '../../src/client/api-client.ts';
import { registry } from '../../src/model/registry.ts';
import { kebabCase } from '../../src/model/naming.ts';
import { freePort } from '../../src/local-runtime/ports.ts';
import { startApi } from '../support/control-plane.ts';
import { startNats } from '../support/peers.ts';
import { confirmDeletions } from './controller-stand-in.ts';
import { ensureBundle, samplesDir, Tptctl } from './support.ts';

/** Sample file → the type it creates and its name, in creation order (later ones reference earlier ones). */
const samples: [file: string, type: string, name: string][] = [
  ['kubernetes-runtime.yaml', 'KubernetesRuntime', 'local-runtime'],
  ['aws-account.yaml', 'AwsAccount', 'default-account'],
  ['workload-definition.yaml', 'WorkloadDefinition', 'wordpress'],
  ['workload-instance.yaml', 'WorkloadInstance', 'wordpress-01'],
  ['workload.yaml', 'Workload', 'blog'],
  ['helm-workload-definition.yaml', 'HelmWorkloadDefinition', 'wordpress-chart'],
  ['helm-workload-instance.yaml', 'HelmWorkloadInstance', 'wordpress-chart-dev'],
  ['helm-workload.yaml', 'HelmWorkload', 'wordpress-helm'],
  ['gateway.yaml', 'Gateway', 'web-gateway'],
  ['domain-name.yaml', 'DomainName', 'other-domain'],
  ['aws-relational-database.yaml', 'AwsRelationalDatabase', 'app-db'],
  ['aws-object-storage-bucket.yaml', 'AwsObjectStorageBucket', 'app-bucket'],
  ['aws-eks-kubernetes-runtime.yaml', 'AwsEksKubernetesRuntime', 'eks-runtime'],
  ['secret.yaml', 'Secret', 'app-secret'],
  ['observability-stack.yaml', 'ObservabilityStack', 'observability'],
  ['terraform.yaml', 'Terraform', 's3-terraform'],
  ['control-plane.yaml', 'ControlPlane', 'child-cp'],
];

const human = (type: string): string => kebabCase(type).replaceAll('-', ' ');
const abstractionParts: Record<string, readonly string[]> = {
  KubernetesRuntime: ['KubernetesRuntimeDefinition', 'KubernetesRuntimeInstance'],
  // The original's nested configs go to the server as one Application, which makes their objects.
  Workload: ['Application'],
  HelmWorkload: ['Application'],
  Gateway: ['GatewayDefinition', 'GatewayInstance'],
  DomainName: ['DomainNameDefinition', 'DomainNameInstance'],
  AwsRelationalDatabase: ['AwsRelationalDatabaseDefinition', 'AwsRelationalDatabaseInstance'],
  AwsObjectStorageBucket: ['AwsObjectStorageBucketDefinition', 'AwsObjectStorageBucketInstance'],
  AwsEksKubernetesRuntime: ['AwsEksKubernetesRuntimeDefinition', 'AwsEksKubernetesRuntimeInstance'],
  Secret: ['SecretDefinition', 'SecretInstance'],
  ObservabilityStack: ['ObservabilityStackDefinition', 'ObservabilityStackInstance'],
  Terraform: ['TerraformDefinition', 'TerraformInstance'],
  ControlPlane: ['ControlPlaneDefinition', 'ControlPlaneInstance'],
};

/** Every concrete kind a sample creates, with the object name. */
const createdKinds = samples.flatMap(([, type, name]) => (abstractionParts[type] ?? [type]).map((kind) => [kind, name] as const));

interface Backend {
  name: string;
  /** Its controllers reconcile what they can (the embedded control plane runs them; the API-only one does not). */
  controllers: boolean;
  setUp(tptctl: Tptctl): Promise<ApiClient>;
  /** Stops what setUp started (registered at collection time: a hook added inside a hook never runs). */
  tearDown?(tptctl: Tptctl): Promise<unknown>;
}

const backends: Backend[] = [
  {
    name: 'embedded (tptctl up)',
    controllers: true,
    async setUp(tptctl) {
      const port = await freePort();
      const out = await tptctl.ok(['up', '--name', 'cli-test', '--listen', `127.0.0.1:${port}`], { timeoutMs: 120_000 });
      expect(out).toContain('Complete: Threeport control plane cli-test created');
      return new ApiClient({ baseUrl: `http://127.0.0.1:${port}` });
    },
    tearDown: (tptctl) => tptctl.run(['down', '--name', 'cli-test']),
  },
  {
    name: 'PostgreSQL + NATS',
    controllers: false,
    async setUp(tptctl) {
      const nats = await startNats();
      const api = await startApi({ database: 'postgres', natsUrl: nats.url });
      tptctl.useControlPlane('pg-nats', api.url, api.encryptionKey);
      return api.client;
    },
  },
];

describe.each(backends)('tptctl against $name', (backend) => {
  const tptctl = new Tptctl();
  let client: ApiClient;

  beforeAll(async () => {
    await ensureBundle();
    client = await backend.setUp(tptctl);
  }, 180_000);
  afterAll(() => backend.tearDown?.(tptctl), 60_000);

  it('creates every sample config', async () => {
    for (const [file, type, name] of samples) {
      const out = await tptctl.ok(['create', kebabCase(type), '--config', join(samplesDir, file)]);
      expect(out).toContain(`Complete: ${human(type)} ${name} created`);
      if (abstractionParts[type]) {
        for (const part of abstractionParts[type]) expect(out).toContain(`Info: ${human(part)} ${name} created`);
      }
    }
    // Side files were read relative to the config file.
    const definition = await client.kind('WorkloadDefinition').findByName('wordpress');
    expect(definition?.YAMLDocument).toBe(readFileSync(join(samplesDir, 'wordpress-manifest.yaml'), 'utf8'));
    const terraform = await client.kind('TerraformDefinition').findByName('s3-terraform');
    expect(terraform?.ConfigDir).toContain('resource "aws_s3_bucket" "example"');
  });

  it('lists every kind as a table, JSON and YAML', async () => {
    for (const [kind, name] of createdKinds) {
      const plural = registry.get(kind).plural;
      const table = await tptctl.ok(['get', plural]);
      expect(table.split('\n')[0]).toMatch(/^NAME\s/);
      expect(table).toContain(name);
      const json = JSON.parse(await tptctl.ok(['get', plural, '-o', 'json'])) as { Name: string }[];
      expect(json.map((object) => object.Name)).toContain(name);
      const yaml = parse(await tptctl.ok(['get', plural, '-o', 'yaml'])) as { Name: string }[];
      expect(yaml.map((object) => object.Name)).toContain(name);
    }
    const workloads = await tptctl.ok(['get', 'workloads']);
    expect(workloads.split('\n')[0]).toMatch(/^VERSION\s+NAME\s+WORKLOAD DEFINITION\s+WORKLOAD INSTANCE\s+KUBERNETES RUNTIME INSTANCE\s+STATUS\s+AGE$/);
    if (backend.controllers) {
      // The application makes the workload; the sample runtime has no connection details: its controller waits for them, and the workload for it.
      await expect
        .poll(() => tptctl.ok(['get', 'workloads']), { timeout: 30_000, interval: 500 })
        .toMatch(/v0\s+blog\s+blog\s+blog\s+local-runtime\s+Waiting: Kubernetes runtime local-runtime is not ready yet \(Waiting: no connection details yet.*\s+\d+s/);
      await expect.poll(() => tptctl.ok(['get', 'gateway-definitions']), { timeout: 30_000, interval: 500 }).toMatch(/blog-gateway\s+80\/http \(redirect\), 443\/https\s+blog/);
    } else {
      // No controller: the application is stored, nothing made from it yet.
      expect(await tptctl.ok(['get', 'applications'])).toMatch(/blog\s+Reconciling\s+\d+s/);
    }
    const runtimes = await tptctl.ok(['get', 'kubernetes-runtime-instances']);
    expect(runtimes).toMatch(/eks-runtime\s+eks-runtime\s+NorthAmerica:Chicago\s+false\s+eks/);
  });

  it('describes every definition and instance, with secrets redacted', async () => {
    for (const [kind, name] of createdKinds) {
      const command = kebabCase(kind);
      const json = JSON.parse(await tptctl.ok(['describe', command, '-n', name, '-o', 'json'])) as Record<string, unknown>;
      const plain = await tptctl.ok(['describe', command, '--name', name]);
      expect(plain).toContain(`* ${kind} Name: ${name}`);
      if (registry.get(kind).controller) {
        // The status word of its Status line where a controller wrote conditions, else the original's word.
        const label = kind === 'WorkloadInstance' ? 'Workload' : kind;
        const shown = (object: Record<string, unknown>): string =>
          `* ${label} Status: ${Array.isArray(object.Conditions) && object.Conditions.length > 0 && typeof object.Status === 'string' ? object.Status.split(': ')[0] : 'Reconciling'}\n`;
        if (!backend.controllers) expect(plain).toContain(`* ${label} Status: Reconciling\n`);
        else if (!plain.includes(shown(json))) {
          // A controller changed it between the two reads: read both again until they agree.
          await expect
            .poll(async () => (await tptctl.ok(['describe', command, '--name', name])).includes(shown(JSON.parse(await tptctl.ok(['describe', command, '-n', name, '-o', 'json'])) as Record<string, unknown>)), { timeout: 10_000 })
            .toBe(true);
        }
      }
      expect(json.Name).toBe(name);
      // The same object either way: read both again while a controller changes it between the two.
      const sameBothWays = async (): Promise<boolean> => isDeepStrictEqual(parse(await tptctl.ok(['describe', command, '-n', name, '-o', 'yaml'])), JSON.parse(await tptctl.ok(['describe', command, '-n', name, '-o', 'json'])));
      if (!isDeepStrictEqual(parse(await tptctl.ok(['describe', command, '-n', name, '-o', 'yaml'])), json)) await expect.poll(sameBothWays, { timeout: 10_000 }).toBe(true);
    }
    const account = JSON.parse(await tptctl.ok(['describe', 'aws-account', '-n', 'default-account', '-o', 'json'])) as Record<string, unknown>;
    expect(account.SecretAccessKey).toBe('[encrypted value redacted]');
    expect(JSON.stringify(account)).not.toContain('very-secret-key');
    // The config holds the control plane's key, so -f shows the value to its owner.
    expect((await tptctl.ok(['describe', 'aws-account', '-n', 'default-account', '-f', 'SecretAccessKey'])).trim()).toBe('very-secret-key');
    const definition = await tptctl.ok(['describe', 'workload-definition', '-n', 'wordpress']);
    expect(definition).toContain('* Derived WorkloadInstances:\n  * wordpress-01');
    expect(await tptctl.ok(['describe', 'workload-instance', '-n', 'wordpress-01'])).toContain('* Associated WorkloadDefinition: wordpress');
  });

  it('applies: everything unchanged, then only the edited fields updated', async () => {
    const files = samples.map(([file]) => join(samplesDir, file));
    const unchanged = await tptctl.ok(['apply', ...files.flatMap((file) => ['-f', file])]);
    const lines = unchanged.trim().split('\n');
    // Plus the EKS runtime's Kubernetes runtime pair.
    expect(lines).toHaveLength(createdKinds.length + 2);
    expect(lines.filter((line) => !line.endsWith(' unchanged'))).toEqual([]);

    const edited = join(tptctl.dir, 'edited');
    cpSync(samplesDir, edited, { recursive: true });
    const workload = readFileSync(join(edited, 'workload.yaml'), 'utf8').replace('SubDomain: blog', 'SubDomain: www');
    writeFileSync(join(edited, 'workload.yaml'), workload);
    writeFileSync(join(edited, 'aws-account.yaml'), readFileSync(join(edited, 'aws-account.yaml'), 'utf8').replace('very-secret-key', 'rotated-key'));
    writeFileSync(join(edited, 'values.yaml'), 'replicaCount: 3\n');
    copyFileSync(join(edited, 'helm-workload-definition.yaml'), join(edited, 'helm.yaml'));

    const args = ['apply', '-f', join(edited, 'workload.yaml'), '-f', join(edited, 'aws-account.yaml'), '-f', join(edited, 'helm.yaml')];
    const dryRun = await tptctl.ok([...args, '--dry-run']);
    expect(dryRun).toContain('application blog updated (Gateway) (dry run)');
    const before = await client.kind('Application').findByName('blog');
    expect((before?.Gateway as { SubDomain: string }).SubDomain).toBe('blog');

    const applied = await tptctl.ok(args);
    expect(applied).toContain('application blog updated (Gateway)');
    expect(applied).toContain('aws account default-account updated (SecretAccessKey)');
    expect(applied).toContain('helm workload definition wordpress-chart updated (ValuesDocument)');
    const application = await client.kind('Application').findByName('blog');
    expect((application?.Gateway as { SubDomain: string }).SubDomain).toBe('www');
    // A new generation for the application controller, which (running here) writes the gateway definition again.
    expect(application?.Generation).toBe(Number(before?.Generation) + 1);
    if (backend.controllers) await expect.poll(async () => (await client.kind('GatewayDefinition').findByName('blog-gateway'))?.SubDomain, { timeout: 30_000 }).toBe('www');
    expect((await tptctl.ok(['describe', 'aws-account', '-n', 'default-account', '-f', 'SecretAccessKey'])).trim()).toBe('rotated-key');
    expect(await tptctl.ok(args)).not.toContain('updated');
  });

  it('deletes every sample (a stand-in controller confirms the scheduled deletions)', async () => {
    // Where controllers run, an application removes its parts itself (the stand-in confirms theirs: nothing reaches AWS here).
    const controller = confirmDeletions(client, { except: backend.controllers ? ['Application'] : [] });
    try {
      for (const [file, type, name] of [...samples].reverse()) {
        const byConfig = abstractionParts[type] || type === 'WorkloadInstance';
        // --wait: the next sample (a definition) can only go once its instances are gone.
        const args = byConfig ? ['delete', kebabCase(type), '--config', join(samplesDir, file)] : ['delete', kebabCase(type), '--name', name];
        const out = await tptctl.ok([...args, '--wait', '--timeout', '30s']);
        expect(out).toMatch(new RegExp(`Complete: ${human(type)} ${name} (deleted|scheduled for deletion)`));
      }
      for (const [kind, name] of createdKinds) {
        await expect.poll(() => client.kind(kind).findByName(name), { timeout: 10_000 }).toBeUndefined();
      }
      expect(await tptctl.ok(['get', 'workloads'])).toContain('Info: No workloads currently managed by');
    } finally {
      await controller.stop();
    }
  });
});
