import { association, boolean, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

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
    PromtailHelmChartVersion: string(),
    PromtailHelmValuesDocument: values(),
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
    PromtailHelmValuesDocument: values(),
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
    GrafanaHelmChartVersion: string({ default: '7.2.1' }),
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
    KubePrometheusStackHelmChartVersion: string({ default: '55.8.1' }),
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
  description: 'Log collection (Loki and Promtail).',
  shape: 'definition',
  controller: 'observability',
  fields: {
    LokiHelmWorkloadDefinitionID: helmLink('HelmWorkloadDefinition'),
    PromtailHelmWorkloadDefinitionID: helmLink('HelmWorkloadDefinition'),
    LokiHelmChartVersion: string({ default: '5.41.6' }),
    PromtailHelmChartVersion: string({ default: '6.15.3' }),
    LokiHelmValuesDocument: values(),
    PromtailHelmValuesDocument: values(),
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
    LokiHelmValuesDocument: values(),
    PromtailHelmValuesDocument: values(),
  },
});
