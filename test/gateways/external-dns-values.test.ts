/**
 * external-dns as threeport configures it, rendered by the real helm from the real chart (the
 * shared chart repository): with the account's keys from a Secret in the cluster, or — on an EKS
 * cluster threeport made — with the role made for it, assumed through the cluster's OIDC
 * provider, and no keys anywhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { commonValues, externalDnsValues } from '../../src/controllers/support-services/service-values.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import { layered, parseValues } from '../../src/platform/helm/index.ts';
import { run } from '../../src/local-runtime/run-command.ts';
import { sharedChartsDir } from '../../src/testbed/chart-server.ts';
import { toolPath } from '../support/peers.ts';

const ROLE = 'arn:aws:iam::123456789012:role/prod-external-dns';

describe('external-dns values', () => {
  const work = mkdtempSync(join(tmpdir(), 'threeport-external-dns-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function render(values: ReturnType<typeof externalDnsValues>): Promise<Manifest[]> {
    const file = join(work, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(layered(parseValues(commonValues['external-dns'], 'the common values'), values)));
    const { stdout } = await run(toolPath('helm'), ['template', 'external-dns', join(sharedChartsDir(), 'external-dns-1.21.1.tgz'), '--namespace', 'threeport-external-dns', '-f', file], {
      env: { ...process.env, HELM_CONFIG_HOME: join(work, 'config'), HELM_CACHE_HOME: join(work, 'cache'), HELM_DATA_HOME: join(work, 'data') },
    });
    return parseAllDocuments(stdout).map((document) => document.toJSON() as Manifest).filter(Boolean);
  }
  const settings = { zones: [{ domain: 'example.com', zoneId: 'Z1' }], ownerId: 'threeport-x-1', region: 'us-east-1' };
  const envOf = (manifests: Manifest[]) =>
    ((manifests.find((manifest) => manifest.kind === 'Deployment')?.spec as { template: { spec: { containers: { env?: { name: string }[] }[] } } }).template.spec.containers[0]!.env ?? []).map((variable) => variable.name);

  it('with the account’s keys: read from the Secret threeport writes, no role annotation', async () => {
    const manifests = await render(externalDnsValues(settings));
    expect(envOf(manifests)).toEqual(expect.arrayContaining(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_DEFAULT_REGION']));
    expect(manifests.find((manifest) => manifest.kind === 'ServiceAccount')?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
  });

  it('on an EKS cluster threeport made: its service account assumes the role, and no keys go in', async () => {
    const manifests = await render(externalDnsValues({ ...settings, workloadRole: ROLE, role: { arn: 'arn:aws:iam::123456789012:role/manager' } }));
    expect(manifests.find((manifest) => manifest.kind === 'ServiceAccount')?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(ROLE);
    expect(envOf(manifests)).not.toContain('AWS_ACCESS_KEY_ID');
    expect(JSON.stringify(manifests)).not.toContain('--aws-assume-role');
  });
});
