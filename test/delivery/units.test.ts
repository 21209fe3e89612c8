/** The pure parts of delivery: image references, pins in manifests and chart values, merge patches, gate windows. */
import { describe, expect, it } from 'vitest';
import { canonicalRepository, parseImageReference, pinnedValuesOverlay, repositoriesInManifest, repositoriesInValues, withPinnedImages } from '../../src/model/container-images.ts';
import { parseEnvironments, windowState } from '../../src/model/delivery-policy.ts';
import { applyMergePatch } from '../../src/model/merge-patch.ts';
import { customizedManifests } from '../../src/controllers/workload/instance-customizations.ts';
import type { Manifest } from '../../src/model/manifest.ts';

const deployment = (image: string, init?: string): Manifest => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image }, { name: 'side', image: 'envoyproxy/envoy:v1.31' }], ...(init && { initContainers: [{ name: 'init', image: init }] }) } } },
});

describe('image references', () => {
  it('split into repository, tag and digest, a registry port not taken for a tag', () => {
    expect(parseImageReference('localhost:5000/shop:1.2@sha256:abc')).toEqual({ repository: 'localhost:5000/shop', tag: '1.2', digest: 'sha256:abc' });
    expect(parseImageReference('localhost:5000/shop')).toEqual({ repository: 'localhost:5000/shop' });
    expect(parseImageReference('nginx@sha256:abc')).toEqual({ repository: 'nginx', digest: 'sha256:abc' });
  });

  it('compare as container runtimes do: nginx, docker.io/nginx and docker.io/library/nginx are one repository', () => {
    expect(new Set(['nginx', 'docker.io/nginx', 'docker.io/library/nginx', 'index.docker.io/library/nginx'].map(canonicalRepository))).toEqual(new Set(['docker.io/library/nginx']));
    expect(canonicalRepository('bitnami/wordpress')).toBe('docker.io/bitnami/wordpress');
    expect(canonicalRepository('ghcr.io/acme/shop')).toBe('ghcr.io/acme/shop');
  });

  it('are found in every container of a pod template, and pinned there without touching other repositories', () => {
    const manifest = deployment('ghcr.io/acme/shop:1.0', 'ghcr.io/acme/shop:1.0');
    expect(repositoriesInManifest(manifest).sort()).toEqual(['docker.io/envoyproxy/envoy', 'ghcr.io/acme/shop']);
    const pinned = withPinnedImages(manifest, { 'ghcr.io/acme/shop': 'ghcr.io/acme/shop:1.1@sha256:d1' });
    const spec = (pinned.spec as { template: { spec: { containers: { image: string }[]; initContainers: { image: string }[] } } }).template.spec;
    expect(spec.containers.map((container) => container.image)).toEqual(['ghcr.io/acme/shop:1.1@sha256:d1', 'envoyproxy/envoy:v1.31']);
    expect(spec.initContainers[0]!.image).toBe('ghcr.io/acme/shop:1.1@sha256:d1');
    expect(withPinnedImages(manifest, { 'ghcr.io/other/x': 'ghcr.io/other/x:2' })).toBe(manifest); // unchanged: the same object
    expect(repositoriesInManifest({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: 'busybox' }] } } } } } })).toEqual([
      'docker.io/library/busybox',
    ]);
  });

  it('in chart values, by the repository (and registry) convention; pinned as tag@digest', () => {
    const values = { image: { registry: 'docker.io', repository: 'bitnami/wordpress', tag: '6.8' }, metrics: { image: { repository: 'bitnami/apache-exporter' } } };
    expect(repositoriesInValues(values).sort()).toEqual(['docker.io/bitnami/apache-exporter', 'docker.io/bitnami/wordpress']);
    expect(pinnedValuesOverlay(values, { 'docker.io/bitnami/wordpress': 'docker.io/bitnami/wordpress:6.9@sha256:d2' })).toEqual({ image: { tag: '6.9@sha256:d2' } });
  });
});

describe('instance customizations', () => {
  it('a JSON merge patch per resource by Kind/name, then the pins; an override naming nothing is an error that lists what there is', () => {
    const [patched] = customizedManifests([deployment('ghcr.io/acme/shop:1.0')], { Overrides: { 'Deployment/web': { spec: { replicas: 3 }, metadata: { labels: { tier: 'prod' } } } }, Images: { 'ghcr.io/acme/shop': 'ghcr.io/acme/shop:2@sha256:x' } });
    expect(patched).toMatchObject({ metadata: { name: 'web', labels: { tier: 'prod' } }, spec: { replicas: 3, template: { spec: { containers: [{ image: 'ghcr.io/acme/shop:2@sha256:x' }, { image: 'envoyproxy/envoy:v1.31' }] } } } });
    expect(() => customizedManifests([deployment('x')], { Overrides: { 'Deployment/api': { spec: {} } } })).toThrow(/Deployment\/api, which the definition does not have \(it has Deployment\/web\)/);
    expect(applyMergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { b: { c: null, f: 4 }, e: [2] })).toEqual({ a: 1, b: { d: 3, f: 4 }, e: [2] });
  });
});

describe('gates', () => {
  it('a time window: open inside, closed outside with the next opening, past midnight and by day', () => {
    const weekdays = { Days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri')[], Start: '09:00', End: '17:00' };
    expect(windowState(weekdays, new Date('2026-12-07T10:00:00Z'))).toEqual({ open: true }); // a Monday
    expect(windowState(weekdays, new Date('2026-12-05T10:00:00Z'))).toEqual({ open: false, opensAt: new Date('2026-12-07T09:00:00Z') }); // Saturday → Monday
    const night = { Start: '22:00', End: '02:00' };
    expect(windowState(night, new Date('2026-12-07T01:30:00Z'))).toEqual({ open: true });
    expect(windowState(night, new Date('2026-12-07T03:00:00Z'))).toEqual({ open: false, opensAt: new Date('2026-12-07T22:00:00Z') });
  });

  it('environments are checked when the policy is written', () => {
    expect(parseEnvironments([])).toEqual({ problem: expect.stringContaining('non-empty') });
    expect(parseEnvironments([{ Name: 'dev', Gate: { SoakSeconds: -1 } }])).toEqual({ problem: expect.stringContaining('SoakSeconds') });
    expect(parseEnvironments([{ Name: 'dev', Gate: { Approval: true, Wait: 1 } }])).toEqual({ problem: expect.stringContaining('unknown field(s) Wait') });
    expect(parseEnvironments([{ Name: 'dev' }, { Name: 'dev' }])).toEqual({ problem: 'environment dev is listed twice' });
    expect(parseEnvironments([{ Name: 'dev', WorkloadInstances: ['a'], Gate: { Window: { Days: ['Mon'], Start: '09:00', End: '10:00' } } }])).toHaveLength(1);
  });
});
