import { association, boolean, json, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

/**
 * The chart versions installed unless a definition names others: the ones tested with this
 * release of threeport. Promtail is deprecated upstream: logs are collected by Grafana Alloy, and
 * the Promtail fields are accepted (the original's configs set them) but not used.
 */
export const observabilityCharts = {
  grafana: { repository: 'https://grafana-community.github.io/helm-charts', chart: 'grafana', version: '12.11.1' },
  kubePrometheusStack: { repository: 'https://prometheus-community.github.io/helm-charts', chart: 'kube-prometheus-stack', version: '88.5.3' },
  loki: { repository: 'https://grafana-community.github.io/helm-charts', chart: 'loki', version: '18.11.0' },
  alloy: { repository: 'https://grafana.github.io/helm-charts', chart: 'alloy', version: '1.11.1' },
} as const;

const PROMTAIL = 'Deprecated upstream and not installed: logs are collected by Grafana Alloy (the Alloy fields).';

/** Helm values documents are YAML text: stored, not filterable. */
const values = (queryAliases: readonly string[] = []) => string({ query: false, queryAliases });
/** Links to the Helm workloads a controller creates for these kinds. */
const helmLink = (kind: 'HelmWorkloadDefinition' | 'HelmWorkloadInstance') => ref(kind);

export const ObservabilityStackDefinition = defineKind({
  name: 'ObservabilityStackDefinition',
  domain: 'observability',
  owners: 'platform',
  description: 'Metrics, logging and dashboards for a cluster, as one stack.',
  shape: 'definition',
  controller: 'observability',
  fields: {
    ObservabilityDashboardDefinitionID: ref('ObservabilityDashboardDefinition'),
    GrafanaHelmChartVersion: string(),
    GrafanaHelmValuesDocument: values(),
    MetricsDefinitionID: ref('MetricsDefinition'),
    KubePrometheusStackHelmChartVersion: string(),
    KubePrometheusStackHelmValuesDocument: values(),
    LoggingDefinitionID: ref('LoggingDefinition'),
    LokiHelmChartVersion: string(),
    LokiHelmValuesDocument: values(),
    PromtailHelmChartVersion: string({ description: PROMTAIL }),
    PromtailHelmValuesDocument: string({ query: false, description: PROMTAIL }),
    AlloyHelmChartVersion: string(),
    AlloyHelmValuesDocument: values(),
    ObservabilityStackInstances: association('ObservabilityStackInstance'),
  },
});

export const ObservabilityStackInstance = defineKind({
  name: 'ObservabilityStackInstance',
  domain: 'observability',
  owners: 'platform',
  description: 'An observability stack deployed to a Kubernetes runtime.',
  shape: 'instance',
  controller: 'observability',
  fields: {
    ObservabilityStackDefinitionID: ref('ObservabilityStackDefinition', { required: true, blocksDelete: true }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    MetricsEnabled: boolean({ default: true }),
    LoggingEnabled: boolean({ default: true }),
    ObservabilityDashboardInstanceID: ref('ObservabilityDashboardInstance'),
    MetricsInstanceID: ref('MetricsInstance'),
    LoggingInstanceID: ref('LoggingInstance'),
    GrafanaHelmValuesDocument: values(),
    KubePrometheusStackHelmValuesDocument: values(),
    LokiHelmValuesDocument: values(),
    PromtailHelmValuesDocument: string({ query: false, description: PROMTAIL }),
    AlloyHelmValuesDocument: values(),
    SharedByApplications: boolean({ default: false, description: 'Made for applications that ask for observability: every application on its runtime uses it, and the last of them to go removes it. False for operations’ own stacks, which applications use and never remove.' }),
    Access: json({ owner: 'controller', description: 'How to reach what was installed: {Namespace, Grafana, Prometheus, Alertmanager, GrafanaAdminSecret} (commands and addresses, never the password).' }),
  },
});

export const ObservabilityDashboardDefinition = defineKind({
  name: 'ObservabilityDashboardDefinition',
  domain: 'observability',
  owners: 'platform',
  description: 'Grafana dashboards.',
  shape: 'definition',
  controller: 'observability',
  fields: {
    GrafanaHelmWorkloadDefinitionID: helmLink('HelmWorkloadDefinition'),
    GrafanaHelmChartVersion: string({ default: observabilityCharts.grafana.version }),
    GrafanaHelmValuesDocument: values(),
    ObservabilityDashboardInstances: association('ObservabilityDashboardInstance'),
  },
});

export const ObservabilityDashboardInstance = defineKind({
  name: 'ObservabilityDashboardInstance',
  domain: 'observability',
  owners: 'platform',
  description: 'Grafana deployed to a Kubernetes runtime.',
  shape: 'instance',
  controller: 'observability',
  fields: {
    ObservabilityDashboardDefinitionID: ref('ObservabilityDashboardDefinition', { required: true, blocksDelete: true }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    GrafanaHelmWorkloadInstanceID: helmLink('HelmWorkloadInstance'),
    GrafanaHelmValuesDocument: values(['grafanahelmvaluedsdocument']),
  },
});

export const MetricsDefinition = defineKind({
  name: 'MetricsDefinition',
  domain: 'observability',
  owners: 'platform',
  description: 'Metrics collection (kube-prometheus-stack).',
  shape: 'definition',
  controller: 'observability',
  fields: {
    KubePrometheusStackHelmWorkloadDefinitionID: helmLink('HelmWorkloadDefinition'),
    KubePrometheusStackHelmChartVersion: string({ default: observabilityCharts.kubePrometheusStack.version }),
    KubePrometheusStackHelmValuesDocument: values(),
    MetricsInstances: association('MetricsInstance'),
  },
});

export const MetricsInstance = defineKind({
  name: 'MetricsInstance',
  domain: 'observability',
  owners: 'platform',
  description: 'Metrics collection deployed to a Kubernetes runtime.',
  shape: 'instance',
  controller: 'observability',
  fields: {
    MetricsDefinitionID: ref('MetricsDefinition', { required: true, blocksDelete: true }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    KubePrometheusStackHelmWorkloadInstanceID: helmLink('HelmWorkloadInstance'),
    KubePrometheusStackHelmValuesDocument: values(),
  },
});

export const LoggingDefinition = defineKind({
  name: 'LoggingDefinition',
  domain: 'observability',
  owners: 'platform',
  description: 'Log collection (Loki, with Grafana Alloy collecting the pods\' logs).',
  shape: 'definition',
  controller: 'observability',
  fields: {
    LokiHelmWorkloadDefinitionID: helmLink('HelmWorkloadDefinition'),
    PromtailHelmWorkloadDefinitionID: helmLink('HelmWorkloadDefinition'),
    AlloyHelmWorkloadDefinitionID: helmLink('HelmWorkloadDefinition'),
    LokiHelmChartVersion: string({ default: observabilityCharts.loki.version }),
    PromtailHelmChartVersion: string({ description: PROMTAIL }),
    AlloyHelmChartVersion: string({ default: observabilityCharts.alloy.version }),
    LokiHelmValuesDocument: values(),
    PromtailHelmValuesDocument: string({ query: false, description: PROMTAIL }),
    AlloyHelmValuesDocument: values(),
    LoggingInstances: association('LoggingInstance'),
  },
});

export const LoggingInstance = defineKind({
  name: 'LoggingInstance',
  domain: 'observability',
  owners: 'platform',
  description: 'Log collection deployed to a Kubernetes runtime.',
  shape: 'instance',
  controller: 'observability',
  fields: {
    LoggingDefinitionID: ref('LoggingDefinition', { required: true, blocksDelete: true }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    LokiHelmWorkloadInstanceID: helmLink('HelmWorkloadInstance'),
    PromtailHelmWorkloadInstanceID: helmLink('HelmWorkloadInstance'),
    AlloyHelmWorkloadInstanceID: helmLink('HelmWorkloadInstance'),
    LokiHelmValuesDocument: values(),
    PromtailHelmValuesDocument: string({ query: false, description: PROMTAIL }),
    AlloyHelmValuesDocument: values(),
  },
});
