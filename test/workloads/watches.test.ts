/**
 * Watches that last, on a real kube-apiserver: a quiet watch is ended by the server (asked to,
 * before the idle timeout) and renewed, never taken for a silent one; a watch that goes silent
 * (a half-open connection, made by a TCP proxy that stops passing anything on) is abandoned after
 * the idle timeout and re-opened from the last resourceVersion, missing nothing.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubernetesClient, Reflector, type Manifest, type ReflectorEventType } from '../../src/platform/kubernetes/index.ts';
import { KubernetesTransport } from '../../src/platform/kubernetes/transport.ts';
import { cleanUp } from '../support/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { freshNamespace, kubeconfig } from '../support/peers.ts';
import { tcpProxy } from './support/tcp-proxy.ts';
import { kubeOf, testLogger } from './support/workload-plane.ts';

/** A client of cluster a whose connections go through `server` (a proxy in front of it). */
async function clientThrough(server: string): Promise<KubernetesClient> {
  const { path, context } = kubeconfig('a');
  const config = new KubeConfig();
  config.loadFromFile(path);
  config.setCurrentContext(context);
  const cluster = config.getCurrentCluster()!;
  config.loadFromOptions({
    clusters: config.clusters.map((candidate) => (candidate.name === cluster.name ? { ...candidate, server } : candidate)),
    users: config.users,
    contexts: config.contexts,
    currentContext: config.currentContext,
  });
  const transport = await KubernetesTransport.fromKubeConfig(config);
  cleanUp(async () => transport.close());
  return new KubernetesClient(transport);
}

/** Runs a reflector of the ConfigMaps in `namespace` until the test ends; what it reported, in order. */
function watchConfigMaps(client: KubernetesClient, namespace: string, options: { watchIdleTimeoutMs: number }): { reflector: Reflector; seen: [ReflectorEventType, string][] } {
  const seen: [ReflectorEventType, string][] = [];
  const reflector = new Reflector(client, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace,
    labelSelector: 'watches-test=true',
    logger: testLogger(),
    onEvent: (type, object) => void seen.push([type, object.metadata.name]),
    ...options,
  });
  const stop = new AbortController();
  const running = reflector.run(stop.signal);
  cleanUp(async () => {
    stop.abort();
    await running;
  });
  return { reflector, seen };
}

async function createConfigMap(namespace: string, name: string): Promise<void> {
  const kube = await kubeOf('a');
  await kube.transport.request<Manifest>('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { 'watches-test': 'true' } }, data: { at: new Date().toISOString() } },
  });
}

const names = (seen: [ReflectorEventType, string][]): string[] => seen.map(([, name]) => name);

describe('watches that last', () => {
  it('a quiet watch is ended by the server before its idle timeout and renewed: never taken for a silent one', async () => {
    const namespace = await freshNamespace('a', 'watches');
    // The server is asked to end each watch after 3 s (half the idle timeout): it renews twice in ~6 s.
    const { reflector, seen } = watchConfigMaps(await kubeOf('a'), namespace, { watchIdleTimeoutMs: 6000 });
    await eventually('renewed twice', () => reflector.stats.watches >= 3 || `stats ${JSON.stringify(reflector.stats)}`, 30_000);
    expect(reflector.stats).toMatchObject({ lists: 1, idleTimeouts: 0 });
    // And it still reports what happens.
    await createConfigMap(namespace, 'after-quiet');
    await eventually('the new ConfigMap seen', () => names(seen).includes('after-quiet'));
    expect(seen).toEqual([['ADDED', 'after-quiet']]);
  });

  it('a watch that goes silent (a half-open connection) is re-opened after the idle timeout, from where it was', async () => {
    const namespace = await freshNamespace('a', 'watches');
    const direct = await kubeOf('a');
    const proxy = await tcpProxy(new URL(direct.server));
    const { reflector, seen } = watchConfigMaps(await clientThrough(proxy.url), namespace, { watchIdleTimeoutMs: 3000 });
    await eventually('listed', () => reflector.synced);
    await createConfigMap(namespace, 'before');
    await eventually('seen before the stall', () => names(seen).includes('before'));

    // Nothing passes any more, on the open connection or new ones, and nobody is told.
    proxy.stall();
    await createConfigMap(namespace, 'during');
    await eventually('the silence noticed', () => reflector.stats.idleTimeouts >= 1 || `stats ${JSON.stringify(reflector.stats)}`, 30_000);
    expect(names(seen)).toEqual(['before']);

    // New connections work again: the next watch picks up where the silent one stopped.
    proxy.resume();
    await eventually('seen after the stall', () => names(seen).includes('during') || `seen ${names(seen).join(', ')}`, 30_000);
    expect(seen).toEqual([['ADDED', 'before'], ['ADDED', 'during']]);
    // Watched again from its resourceVersion, not listed again.
    expect(reflector.stats.lists).toBe(1);
  });
});
