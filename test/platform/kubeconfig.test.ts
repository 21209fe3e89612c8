/** Kubeconfigs read without the official client, and the ones handed to it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeconfigError, readKubeconfig } from '../../src/platform/kubernetes/kubeconfig.ts';

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kubeconfig-')), 'config');
  writeFileSync(path, JSON.stringify({
    'current-context': 'dev',
    contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'dev' } }, { name: 'other', context: { cluster: 'none', user: 'dev' } }],
    clusters: [{ name: 'dev', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('CA PEM').toString('base64'), ...cluster } }],
    users: [{ name: 'dev', user }],
  }));
  return path;
}

describe('kubeconfig', () => {
  it('a certificate or a token is all it takes', () => {
    expect(readKubeconfig(kubeconfig({}, { token: 't' }))).toEqual({ context: 'dev', user: 'dev', direct: true, credentials: { server: 'https://127.0.0.1:6443', caCertificate: 'CA PEM', token: 't' } });
  });

  it('login plugins, skipped TLS verification and proxies go to the official client', () => {
    expect(readKubeconfig(kubeconfig({}, { exec: { command: 'gke-gcloud-auth-plugin' } }))).toMatchObject({ direct: false, login: 'runs the command gke-gcloud-auth-plugin to log in' });
    expect(readKubeconfig(kubeconfig({ 'insecure-skip-tls-verify': true }, { token: 't' }))).toMatchObject({ direct: false });
    expect(readKubeconfig(kubeconfig({ 'proxy-url': 'socks5://127.0.0.1:1080' }, { token: 't' })).direct).toBe(false);
  });

  it('a missing file, context or server says which', () => {
    expect(() => readKubeconfig('/nonexistent/config')).toThrow(new KubeconfigError('cannot read kubeconfig /nonexistent/config: ENOENT'));
    expect(() => readKubeconfig(kubeconfig({}, {}), 'staging')).toThrow(/has no context staging/);
    expect(() => readKubeconfig(kubeconfig({}, {}), 'other')).toThrow(/cluster none of context other has no server/);
  });
});
