/**
 * Workloads opt in to metrics by naming a Service port `metrics` (or `<something>-metrics`): once
 * the cluster serves ServiceMonitor (an observability stack's metrics installed it), the workload
 * instance gets one per namespace, selecting its Services by the instance label and scraping
 * those ports (at the Service's `prometheus.io/path` annotation, else /metrics). The workload
 * controller applies, corrects and prunes it with the instance's other resources.
 */
import type { Manifest } from '../../model/manifest.ts';
import { KubernetesApiError, labels, type KubernetesClient } from '../../platform/kubernetes/index.ts';

const MONITOR_API = 'monitoring.coreos.com/v1';
const METRICS_PORT = /(^|-)metrics$/;

type ServicePort = { name?: string };

/** The ServiceMonitors the instance's manifests call for (none while the cluster does not serve the kind). */
export async function serviceMonitorsFor(cluster: KubernetesClient, instance: { id: number; name: string }, manifests: readonly Manifest[], signal: AbortSignal): Promise<Manifest[]> {
  const endpoints = new Map<string, { port: string; path: string }[]>();
  for (const service of manifests.filter((manifest) => manifest.apiVersion === 'v1' && manifest.kind === 'Service')) {
    const ports = ((service.spec as { ports?: ServicePort[] } | undefined)?.ports ?? []).map((port) => port.name).filter((name): name is string => Boolean(name && METRICS_PORT.test(name)));
    if (ports.length === 0 || !service.metadata.namespace) continue;
    const path = service.metadata.annotations?.['prometheus.io/path'] ?? '/metrics';
    const list = endpoints.get(service.metadata.namespace) ?? [];
    for (const port of ports) if (!list.some((endpoint) => endpoint.port === port)) list.push({ port, path });
    endpoints.set(service.metadata.namespace, list);
  }
  if (endpoints.size === 0 || !(await serves(cluster, signal))) return [];
  const name = `${instance.name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 54).replace(/-+$/, '')}-metrics`;
  return [...endpoints].map(([namespace, list]) => ({
    apiVersion: MONITOR_API,
    kind: 'ServiceMonitor',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { [labels.WORKLOAD_INSTANCE]: String(instance.id) } },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: list.map(({ port, path }) => ({ port, path })),
    },
  }));
}

async function serves(cluster: KubernetesClient, signal: AbortSignal): Promise<boolean> {
  try {
    await cluster.mappingOf(MONITOR_API, 'ServiceMonitor', signal);
    return true;
  } catch (error) {
    if (error instanceof KubernetesApiError && error.reason === 'NoKindMatch') return false;
    throw error;
  }
}
