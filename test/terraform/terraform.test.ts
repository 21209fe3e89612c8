/**
 * Terraform instances with the real terraform binary and a real provider (the test bed's fixture:
 * fixture_file writes a file) from a filesystem mirror: apply, a changed variable applied again, an
 * edited configuration applied again, the outputs delivered to a workload on test-bed cluster a as
 * a Secret, state and outputs kept encrypted in the control plane, a configuration error said in
 * terraform's words, destroy on delete.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { Terraform } from '../../src/platform/terraform/index.ts';
import { eventually } from '../support/eventually.ts';
import { terraformFixture } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from '../workloads/support/manifests.ts';
import { namespaceOf, startWorkloadPlane } from '../workloads/support/workload-plane.ts';

const LONG = { timeout: 120_000 };

const configuration = (dir: string, extra = '') => `
terraform {
  required_providers {
    fixture = { source = "threeport/fixture" }
  }
}
variable "greeting" { type = string }
variable "name" { type = string }
resource "fixture_file" "greeting" {
  path    = "${dir}/\${var.name}.txt"
  content = "\${var.greeting}, \${var.name}"
}
output "path" { value = fixture_file.greeting.path }
output "digest" { value = fixture_file.greeting.sha256 }
output "settings" {
  value     = { name = var.name, greeting = var.greeting }
  sensitive = true
}
${extra}
`;


describe('terraform instances', async () => {
  const fixture = await terraformFixture();
  const work = mkdtempSync(join(tmpdir(), 'threeport-terraform-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const files = join(work, 'files');
  const terraform = new Terraform({ binary: fixture.terraform, home: join(work, 'home'), providerMirror: fixture.providerMirror });
  const plane = await startWorkloadPlane({ database: 'pglite', auth: true, groups: ['workload', 'kubernetes-runtime', 'terraform'], settings: { terraform: () => Promise.resolve(terraform) } });
  const { client } = plane;
  const cipher = FieldCipher.fromBase64(plane.api.encryptionKey);
  const runtime = await plane.registerCluster('a');
  const kube = await plane.kube('a');
  const account = await client.kind('AwsAccount').create({ Name: uniqueName('account'), AccountID: '123456789012', DefaultRegion: 'us-east-1', AccessKeyID: 'testing', SecretAccessKey: 'testing' });
  const name = uniqueName('app');
  const { instance: workload } = await plane.deploy(name, web({ name }), runtime.ID);
  await plane.waitForStatus(workload.ID, 'Healthy');
  const namespace = await namespaceOf(client, workload.ID);

  const statusOf = async (id: number) => String((await client.kind('TerraformInstance').get(id)).Status ?? '');
  const secretData = async () => {
    const live = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: 'infra' });
    return live ? Object.fromEntries(Object.entries((live.data ?? {}) as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()])) : undefined;
  };
  let definition: { ID: number };
  let instance: { ID: number };

  it('applies the configuration with its variables; state and outputs kept encrypted; outputs delivered to the workload as a Secret', LONG, async () => {
    definition = await client.kind('TerraformDefinition').create({ Name: uniqueName('files'), ConfigDir: configuration(files) });
    instance = await client.kind('TerraformInstance').create({
      Name: uniqueName('files'),
      TerraformDefinitionID: definition.ID,
      AwsAccountID: account.ID,
      VarsDocument: 'greeting = "hello"\nname = "one"\n',
      WorkloadInstanceID: workload.ID,
      WorkloadSecretName: 'infra',
    });
    await eventually('applied', async () => (await statusOf(instance.ID)).startsWith('Applied') || statusOf(instance.ID), 90_000, 200);
    expect(readFileSync(join(files, 'one.txt'), 'utf8')).toBe('hello, one');
    expect(await statusOf(instance.ID)).toBe(`Applied: 1 resource(s) in its state; outputs digest, path, settings; delivered as Secret ${namespace}/infra`);

    const stored = await client.kind('TerraformInstance').get(instance.ID);
    expect(String(stored.StateDocument)).not.toContain('fixture_file');
    const state = JSON.parse(cipher.decrypt(String(stored.StateDocument))) as { resources: { type: string }[] };
    expect(state.resources.map((resource) => resource.type)).toEqual(['fixture_file']);
    const outputs = JSON.parse(cipher.decrypt(String(stored.Outputs))) as Record<string, { value: unknown; sensitive: boolean }>;
    expect(outputs.path).toMatchObject({ value: join(files, 'one.txt'), sensitive: false });
    expect(outputs.settings).toMatchObject({ value: { name: 'one', greeting: 'hello' }, sensitive: true });

    expect(await secretData()).toEqual({ path: join(files, 'one.txt'), digest: outputs.digest!.value, settings: JSON.stringify({ greeting: 'hello', name: 'one' }) });
  });

  it('a changed variable is applied again, and the Secret follows', LONG, async () => {
    await client.kind('TerraformInstance').update(instance.ID, { VarsDocument: 'greeting = "bonjour"\nname = "one"\n' });
    await eventually('file rewritten', () => readFileSync(join(files, 'one.txt'), 'utf8') === 'bonjour, one', 60_000, 200);
    await eventually('Secret updated', async () => (await secretData())?.settings === JSON.stringify({ greeting: 'bonjour', name: 'one' }), 60_000, 200);
  });

  it('an edited configuration is applied again', LONG, async () => {
    await client.kind('TerraformDefinition').update(definition.ID, { ConfigDir: configuration(files, `resource "fixture_file" "extra" {\n  path    = "${files}/extra.txt"\n  content = "more"\n}\n`) });
    await eventually('second file', () => existsSync(join(files, 'extra.txt')), 60_000, 200);
    await eventually('two resources', async () => (await statusOf(instance.ID)).startsWith('Applied: 2 resource(s)') || statusOf(instance.ID), 60_000, 200);
  });

  it('a configuration error is said in terraform’s words, and nothing changes', LONG, async () => {
    const broken = await client.kind('TerraformDefinition').create({ Name: uniqueName('broken'), ConfigDir: 'terraform {\n  required_providers {\n    fixture = { source = "threeport/fixture" }\n  }\n}\nresource "fixture_file" "x" {\n  path = "/tmp/never"\n  colour = "blue"\n}\n' });
    const failing = await client.kind('TerraformInstance').create({ Name: uniqueName('broken'), TerraformDefinitionID: broken.ID, AwsAccountID: account.ID });
    await eventually('failed', async () => (await statusOf(failing.ID)).startsWith('Failed') || statusOf(failing.ID), 60_000, 200);
    expect(await statusOf(failing.ID)).toMatch(/^Failed: terraform (init|apply) failed: .*(Unsupported argument|Missing required argument)/);
    expect(existsSync('/tmp/never')).toBe(false);
    await client.kind('TerraformInstance').delete(failing.ID);
  });

  it('deleting the instance destroys what it made and removes the Secret', LONG, async () => {
    await client.kind('TerraformInstance').delete(instance.ID);
    await eventually('instance gone', async () => client.kind('TerraformInstance').get(instance.ID).then(() => false, () => true), 60_000, 200);
    expect(existsSync(join(files, 'one.txt'))).toBe(false);
    expect(existsSync(join(files, 'extra.txt'))).toBe(false);
    expect(await secretData()).toBeUndefined();
  });
});
