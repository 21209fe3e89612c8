/** `threeport controller` flags and environment, resolved and checked before anything starts. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveControllerConfig } from '../../src/control-plane/controllers.ts';
import { helmProvider } from '../../src/control-plane/helm.ts';
import { ConfigError } from '../../src/control-plane/config.ts';

const key = Buffer.alloc(32, 7).toString('base64');
const nats = { natsUrl: 'nats://127.0.0.1:4222', encryptionKey: key };

describe('controller configuration', () => {
  it('agents: no image unless one is given (the controllers run them then), and the API URL they use', () => {
    const plain = resolveControllerConfig(['workload'], { ...nats, apiUrl: 'http://threeport-api:1323' }, {});
    expect(plain.agentImage).toBeUndefined();
    expect(plain.agentApiUrl).toBe('http://threeport-api:1323');
    const configured = resolveControllerConfig(['all'], nats, { THREEPORT_AGENT_IMAGE: 'registry.example.com/threeport:v1', THREEPORT_AGENT_API_URL: 'https://threeport.example.com' });
    expect(configured).toMatchObject({ agentImage: 'registry.example.com/threeport:v1', agentApiUrl: 'https://threeport.example.com' });
  });

  it('without the API’s encryption key they do not start: every group reads encrypted credentials', () => {
    expect(() => resolveControllerConfig(['workload'], { natsUrl: nats.natsUrl }, {})).toThrow(/need the API's encryption key.*--encryption-key/);
    expect(() => resolveControllerConfig(['workload'], { ...nats, encryptionKey: 'c2hvcnQ=' }, {})).toThrow(ConfigError);
    expect(resolveControllerConfig(['workload'], { natsUrl: nats.natsUrl }, { ENCRYPTION_KEY: key }).encryptionKey).toBe(key);
  });

  it('a bad agent API URL is refused, naming the flag’s value', () => {
    expect(() => resolveControllerConfig(['workload'], { ...nats, agentApiUrl: 'threeport:1323' }, {})).toThrow(ConfigError);
    expect(() => resolveControllerConfig(['workload'], { ...nats, agentApiUrl: 'threeport:1323' }, {})).toThrow('invalid agent API URL "threeport:1323"');
  });

  it('the drift interval: the default unless given, in seconds, and a bad one refused before anything starts', () => {
    expect(resolveControllerConfig(['workload'], nats, {}).driftIntervalMs).toBeUndefined();
    expect(resolveControllerConfig(['workload'], { ...nats, driftInterval: '300s' }, {}).driftIntervalMs).toBe(300_000);
    expect(resolveControllerConfig(['workload'], nats, { THREEPORT_DRIFT_INTERVAL: '30' }).driftIntervalMs).toBe(30_000);
    expect(() => resolveControllerConfig(['workload'], { ...nats, driftInterval: '5m' }, {})).toThrow('invalid drift interval "5m": seconds from 10 to 86400');
    expect(() => resolveControllerConfig(['workload'], { ...nats, driftInterval: '1' }, {})).toThrow(ConfigError);
  });

  it('the chart mirror: from the flag or THREEPORT_CHART_MIRROR, and one helm could not fetch from refused at start', () => {
    expect(resolveControllerConfig(['helm-workload'], nats, {}).chartMirror).toBeUndefined();
    expect(resolveControllerConfig(['helm-workload'], { ...nats, chartMirror: 'oci://mirror.internal/charts/' }, {}).chartMirror).toEqual({ url: 'oci://mirror.internal/charts' });
    expect(resolveControllerConfig(['helm-workload'], nats, { THREEPORT_CHART_MIRROR: 'http://127.0.0.1:8879' }).chartMirror).toEqual({ url: 'http://127.0.0.1:8879' });
    expect(() => resolveControllerConfig(['helm-workload'], { ...nats, chartMirror: 'mirror.internal' }, {})).toThrow('invalid chart mirror (--chart-mirror or THREEPORT_CHART_MIRROR) "mirror.internal"');
  });

  it('per-repository mirrors: from the flag or THREEPORT_CHART_MIRROR_MAP, beside the one mirror; a malformed entry refused', () => {
    const map = 'https://charts.jetstack.io=http://127.0.0.1:8879/jetstack, oci://docker.io/envoyproxy/=oci://mirror.internal/envoy';
    expect(resolveControllerConfig(['helm-workload'], { ...nats, chartMirrorMap: map }, { THREEPORT_CHART_MIRROR: 'http://127.0.0.1:8879' }).chartMirror).toEqual({
      url: 'http://127.0.0.1:8879',
      mappings: { 'https://charts.jetstack.io': 'http://127.0.0.1:8879/jetstack', 'oci://docker.io/envoyproxy': 'oci://mirror.internal/envoy' },
    });
    expect(resolveControllerConfig(['helm-workload'], nats, { THREEPORT_CHART_MIRROR_MAP: map }).chartMirror?.url).toBeUndefined();
    expect(() => resolveControllerConfig(['helm-workload'], { ...nats, chartMirrorMap: 'https://charts.jetstack.io' }, {})).toThrow('invalid chart mirror mapping "https://charts.jetstack.io"');
  });

  it('the certificate issuer: Let’s Encrypt by name, self-signed, or an ACME directory URL; anything else refused', () => {
    expect(resolveControllerConfig(['gateway'], nats, {}).certificateIssuer).toBeUndefined();
    expect(resolveControllerConfig(['gateway'], { ...nats, certificateIssuer: 'letsencrypt-staging' }, {}).certificateIssuer).toEqual({ kind: 'acme', server: 'https://acme-staging-v02.api.letsencrypt.org/directory' });
    expect(resolveControllerConfig(['gateway'], nats, { THREEPORT_CERTIFICATE_ISSUER: 'self-signed' }).certificateIssuer).toEqual({ kind: 'self-signed' });
    expect(resolveControllerConfig(['gateway'], nats, { THREEPORT_CERTIFICATE_ISSUER: 'https://ca.internal/acme/directory' }).certificateIssuer).toEqual({ kind: 'acme', server: 'https://ca.internal/acme/directory' });
    expect(() => resolveControllerConfig(['gateway'], { ...nats, certificateIssuer: 'vault' }, {})).toThrow('invalid certificate issuer "vault"');
  });

  it('the DNS provider: Route53 unless named; another with its external-dns values from a YAML file; mistakes refused at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'threeport-dns-values-'));
    try {
      expect(resolveControllerConfig(['gateway'], nats, {}).dnsProvider).toBeUndefined();
      const file = join(dir, 'cloudflare.yaml');
      writeFileSync(file, 'env:\n  - name: CF_API_TOKEN\n    valueFrom: {secretKeyRef: {name: cf, key: token}}\n');
      expect(resolveControllerConfig(['gateway'], { ...nats, dnsProvider: 'cloudflare', dnsProviderValues: file }, {}).dnsProvider).toEqual({
        name: 'cloudflare',
        values: { env: [{ name: 'CF_API_TOKEN', valueFrom: { secretKeyRef: { name: 'cf', key: 'token' } } }] },
      });
      expect(resolveControllerConfig(['gateway'], nats, { THREEPORT_DNS_PROVIDER: 'google' }).dnsProvider).toEqual({ name: 'google' });
      expect(() => resolveControllerConfig(['gateway'], { ...nats, dnsProviderValues: file }, {})).toThrow('set --dns-provider too');
      expect(() => resolveControllerConfig(['gateway'], { ...nats, dnsProvider: 'Cloud Flare' }, {})).toThrow('invalid DNS provider "Cloud Flare"');
      expect(() => resolveControllerConfig(['gateway'], { ...nats, dnsProvider: 'cloudflare', dnsProviderValues: join(dir, 'missing.yaml') }, {})).toThrow('cannot read the DNS provider values');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('helm: the one THREEPORT_HELM names, and a helm that is not v3 refused saying which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'threeport-helm-version-'));
    try {
      const fake = join(dir, 'helm');
      writeFileSync(fake, '#!/bin/sh\necho v4.0.0+g1234567\n', { mode: 0o755 });
      await expect(helmProvider({ THREEPORT_HELM: fake })()).rejects.toThrow(`${fake} is helm v4.0.0+g1234567; threeport needs helm v3 (set THREEPORT_HELM to one)`);
      writeFileSync(fake, '#!/bin/sh\necho v3.22.0+gabcdef0\n', { mode: 0o755 });
      await expect(helmProvider({ THREEPORT_HELM: fake })()).resolves.toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
