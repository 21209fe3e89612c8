/** What other controllers add to a workload's own resources, as the workload controller renders it. */
import { describe, expect, it } from 'vitest';
import { applyContributions, conflictingContributor, includesContribution, type Contribution } from '../../src/controllers/shared/contributions.ts';
import type { Manifest } from '../../src/model/manifest.ts';

const deployment = (): Manifest => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        initContainers: [{ name: 'migrate', image: 'busybox' }],
        containers: [
          { name: 'web', image: 'nginx', env: [{ name: 'MODE', value: 'web' }, { name: 'BUCKET', value: 'old' }] },
          { name: 'worker', image: 'busybox' },
        ],
      },
    },
  },
});
const cronJob = (): Manifest => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' }, spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: 'busybox' }] } } } } } });
const account = (): Manifest => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'uploader' } });

const bucket: Contribution = { description: 'bucket a', env: [{ name: 'BUCKET', value: 'a' }], serviceAccountAnnotations: { uploader: { 'eks.amazonaws.com/role-arn': 'arn:role' } } };
const media: Contribution = { description: 'bucket b', env: [{ name: 'MEDIA', value: 'b' }] };

const envOf = (manifest: Manifest, container: number) => (manifest.spec as { template: { spec: { containers: { env?: unknown[] }[] } } }).template.spec.containers[container]!.env;

describe('contributions to a workload’s resources', () => {
  it('sets a variable on every container and init container, replacing one of the same name where it is', () => {
    const rendered = applyContributions(deployment(), { a: bucket });
    expect(envOf(rendered, 0)).toEqual([{ name: 'MODE', value: 'web' }, { name: 'BUCKET', value: 'a' }]);
    expect(envOf(rendered, 1)).toEqual([{ name: 'BUCKET', value: 'a' }]);
    expect((rendered.spec as { template: { spec: { initContainers: { env?: unknown[] }[] } } }).template.spec.initContainers[0]!.env).toEqual([{ name: 'BUCKET', value: 'a' }]);
  });

  it('renders the same whatever order the parts were written in, and applying a part again changes nothing', () => {
    const one = applyContributions(deployment(), { a: bucket, b: media });
    const other = applyContributions(deployment(), { b: media, a: bucket });
    expect(one).toEqual(other);
    expect(includesContribution(one, bucket)).toBe(true);
    expect(includesContribution(one, media)).toBe(true);
    expect(includesContribution(deployment(), media)).toBe(false);
  });

  it('annotates only the service account named; leaves resources a part has nothing for as they are (the same object)', () => {
    expect(applyContributions(account(), { a: bucket }).metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:role' });
    const other = { ...account(), metadata: { name: 'other' } };
    expect(applyContributions(other, { a: bucket })).toBe(other);
    const config: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    expect(applyContributions(config, { a: bucket, b: media })).toBe(config);
  });

  it('names the contributor that already sets a variable: a container has one value per name', () => {
    expect(conflictingContributor({ a: bucket }, 'b', { description: 'another', env: [{ name: 'BUCKET', value: 'x' }] })).toEqual({ key: 'a', name: 'BUCKET' });
    expect(conflictingContributor({ a: bucket }, 'a', bucket)).toBeUndefined();
    expect(conflictingContributor({ a: bucket }, 'b', media)).toBeUndefined();
  });

  it('reaches pod templates of every workload kind, CronJobs’ included', () => {
    const rendered = applyContributions(cronJob(), { b: media });
    expect(JSON.stringify(rendered)).toContain('"MEDIA"');
  });
});
