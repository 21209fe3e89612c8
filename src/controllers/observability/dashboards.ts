/**
 * threeport's Grafana dashboards, as ConfigMaps Grafana's sidecar loads (label grafana_dashboard):
 * the control plane's own (API latency and errors, reconcile rates and outcomes, queue depth,
 * failures by kind) on the runtime that hosts it, and workload logs — pick a workload and an
 * instance, read its pods' logs — wherever logging is installed.
 */
import type { Manifest } from '../../model/manifest.ts';

const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' };
const LOKI = { type: 'loki', uid: 'loki' };

interface Panel {
  title: string;
  expr: string;
  legend: string;
  unit?: string;
}

function timeseries(panels: readonly Panel[]): unknown[] {
  return panels.map((panel, index) => ({
    id: index + 1,
    type: 'timeseries',
    title: panel.title,
    datasource: PROMETHEUS,
    gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
    fieldConfig: { defaults: { unit: panel.unit ?? 'short' }, overrides: [] },
    targets: [{ refId: 'A', datasource: PROMETHEUS, expr: panel.expr, legendFormat: panel.legend }],
  }));
}

const controlPlanePanels: Panel[] = [
  { title: 'API requests per second, by route', expr: 'sum by (method, route) (rate(threeport_api_requests_total[5m]))', legend: '{{method}} {{route}}', unit: 'reqps' },
  { title: 'API errors per second (5xx), by route', expr: 'sum by (method, route, status) (rate(threeport_api_requests_total{status=~"5.."}[5m]))', legend: '{{status}} {{method}} {{route}}', unit: 'reqps' },
  { title: 'API latency p99, by route', expr: 'histogram_quantile(0.99, sum by (le, route) (rate(threeport_api_request_duration_seconds_bucket[5m])))', legend: '{{route}}', unit: 's' },
  { title: 'API client errors per second (4xx)', expr: 'sum by (status) (rate(threeport_api_requests_total{status=~"4.."}[5m]))', legend: '{{status}}', unit: 'reqps' },
  { title: 'Reconciles per second, by kind and outcome', expr: 'sum by (reconciler, result) (rate(threeport_controller_reconciles_total[5m]))', legend: '{{reconciler}} {{result}}', unit: 'ops' },
  { title: 'Queue depth, by kind', expr: 'max by (reconciler) (threeport_controller_queue_depth)', legend: '{{reconciler}}' },
  { title: 'Failures in the last hour, by kind', expr: 'sum by (reconciler) (increase(threeport_controller_reconciles_total{result=~"error|terminal"}[1h]))', legend: '{{reconciler}}' },
  { title: 'Reconcile duration p95, by kind', expr: 'histogram_quantile(0.95, sum by (le, reconciler) (rate(threeport_controller_reconcile_duration_seconds_bucket[5m])))', legend: '{{reconciler}}', unit: 's' },
  { title: 'Notification to reconcile start p99', expr: 'histogram_quantile(0.99, sum by (le) (rate(threeport_controller_notification_latency_seconds_bucket[5m])))', legend: 'p99', unit: 's' },
  { title: 'Process memory (RSS)', expr: 'process_resident_memory_bytes{source="threeport"}', legend: '{{instance}}', unit: 'bytes' },
];

const lokiVariable = (name: string, query: string) => ({
  name,
  type: 'query',
  datasource: LOKI,
  query: { label: name, stream: query, type: 1 },
  definition: `label_values(${query ? `${query}, ` : ''}${name})`,
  refresh: 2,
  includeAll: name === 'instance',
  allValue: '.+',
  current: {},
});

const dashboards = {
  'threeport-control-plane': {
    uid: 'threeport-control-plane',
    title: 'threeport control plane',
    tags: ['threeport'],
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    panels: timeseries(controlPlanePanels),
  },
  'threeport-workload-logs': {
    uid: 'threeport-workload-logs',
    title: 'threeport workload logs',
    tags: ['threeport', 'logs'],
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    templating: { list: [lokiVariable('workload', ''), lokiVariable('instance', '{workload="$workload"}')] },
    panels: [
      {
        id: 1,
        type: 'logs',
        title: 'Logs of $workload ($instance)',
        datasource: LOKI,
        gridPos: { h: 24, w: 24, x: 0, y: 0 },
        options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending' },
        targets: [{ refId: 'A', datasource: LOKI, expr: '{workload="$workload", instance=~"$instance"}' }],
      },
    ],
  },
} as const;

export type DashboardName = keyof typeof dashboards;

/** The dashboard as a ConfigMap for Grafana's sidecar (in the release's namespace). */
export function dashboardConfigMap(name: DashboardName): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-dashboard`, labels: { grafana_dashboard: '1' } },
    data: { [`${name}.json`]: JSON.stringify(dashboards[name]) },
  };
}
