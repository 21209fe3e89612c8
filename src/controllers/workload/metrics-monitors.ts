/**
 * Workloads opt in to metrics by naming a port `metrics` (or `<something>-metrics`). Once the
 * cluster serves the Prometheus operator's kinds (an observability stack's metrics installed
 * them), the workload instance gets, per namespace, a ServiceMonitor for its Services' metrics
 * ports — or, where no Service exposes one, a PodMonitor for its pods' — selecting them by the
 * instance label, scraped at the `prometheus.io/path` annotation or /metrics. The workload
 * controller applies, corrects and prunes them with the instance's other resources.
 */
import type { Manifest } from '../../model/manifest.ts';
import { KubernetesApiError, labels, type KubernetesClient } from '../../platform/kubernetes/index.ts';
import { podSpecOf } from '../shared/contributions.ts';
import { suffixedName } from '../shared/kubernetes-helpers.ts';

const MONITOR_API = 'monitoring.coreos.com/v1';
const METRICS_PORT = /(^|-)metrics$/;
const PATH_ANNOTATION = 'prometheus.io/path';

type Endpoint = { port: string; path: string };
type Ports = { name?: string }[] | undefined;

const metricsPorts = (ports: Ports): string[] => (ports ?? []).map((port) => port.name).filter((name): name is string => Boolean(name && METRICS_PORT.test(name)));

function addTo(byNamespace: Map<string, Endpoint[]>, namespace: string, endpoints: readonly Endpoint[]): void {
  const list = byNamespace.get(namespace) ?? [];
  for (const endpoint of endpoints) if (!list.some((known) => known.port === endpoint.port)) list.push(endpoint);
  byNamespace.set(namespace, list);
}

/** The ServiceMonitors and PodMonitors the instance's manifests call for (none while the cluster does not serve the kinds). */
export async function metricsMonitorsFor(cluster: KubernetesClient, instance: { id: number; name: string }, manifests: readonly Manifest[], signal: AbortSignal): Promise<Manifest[]> {
  const services = new Map<string, Endpoint[]>();
  const pods = new Map<string, Endpoint[]>();
  // The selectors of Services with a metrics port: pods they select are scraped through them.
  const scrapedThroughServices: { namespace: string; selector: Record<string, string> }[] = [];
  for (const manifest of manifests) {
    const namespace = manifest.metadata.namespace;
    if (!namespace || manifest.apiVersion !== 'v1' || manifest.kind !== 'Service') continue;
    const spec = manifest.spec as { ports?: Ports; selector?: Record<string, string> } | undefined;
    const path = manifest.metadata.annotations?.[PATH_ANNOTATION] ?? '/metrics';
    const ports = metricsPorts(spec?.ports);
    if (ports.length === 0) continue;
    addTo(services, namespace, ports.map((port) => ({ port, path })));
    if (spec?.selector) scrapedThroughServices.push({ namespace, selector: spec.selector });
  }
  for (const manifest of manifests) {
    const namespace = manifest.metadata.namespace;
    const spec = podSpecOf(manifest) as { containers?: { ports?: Ports }[] } | undefined;
    if (!namespace || !spec) continue;
    const podMetadata = manifest.kind === 'Pod' ? manifest.metadata : (manifest.spec as { template?: Manifest } | undefined)?.template?.metadata;
    const podLabels = podMetadata?.labels ?? {};
    if (scrapedThroughServices.some((service) => service.namespace === namespace && Object.entries(service.selector).every(([key, value]) => podLabels[key] === value))) continue;
    const path = podMetadata?.annotations?.[PATH_ANNOTATION] ?? '/metrics';
    const ports = (spec.containers ?? []).flatMap((container) => metricsPorts(container.ports));
    if (ports.length > 0) addTo(pods, namespace, ports.map((port) => ({ port, path })));
  }
  if ((services.size === 0 && pods.size === 0) || !(await serves(cluster, signal))) return [];
  const name = suffixedName(instance.name, 'metrics');
  const selector = { matchLabels: { [labels.WORKLOAD_INSTANCE]: String(instance.id) } };
  return [
    ...[...services].map(([namespace, endpoints]): Manifest => ({ apiVersion: MONITOR_API, kind: 'ServiceMonitor', metadata: { name, namespace }, spec: { selector, namespaceSelector: { matchNames: [namespace] }, endpoints } })),
    ...[...pods].map(([namespace, endpoints]): Manifest => ({ apiVersion: MONITOR_API, kind: 'PodMonitor', metadata: { name, namespace }, spec: { selector, namespaceSelector: { matchNames: [namespace] }, podMetricsEndpoints: endpoints } })),
  ];
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
