/**
 * The embedded control plane's lifecycle through the real tptctl: up (registering a real kwok
 * cluster as the default runtime), refusing to clobber, down --keep-data, up again on the same
 * data (its controllers carry on), down.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../src/local-runtime/ports.ts';
import { kubeconfig } from '../support/peers.ts';
import { ensureBundle, sample, Tptctl } from './support.ts';

describe('tptctl up / down (embedded)', () => {
  it('starts, registers the runtime, refuses to clobber, keeps data across down/up, and cleans up', async () => {
    await ensureBundle();
    const tptctl = new Tptctl();
    const port = await freePort();
    const cluster = kubeconfig('a');
    const upArgs = ['up', '--name', 'lifecycle', '--listen', `127.0.0.1:${port}`];
    const started = await tptctl.ok([...upArgs, '--kubeconfig', cluster.path, '--kube-context', cluster.context], { timeoutMs: 120_000 });
    expect(started).toContain('Info: Kubernetes runtime threeport-lifecycle registered as the default runtime');
    expect(started).toContain('Complete: Threeport control plane lifecycle created');
    try {
      const config = parse(readFileSync(tptctl.configPath, 'utf8')) as { ControlPlanes: Record<string, unknown>[]; CurrentControlPlane: string };
      expect(statSync(tptctl.configPath).mode & 0o777).toBe(0o600);
      expect(config.CurrentControlPlane).toBe('lifecycle');
      expect(config.ControlPlanes[0]).toMatchObject({ Name: 'lifecycle', Provider: 'embedded', Genesis: true, AuthEnabled: false, APIServer: `127.0.0.1:${port}` });
      const dir = join(tptctl.dir, 'control-planes', 'lifecycle');
      expect(existsSync(join(dir, 'threeport.pid'))).toBe(true);
      expect(existsSync(join(dir, 'threeport.log'))).toBe(true);

      const runtimes = await tptctl.ok(['get', 'kubernetes-runtime-instances']);
      expect(runtimes).toMatch(/threeport-lifecycle\s+threeport-lifecycle\s+Local\s+true\s+kind/);
      const runtime = JSON.parse(await tptctl.ok(['describe', 'kubernetes-runtime-instance', '-n', 'threeport-lifecycle', '-o', 'json'])) as Record<string, unknown>;
      expect(runtime).toMatchObject({ Reconciled: true, DefaultRuntime: true, ThreeportControlPlaneHost: true, Location: 'Local' });
      expect(String(runtime.APIEndpoint)).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

      // Objects made now must survive down --keep-data / up.
      await tptctl.ok(['create', 'workload-definition', '-c', sample('workload-definition.yaml')]);
      await tptctl.ok(['create', 'workload-instance', '-c', sample('workload-instance.yaml')]);
      expect(await tptctl.ok(['version'])).toMatch(/Client: v\d+\.\d+\.\d+\nServer: v\d+\.\d+\.\d+ \(control plane lifecycle\)/);

      const clobber = await tptctl.fails(upArgs);
      expect(clobber.stderr).toContain('threeport config already contains a control plane named lifecycle');
      const running = await tptctl.fails([...upArgs, '--force-overwrite-config']);
      expect(running.stderr).toMatch(/control plane lifecycle is already running \(pid \d+\)/);

      expect(await tptctl.ok(['down', '--keep-data'])).toContain('Complete: Threeport control plane lifecycle deleted (data kept)');
      expect((parse(readFileSync(tptctl.configPath, 'utf8')) as { ControlPlanes: unknown[] }).ControlPlanes).toHaveLength(0);
      expect((await tptctl.fails(['get', 'workloads'])).stderr).toContain('no threeport control plane in');

      await tptctl.ok(upArgs, { timeoutMs: 120_000 });
      // The same objects, and the controllers carry on with them: the instance is deployed to the runtime.
      await expect
        .poll(() => tptctl.ok(['get', 'workloads']), { timeout: 90_000, interval: 1000 })
        .toMatch(/v0\s+wordpress\s+wordpress\s+wordpress-01\s+threeport-lifecycle\s+Healthy: 3 resource\(s\) ready/);
      // The cluster is shared: its resources go before the control plane does.
      expect(await tptctl.ok(['delete', 'workload-instance', '--name', 'wordpress-01', '--wait', '--timeout', '60s'], { timeoutMs: 90_000 })).toContain('Complete: workload instance wordpress-01 deleted');
      // One /metrics for the process (the delete was a reconcile): the API's requests, the controllers' reconciles, the process's own figures.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/threeport_api_requests_total\{method="GET",route="\/v0\/workload-instances",status="200"\} \d+/);
      expect(metrics).toMatch(/threeport_controller_reconciles_total\{reconciler="WorkloadInstanceReconciler",result="success"\} \d+/);
      expect(metrics).toContain('process_resident_memory_bytes');
    } finally {
      await tptctl.run(['down', '--name', 'lifecycle']);
    }
    expect(existsSync(join(tptctl.dir, 'control-planes', 'lifecycle'))).toBe(false);
    expect((await tptctl.fails(['down', '--name', 'lifecycle'])).stderr).toContain('control plane lifecycle is not in');
  }, 300_000);

  it('refuses an address in use and leaves no config entry; a process that dies reports its log', async () => {
    await ensureBundle();
    const tptctl = new Tptctl();
    const port = await freePort();
    const blocker = await tptctl.ok(['up', '--name', 'first', '--listen', `127.0.0.1:${port}`], { timeoutMs: 120_000 });
    expect(blocker).toContain('created');
    try {
      const { stderr } = await tptctl.fails(['up', '--name', 'second', '--listen', `127.0.0.1:${port}`]);
      expect(stderr).toContain(`Error: cannot start control plane second: 127.0.0.1:${port} is in use by another process`);
      const config = parse(readFileSync(tptctl.configPath, 'utf8')) as { ControlPlanes: { Name: string }[] };
      expect(config.ControlPlanes.map((entry) => entry.Name)).toEqual(['first']);
    } finally {
      await tptctl.run(['down', '--name', 'first']);
    }
    const { stderr } = await tptctl.fails(['up', '--name', 'broken', '--listen', `127.0.0.1:${port}`, '--log-level', 'loud']);
    expect(stderr).toContain('Error: the threeport control plane process exited with code 1 before it was ready');
    expect(stderr).toContain('invalid log level "loud"');
  }, 300_000);
});
