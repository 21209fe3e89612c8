import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/local-runtime/run-command.ts';
import { freshNamespace, kubeconfig, serveChartRepository, toolPath } from '../support/peers.ts';

const workDir = mkdtempSync(join(tmpdir(), 'threeport-helm-test-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** helm with its config and cache in this test's folder, pointed at cluster a. */
async function helm(...args: string[]): Promise<string> {
  const { path, context } = kubeconfig('a');
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: join(workDir, 'config'),
    HELM_CACHE_HOME: join(workDir, 'cache'),
    HELM_DATA_HOME: join(workDir, 'data'),
  };
  const { stdout } = await run(toolPath('helm'), [...args, '--kubeconfig', path, '--kube-context', context], { env, cwd: workDir, timeoutMs: 120_000 });
  return stdout;
}

async function deploymentReady(namespace: string, name: string): Promise<number | undefined> {
  const { path, context } = kubeconfig('a');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  kubeConfig.setCurrentContext(context);
  const deployment = await kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  return deployment.status?.readyReplicas;
}

describe('helm against the test bed', () => {
  it('installs a local chart with --wait', async () => {
    await run(toolPath('helm'), ['create', 'demo'], { cwd: workDir });
    const namespace = await freshNamespace('a');
    const output = await helm('install', 'demo', join(workDir, 'demo'), '--namespace', namespace, '--wait', '--timeout', '90s');
    expect(output).toContain('STATUS: deployed');
    expect(await deploymentReady(namespace, 'demo')).toBe(1);
  });

  it('installs a chart from a repository served on loopback', async () => {
    await run(toolPath('helm'), ['create', 'served'], { cwd: workDir });
    const repository = await serveChartRepository([join(workDir, 'served')]);
    const namespace = await freshNamespace('a');
    const output = await helm('install', 'web', 'served', '--repo', repository.url, '--namespace', namespace, '--wait', '--timeout', '90s');
    expect(output).toContain('STATUS: deployed');
    expect(await deploymentReady(namespace, 'web-served')).toBe(1);
    await repository.close();
  });
});
