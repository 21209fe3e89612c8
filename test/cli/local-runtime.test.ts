/**
 * `tptctl up --local-runtime` through the real tptctl: a simulated cluster registered as the
 * default runtime and Ready, 2 Ready nodes, the README's quick start on it (the sample workload
 * Healthy), and nothing left running after `down`. The tools are in the
 * cache once the test bed is up, so this takes seconds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isRunning, type ProcessIdentity } from '../../src/local-runtime/process-identity.ts';
import { freePort } from '../../src/local-runtime/ports.ts';
import { repoRoot, tempDir } from '../support/control-plane.ts';
import { testbed } from '../support/peers.ts';
import { ensureBundle, Tptctl } from './support.ts';

function recordedProcesses(runtimeDir: string): (ProcessIdentity & { name: string })[] {
  const records = join(runtimeDir, 'processes');
  return readdirSync(records).map((file) => JSON.parse(readFileSync(join(records, file), 'utf8')) as ProcessIdentity & { name: string });
}

describe('tptctl up --local-runtime', () => {
  // ps: the process table of a system without /proc (macOS, BSD), forced here.
  it.each([
    ['/proc', {}],
    ['ps', { THREEPORT_PROCESS_TABLE: 'ps' }],
  ])('starts a simulated cluster as the default runtime and stops it with down (processes seen through %s)', async (table, env) => {
    testbed(); // the tools are built by the test bed's setup; fails with its reason if it could not start
    await ensureBundle();
    const tptctl = new Tptctl(env);
    const port = await freePort();
    const runtimeDir = join(tptctl.dir, 'control-planes', 'sim', 'local-runtime');
    let processes: (ProcessIdentity & { name: string })[] = [];
    try {
      const started = await tptctl.ok(['up', '--name', 'sim', '--listen', `127.0.0.1:${port}`, '--local-runtime'], { timeoutMs: 180_000 });
      expect(started).toContain('Info: Kubernetes runtime threeport-sim registered as the default runtime: 2 simulated nodes');
      expect(started).toMatch(/Info: kubernetes runtime instance threeport-sim is Ready: Kubernetes v\d+\.\d+\.\d+, 2 node\(s\); agent: run by the control plane\n/);
      expect(started).toContain('Complete: Threeport control plane sim created');
      processes = recordedProcesses(runtimeDir);
      expect(processes.map((process) => process.name).sort()).toEqual(
        ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok-controller', 'provisioner'].map((component) => `cluster-sim-${component}`),
      );
      // Start times read through ps say so: the records were made by the table under test.
      const controlPlane = JSON.parse(readFileSync(join(tptctl.dir, 'control-planes', 'sim', 'threeport.pid'), 'utf8')) as ProcessIdentity;
      for (const recorded of [...processes, controlPlane]) expect(recorded.startTime.startsWith('ps:')).toBe(table === 'ps');

      const runtime = JSON.parse(await tptctl.ok(['describe', 'kubernetes-runtime-instance', '-n', 'threeport-sim', '-o', 'json'])) as Record<string, unknown>;
      expect(runtime).toMatchObject({ Reconciled: true, DefaultRuntime: true, Location: 'Local' });
      expect(String(runtime.APIEndpoint)).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(String(runtime.CACertificate)).toContain('BEGIN CERTIFICATE');
      expect(String(runtime.Certificate)).toContain('BEGIN CERTIFICATE');

      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(join(runtimeDir, 'clusters', 'sim.kubeconfig'));
      expect(kubeConfig.getCurrentCluster()?.server).toBe(runtime.APIEndpoint);
      const nodes = await kubeConfig.makeApiClient(CoreV1Api).listNode();
      const ready = nodes.items.filter((node) => node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'));
      expect(ready).toHaveLength(2);
      // The same simulated nodes as the test bed's: a real node's resources.
      for (const node of ready) expect(Object.keys(node.status?.allocatable ?? {})).toEqual(expect.arrayContaining(['ephemeral-storage', 'hugepages-2Mi']));

      // The README's quick start on it: the sample workload (its requests include ephemeral-storage), Healthy.
      const created = await tptctl.ok(['create', 'workload', '-c', join(repoRoot, 'samples/wordpress-workload.yaml'), '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
      expect(created).toContain('Info: application wordpress is Healthy: 6 resource(s) ready; ');
      expect(await tptctl.ok(['get', 'workloads'])).toMatch(/\nv0\s+wordpress\s+wordpress\s+wordpress\s+threeport-sim\s+Healthy: 6 resource\(s\) ready\s+\d+s/);

      if (table === '/proc') {
        // An application whose profile asks for a local runtime the running one is not: the control plane starts another simulated cluster, which down stops too.
        const file = join(tptctl.dir, 'big.yaml');
        writeFileSync(join(tptctl.dir, 'big-manifest.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n');
        // A definition names the profile too, and gets its values.
        writeFileSync(file, 'Profile:\n  Name: big\n  Runtime: {InfraProvider: kind, Location: Local, NodeSize: Large}\n---\nApplication:\n  Name: big\n  Profile: big\n  YAMLDocument: big-manifest.yaml\n---\nKubernetesRuntimeDefinition:\n  Name: sized\n  ProfileName: big\n');
        const applied = await tptctl.ok(['apply', '-f', file, '--wait', '--timeout', '4m'], { timeoutMs: 260_000 });
        expect(applied).toContain('Info: application big is Healthy');
        expect(JSON.parse(await tptctl.ok(['describe', 'kubernetes-runtime-definition', '-n', 'sized', '-o', 'json']))).toMatchObject({ InfraProvider: 'kind', NodeSize: 'Large' });
        expect(await tptctl.ok(['describe', 'application', 'big'])).toMatch(/\* Placement:\n\s+Name: big-runtime\n\s+Reason: no runtime met the requirements \(Location Local, InfraProvider kind, NodeSize Large\): provisioned a local simulated cluster/);
        processes = recordedProcesses(runtimeDir);
        expect(processes.filter((process) => /^cluster-runtime-\d+-kube-apiserver$/.test(process.name) && isRunning(process))).toHaveLength(1);
      }
    } finally {
      await tptctl.run(['down', '--name', 'sim'], { timeoutMs: 120_000 });
    }
    expect(processes.filter(isRunning)).toEqual([]);
    // Nor any started after the records were read (a cluster the control plane started again while going down).
    const controlPlaneDir = join(tptctl.dir, 'control-planes', 'sim');
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(controlPlaneDir))).toEqual([]);
    expect(existsSync(controlPlaneDir)).toBe(false);
  }, 300_000);

  it('needs Go to build the cluster the first time, and says so before starting anything', async () => {
    await ensureBundle();
    const cache = tempDir('empty-cache');
    mkdirSync(cache, { recursive: true });
    const tptctl = new Tptctl({ THREEPORT_CACHE: cache, PATH: '/usr/bin:/bin' });
    const { stderr } = await tptctl.fails(['up', '--name', 'nogo', '--listen', `127.0.0.1:${await freePort()}`, '--local-runtime']);
    expect(stderr).toContain('Error: --local-runtime builds its simulated Kubernetes cluster (kube-apiserver, etcd, kwok) from source the first time, which needs Go 1.24 or newer');
    expect(stderr).toContain('use tptctl up --kubeconfig instead');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(tptctl.configPath)).toBe(false);
    expect(existsSync(join(tptctl.dir, 'control-planes'))).toBe(false);
  });

  it('refuses --local-runtime together with --kubeconfig', async () => {
    await ensureBundle();
    const { stderr } = await new Tptctl().fails(['up', '--local-runtime', '--kubeconfig', '/nonexistent']);
    expect(stderr).toContain('Error: --local-runtime starts a simulated cluster; --kubeconfig/--context register a cluster you have: choose one');
  });
});
