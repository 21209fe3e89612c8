/**
 * `--wait` and abstraction rollback against an API-only control plane: the test plays the
 * controllers and the agent through the API — it marks objects reconciled and reports a workload
 * instance's health while tptctl waits, and confirms scheduled deletions. (With the real
 * controllers and a cluster: workloads.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/cli/operations/wait.ts';
import { createTerminal } from '../../src/cli/output/terminal.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { confirmDeletions, markReconciled, reportHealth } from './controller-stand-in.ts';
import { ensureBundle, sample, Tptctl } from './support.ts';

describe('tptctl --wait and rollback', () => {
  const tptctl = new Tptctl();
  let api: ApiHarness;

  beforeAll(async () => {
    await ensureBundle();
    api = await startApi({ database: 'pglite' });
    tptctl.useControlPlane('wait', api.url, api.encryptionKey);
    await tptctl.ok(['create', 'kubernetes-runtime', '-c', sample('kubernetes-runtime.yaml')]);
    await tptctl.ok(['create', 'aws-account', '-c', sample('aws-account.yaml')]);
  });

  it('create --wait returns once the objects are reconciled and the workload instance Healthy, printing progress lines off a terminal', async () => {
    const file = join(tptctl.dir, 'blog.yaml');
    writeFileSync(file, `WorkloadDefinition:\n  Name: blog\n  YAMLDocument: ${sample('wordpress-manifest.yaml')}\n---\nWorkloadInstance:\n  Name: blog\n  WorkloadDefinition:\n    Name: blog\n  KubernetesRuntimeInstance:\n    Name: local-runtime\n`);
    const waiting = tptctl.start(['apply', '-f', file, '--wait', '--timeout', '60s']);
    await expect.poll(() => api.client.kind('WorkloadInstance').findByName('blog'), { timeout: 20_000 }).toBeDefined();
    await markReconciled(api.client, 'WorkloadDefinition', 'blog');
    // Reconciled is not enough for a workload instance: it waits for its health, and shows each Status line.
    const instance = (await api.client.kind('WorkloadInstance').findByName('blog'))!;
    await reportHealth(api.client, Number(instance.ID), { reason: 'Down', message: 'Deployment getting-started-wordpress: 0/1 ready' });
    await expect.poll(() => waiting.output().stderr, { timeout: 20_000 }).toContain('waiting: workload instance blog: Down: Deployment getting-started-wordpress: 0/1 ready\n');
    await reportHealth(api.client, Number(instance.ID), { reason: 'Healthy', message: '2 resource(s) ready' });
    const result = await waiting.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Info: workload definition blog reconciled');
    expect(result.stdout).toContain('Info: workload instance blog is Healthy: 2 resource(s) ready');
    expect(result.stderr).not.toContain('\r');
  });

  it('shows a spinner with the Status line on a terminal, cut to its width, and clears it', async () => {
    const definition = await api.client.kind('WorkloadDefinition').create({ Name: 'spin', YAMLDocument: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: spin\n' });
    const runtime = (await api.client.kind('KubernetesRuntimeInstance').findByName('local-runtime'))!;
    const instance = await api.client.kind('WorkloadInstance').create({ Name: 'spin', WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    let stdout = '';
    let stderr = '';
    const terminal = createTerminal({ write: (text: string) => (stdout += text) }, { write: (text: string) => (stderr += text), isTTY: true, columns: 60 }, {});
    const waiting = waitFor(api.client, [{ kind: 'WorkloadInstance', id: Number(instance.ID), name: 'spin' }], { until: 'ready', timeoutMs: 30_000, terminal, announce: true, intervalMs: 50 });
    const down = 'Deployment web: 0/3 ready; StatefulSet db: 0/1 ready; and 2 more';
    await reportHealth(api.client, Number(instance.ID), { reason: 'Down', message: down });
    await expect.poll(() => stderr, { timeout: 20_000 }).toContain('workload instance spin: Down: Deployment web');
    await reportHealth(api.client, Number(instance.ID), { reason: 'Healthy', message: '2 resource(s) ready' });
    await waiting;
    const frames = stderr.split('\r\x1b[K').filter(Boolean);
    expect(frames.length).toBeGreaterThan(1);
    for (const frame of frames) {
      expect(frame).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] workload instance spin: /);
      expect(frame.length).toBeLessThan(60);
      expect(frame).not.toContain('\n');
    }
    expect(frames.some((frame) => frame.endsWith('…'))).toBe(true);
    expect(stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(stdout).toBe('Info: workload instance spin is Healthy: 2 resource(s) ready\n');
  });

  it('--wait gives up after the timeout, naming what it waited for', async () => {
    const { code, stderr } = await tptctl.run(['create', 'workload-definition', '-c', sample('workload-definition.yaml'), '--wait', '--timeout', '2s']);
    expect(code).toBe(1);
    expect(stderr).toContain('Error: timed out after 2s waiting for: workload definition wordpress (waiting for a controller to reconcile)');
  });

  it('apply --wait waits for the updated objects', async () => {
    const file = join(tptctl.dir, 'wordpress.yaml');
    writeFileSync(file, `WorkloadDefinition:\n  Name: wordpress\n  YAMLDocument: ${sample('values.yaml')}\n`);
    const waiting = tptctl.run(['apply', '-f', file, '--wait', '--timeout', '60s']);
    await expect.poll(async () => (await api.client.kind('WorkloadDefinition').findByName('wordpress'))?.YAMLDocument, { timeout: 20_000 }).toContain('replicaCount');
    await markReconciled(api.client, 'WorkloadDefinition', 'wordpress');
    const result = await waiting;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('workload definition wordpress updated (YAMLDocument)');
    expect(result.stdout).toContain('Info: workload definition wordpress reconciled');
  });

  it('rolls back what an abstraction created when a later object fails', async () => {
    const controller = confirmDeletions(api.client);
    try {
      const file = join(tptctl.dir, 'broken-gateway.yaml');
      writeFileSync(file, 'Gateway:\n  Name: broken-gateway\n  HttpPorts: [{Port: 80}]\n  ServiceName: web\n  WorkloadInstance:\n    Name: missing-workload\n');
      const { code, stdout, stderr } = await tptctl.run(['create', 'gateway', '-c', file]);
      expect(code).toBe(1);
      expect(stdout).toContain('Info: failed to create gateway instance broken-gateway; rolling back the 1 object(s) created before it');
      expect(stdout).toMatch(/Info: rolled back: gateway definition broken-gateway (deleted|scheduled for deletion)/);
      expect(stderr).toContain('WorkloadInstance "missing-workload" does not exist');
      await expect.poll(() => api.client.kind('GatewayDefinition').findByName('broken-gateway'), { timeout: 10_000 }).toBeUndefined();
    } finally {
      await controller.stop();
    }
  });
});
