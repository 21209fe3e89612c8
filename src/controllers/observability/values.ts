/**
 * What threeport sets in the observability charts, and why. Common values go into the Helm
 * workload definitions (a definition's own values on top); what depends on the runtime — where
 * the other releases answer, what a simulated cluster cannot run, the control plane's own
 * endpoints on its runtime — goes into the Helm workload instances (an instance's own values on
 * top). So instance values override definition values, which override threeport's.
 */
import type { Values } from '../../platform/helm/index.ts';
import { labels } from '../../platform/kubernetes/index.ts';

/** Every release of a runtime's observability stack goes into this namespace (one stack per runtime). */
export const OBSERVABILITY_NAMESPACE = 'threeport-observability';
/** The Secret holding Grafana's admin user and generated password (never "password"). */
export const GRAFANA_ADMIN_SECRET = 'grafana-admin';
/** The Secret holding the control plane's CA, for Prometheus to verify the API's certificate. */
export const THREEPORT_CA_SECRET = 'threeport-api-ca';
/** Labels on pods' templates that Grafana Alloy turns into the `workload` and `instance` log labels. */
const LOG_LABELS = { workload: labels.WORKLOAD_NAME, instance: labels.INSTANCE_NAME } as const;

/** The releases' full names: their Services are `<name>` or `<name>-<component>` in the namespace. */
export const RELEASE_NAMES = { grafana: 'grafana', kubePrometheusStack: 'metrics', loki: 'loki', alloy: 'log-collector' } as const;

export const serviceUrls = (namespace = OBSERVABILITY_NAMESPACE) => ({
  grafana: `http://${RELEASE_NAMES.grafana}.${namespace}.svc:80`,
  prometheus: `http://${RELEASE_NAMES.kubePrometheusStack}-prometheus.${namespace}.svc:9090`,
  alertmanager: `http://${RELEASE_NAMES.kubePrometheusStack}-alertmanager.${namespace}.svc:9093`,
  loki: `http://${RELEASE_NAMES.loki}.${namespace}.svc:3100`,
});

/**
 * Grafana Alloy's pipeline on every node: each pod's logs, read through the Kubernetes API, labelled with
 * namespace, pod and container, and with the workload and instance threeport deployed it as.
 */
function alloyConfig(namespace: string): string {
  const podLabel = (label: string): string => `__meta_kubernetes_pod_label_${label.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const rule = (source: string, target: string, regex?: string): string => `  rule {\n    source_labels = ["${source}"]\n${regex ? `    regex         = "${regex}"\n` : ''}    target_label  = "${target}"\n  }`;
  const config = `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
${rule('__meta_kubernetes_namespace', 'namespace')}
${rule('__meta_kubernetes_pod_name', 'pod')}
${rule('__meta_kubernetes_pod_container_name', 'container')}
${rule(podLabel('app.kubernetes.io/name'), 'workload', '(.+)')}
${rule(podLabel('app.kubernetes.io/instance'), 'instance', '(.+)')}
${rule(podLabel(LOG_LABELS.workload), 'workload', '(.+)')}
${rule(podLabel(LOG_LABELS.instance), 'instance', '(.+)')}
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "${serviceUrls(namespace).loki}/loki/api/v1/push"
  }
}
`;
  return config;
}

export const commonValues = {
  grafana: {
    fullnameOverride: RELEASE_NAMES.grafana,
    // The admin password is generated per runtime and kept in a Secret, never a default.
    admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
    testFramework: { enabled: false },
    // Dashboards come from ConfigMaps labelled grafana_dashboard: "1" in any namespace: kube-prometheus-stack's and threeport's.
    sidecar: { dashboards: { enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' } },
  },
  kubePrometheusStack: {
    fullnameOverride: RELEASE_NAMES.kubePrometheusStack,
    // Grafana is its own release; the standard Kubernetes dashboards still come from this chart.
    grafana: { enabled: false, forceDeployDashboards: true, forceDeployDatasources: false },
    prometheus: {
      prometheusSpec: {
        // Every ServiceMonitor and PodMonitor in the cluster is scraped (workloads' too), not only the chart's own.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
      },
    },
  },
  loki: {
    fullnameOverride: RELEASE_NAMES.loki,
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: 'filesystem' },
      schemaConfig: { configs: [{ from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }] },
    },
    singleBinary: { replicas: 1 },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    // The chart's caches ask for about 10 GiB of memory: more than a single binary needs.
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    gateway: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
  },
  alloy: {
    fullnameOverride: RELEASE_NAMES.alloy,
    controller: { type: 'daemonset' },
    alloy: { configMap: { content: alloyConfig(OBSERVABILITY_NAMESPACE) } },
  },
} satisfies Record<keyof typeof RELEASE_NAMES, Values>;

/** On a simulated cluster nothing runs a Job or serves a webhook: kube-prometheus-stack's certificate Jobs and webhooks are left out there. */
export const simulatedClusterValues = {
  kubePrometheusStack: { prometheusOperator: { admissionWebhooks: { enabled: false, patch: { enabled: false } }, tls: { enabled: false } } },
} as const;

/** Grafana's data sources: Prometheus (the default) and Loki, as far as they are installed. */
export function grafanaDataSources(enabled: { metrics: boolean; logging: boolean }, namespace = OBSERVABILITY_NAMESPACE): Values {
  const urls = serviceUrls(namespace);
  const sources = [
    ...(enabled.metrics ? [{ name: 'Prometheus', type: 'prometheus', uid: 'prometheus', url: urls.prometheus, access: 'proxy', isDefault: true }] : []),
    ...(enabled.logging ? [{ name: 'Loki', type: 'loki', uid: 'loki', url: urls.loki, access: 'proxy', isDefault: !enabled.metrics }] : []),
  ];
  return { datasources: { 'datasources.yaml': { apiVersion: 1, datasources: sources } } };
}

/** Prometheus on the control plane's own runtime scrapes threeport's processes: the API (verifying its certificate with the control plane's CA), and the others' metrics listeners. */
export function selfScrapeValues(control: { api: string; scheme: 'http' | 'https'; caCertificate?: string; others: readonly string[] }): Values {
  const verifiesWithCa = control.scheme === 'https' && Boolean(control.caCertificate);
  return {
    prometheus: {
      prometheusSpec: {
        ...(verifiesWithCa && { secrets: [THREEPORT_CA_SECRET] }),
        additionalScrapeConfigs: [
          {
            job_name: 'threeport',
            scheme: control.scheme,
            metrics_path: '/metrics',
            ...(verifiesWithCa && { tls_config: { ca_file: `/etc/prometheus/secrets/${THREEPORT_CA_SECRET}/ca.crt` } }),
            static_configs: [{ targets: [control.api], labels: { source: 'threeport' } }],
          },
          ...(control.others.length > 0 ? [{ job_name: 'threeport-processes', scheme: 'http', metrics_path: '/metrics', static_configs: [{ targets: [...control.others], labels: { source: 'threeport' } }] }] : []),
        ],
      },
    },
  };
}
