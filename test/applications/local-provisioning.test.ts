/**
 * A runtime provisioned for an application from a profile whose Runtime is Local: a simulated
 * cluster started by the control plane on its own machine (the local runtime, as the all-in-one of
 * `tptctl up --local-runtime` does), connected, the workload Healthy there; a cluster stopped
 * under it (`tptctl down --keep-data`) started anew and the workload deployed again; deleting the
 * application deletes the runtime it made, and the cluster's processes stop.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { localClustersIn } from '../../src/control-plane/local-clusters.ts';
import { stopLocalCluster, stopLocalClusters } from '../../src/local-runtime/index.ts';
import { isRunning } from '../../src/local-runtime/process-identity.ts';
import { ProcessRegistry } from '../../src/local-runtime/processes.ts';
import { eventually } from '../support/eventually.ts';
import { webApp } from '../support/manifests.ts';
import { uniqueName } from '../support/samples.ts';
import { startWorkloadPlane } from '../workloads/support/workload-plane.ts';

const LONG = { timeout: 600_000 };

describe('a local runtime provisioned from a profile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'threeport-local-runtimes-'));
  afterAll(async () => {
    await stopLocalClusters(dir);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
  const plane = await startWorkloadPlane({
    database: 'pglite',
    groups: ['workload', 'kubernetes-runtime', 'application'],
    settings: { localClusters: localClustersIn(dir), application: { pollIntervalMs: 500 } },
  });
  const { client } = plane;
  const applications = client.kind('Application');

  it('starts a simulated cluster for the application, runs its workload there, starts it again when it stopped, and stops it when the application goes', LONG, async () => {
    // No runtime at all: the profile's Local requirement can only be met by provisioning one.
    const profile = await client.kind('Profile').create({ Name: uniqueName('laptop'), Runtime: { Location: 'Local' } });
    const name = uniqueName('local');
    const application = await applications.create({ Name: name, Profile: profile.Name, YAMLDocument: webApp(name) });
    const status = async () => String((await applications.get(application.ID)).Status ?? '');
    await eventually('Healthy on its own cluster', async () => (await status()).startsWith('Healthy') || status(), 480_000, 1000);

    const placed = (await applications.get(application.ID)).Placement as { KubernetesRuntimeInstanceID: number; Name: string; Reason: string; Provisioned: boolean };
    expect(placed).toMatchObject({ Name: `${name}-runtime`, Provisioned: true, Reason: expect.stringContaining('provisioned a local simulated cluster') });
    const runtime = await client.kind('KubernetesRuntimeInstance').get(placed.KubernetesRuntimeInstanceID);
    expect(runtime).toMatchObject({ Location: 'Local', APIEndpoint: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/) });
    expect(await client.kind('KubernetesRuntimeDefinition').get(runtime.KubernetesRuntimeDefinitionID)).toMatchObject({ InfraProvider: 'kind' });
    const cluster = `runtime-${runtime.ID}`;
    const processes = () => new ProcessRegistry(dir).list().filter((process) => process.name.startsWith(`cluster-${cluster}-`) && isRunning(process));
    expect(processes().length).toBeGreaterThan(3);

    // Stopped under it (as `tptctl down --keep-data` does): started anew, reconnected, the workload deployed there again.
    await stopLocalCluster({ name: cluster, dir });
    await eventually('restarted, reconnected, Healthy again', async () => {
      const now = await client.kind('KubernetesRuntimeInstance').get(runtime.ID);
      return (now.APIEndpoint !== runtime.APIEndpoint && (await status()).startsWith('Healthy') && processes().length > 3) || `${String(now.APIEndpoint)} ${await status()}`;
    }, 300_000, 1000);
    // The workload's Deployment is in the new cluster.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(join(dir, 'clusters', `${cluster}.kubeconfig`));
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    await eventually('deployed to the new cluster', async () => (await apps.listDeploymentForAllNamespaces()).items.some((deployment) => deployment.metadata?.name === name) || 'no Deployment yet', 120_000, 1000);
    const restarted = await client.kind('Event').listAll({ reason: 'Restarted' });
    expect(restarted.map((event) => String(event.Note))).toContainEqual(expect.stringContaining(`simulated cluster ${cluster} had stopped`));

    await applications.delete(application.ID);
    await eventually('application and runtime gone', async () => (await applications.listAll()).length === 0 && (await client.kind('KubernetesRuntimeInstance').listAll()).length === 0, 240_000, 500);
    expect(processes()).toEqual([]);
    expect(existsSync(join(dir, 'clusters', `${cluster}.kubeconfig`))).toBe(false);
  });
});
