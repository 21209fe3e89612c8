/**
 * ObservabilityStackDefinition/Instance: the whole stack as one object. The definition makes its
 * parts' definitions (`<name>-observability-dashboard`, `-metrics`, `-logging`) with its chart
 * versions and values; the instance makes their instances on its runtime — dashboards always,
 * metrics and logging when enabled (turned off later: removed; on later: installed) — with its
 * own values, which override the definition's. Grafana gets Prometheus and Loki as data sources,
 * as far as they are enabled. One stack per runtime; deleting it uninstalls its releases and
 * nothing else.
 */
import { stringify } from 'yaml';
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, Reconciler } from '../../controller/reconciler.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { layered } from '../../platform/helm/index.ts';
import { valuesOrTerminal } from '../shared/kubernetes-helpers.ts';
import { clusterOf, controlPlaneIdOf } from '../shared/runtime-cluster.ts';
import { childName, ensureChildren, removeChildren, waitingFor, type Child, type Unwanted } from '../shared/composition.ts';
import { grafanaDataSources, GRAFANA_ADMIN_SECRET, OBSERVABILITY_NAMESPACE, RELEASE_NAMES, serviceUrls } from './values.ts';

type StackDefinition = ObjectOf<'ObservabilityStackDefinition'>;
type StackInstance = ObjectOf<'ObservabilityStackInstance'>;

const suffixes = { dashboards: 'observability-dashboard', metrics: 'metrics', logging: 'logging' } as const;

/** Unset fields as null: a version the stack no longer pins is unpinned in its part too (back to the part's default). */
const given = (fields: ApiObject): ApiObject => Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, value ?? null]));

export function stackDefinitionReconciler(pollMs: number): Reconciler<StackDefinition> {
  const children = (definition: StackDefinition): Child[] => [
    {
      kind: 'ObservabilityDashboardDefinition',
      link: 'ObservabilityDashboardDefinitionID',
      name: childName(definition.Name, suffixes.dashboards),
      fields: given({ GrafanaHelmChartVersion: definition.GrafanaHelmChartVersion, GrafanaHelmValuesDocument: definition.GrafanaHelmValuesDocument ?? '' }),
    },
    {
      kind: 'MetricsDefinition',
      link: 'MetricsDefinitionID',
      name: childName(definition.Name, suffixes.metrics),
      fields: given({ KubePrometheusStackHelmChartVersion: definition.KubePrometheusStackHelmChartVersion, KubePrometheusStackHelmValuesDocument: definition.KubePrometheusStackHelmValuesDocument ?? '' }),
    },
    {
      kind: 'LoggingDefinition',
      link: 'LoggingDefinitionID',
      name: childName(definition.Name, suffixes.logging),
      fields: given({
        LokiHelmChartVersion: definition.LokiHelmChartVersion,
        LokiHelmValuesDocument: definition.LokiHelmValuesDocument ?? '',
        AlloyHelmChartVersion: definition.AlloyHelmChartVersion,
        AlloyHelmValuesDocument: definition.AlloyHelmValuesDocument ?? '',
      }),
    },
  ];
  return {
    kind: 'ObservabilityStackDefinition',
    async reconcile(context) {
      const definition = context.object;
      if (context.operation === 'Deleted') return removeChildren(context, children(definition));
      await warnOfPromtail(context);
      const pending = await ensureChildren(context, children(definition));
      if (pending.length > 0) return waitingFor(pending, pollMs);
      for (const instance of await context.client.kind('ObservabilityStackInstance').listAll({ observabilitystackdefinitionid: definition.ID })) {
        await context.requestReconcile('ObservabilityStackInstance', instance.ID, `observability stack definition ${definition.Name} changed`);
      }
      return undefined;
    },
  };
}

export function stackInstanceReconciler(pollMs: number): Reconciler<StackInstance> {
  const parts = (instance: StackInstance): Record<keyof typeof suffixes, Unwanted> => ({
    dashboards: { kind: 'ObservabilityDashboardInstance', link: 'ObservabilityDashboardInstanceID', name: childName(instance.Name, suffixes.dashboards) },
    metrics: { kind: 'MetricsInstance', link: 'MetricsInstanceID', name: childName(instance.Name, suffixes.metrics) },
    logging: { kind: 'LoggingInstance', link: 'LoggingInstanceID', name: childName(instance.Name, suffixes.logging) },
  });
  return {
    kind: 'ObservabilityStackInstance',
    statusCondition: 'Ready',
    async reconcile(context) {
      const instance = context.object;
      const named = parts(instance);
      if (context.operation === 'Deleted') {
        const removing = await removeChildren(context, Object.values(named));
        return removing ?? removeNamespace(context);
      }
      await warnOfPromtail(context);
      const definition = await context.client.kind('ObservabilityStackDefinition').get(instance.ObservabilityStackDefinitionID);
      if (definition.Reconciled !== true || definition.ObservedGeneration !== definition.Generation) return { waiting: `observability stack definition ${definition.Name} is not reconciled yet`, requeueAfterMs: pollMs };
      await refuseSecondStack(context);
      const enabled = { metrics: instance.MetricsEnabled !== false, logging: instance.LoggingEnabled !== false };
      const common = { KubernetesRuntimeInstanceID: instance.KubernetesRuntimeInstanceID };
      const wanted: Child[] = [
        {
          ...named.dashboards,
          fields: {
            ...common,
            ObservabilityDashboardDefinitionID: definition.ObservabilityDashboardDefinitionID,
            GrafanaHelmValuesDocument: stringify(layered(grafanaDataSources(enabled), valuesOrTerminal(instance.GrafanaHelmValuesDocument, 'GrafanaHelmValuesDocument'))),
          },
        },
      ];
      if (enabled.metrics) wanted.push({ ...named.metrics, fields: { ...common, MetricsDefinitionID: definition.MetricsDefinitionID, KubePrometheusStackHelmValuesDocument: instance.KubePrometheusStackHelmValuesDocument ?? '' } });
      if (enabled.logging) wanted.push({ ...named.logging, fields: { ...common, LoggingDefinitionID: definition.LoggingDefinitionID, LokiHelmValuesDocument: instance.LokiHelmValuesDocument ?? '', AlloyHelmValuesDocument: instance.AlloyHelmValuesDocument ?? '' } });
      const unwanted = [...(enabled.metrics ? [] : [named.metrics]), ...(enabled.logging ? [] : [named.logging])];
      const pending = await ensureChildren(context, wanted, unwanted);
      if (pending.length > 0) return waitingFor(pending, pollMs);
      const access = accessOf(enabled);
      await context.update((current) => (JSON.stringify(current.Access) === JSON.stringify(access) ? undefined : { Access: access }));
      await context.setCondition({
        Type: 'Ready',
        Status: 'True',
        Reason: 'Installed',
        Message: `Grafana${enabled.metrics ? ', metrics' : ''}${enabled.logging ? ', logging' : ''} in namespace ${OBSERVABILITY_NAMESPACE}; open Grafana with: ${access.Grafana}`,
      });
      return undefined;
    },
  };
}

/** How a user reaches what was installed: port-forward commands and in-cluster addresses, the admin password's Secret (never the password). */
function accessOf(enabled: { metrics: boolean; logging: boolean }): Record<string, string> {
  const urls = serviceUrls();
  const forward = (service: string, ports: string): string => `kubectl -n ${OBSERVABILITY_NAMESPACE} port-forward svc/${service} ${ports}`;
  return {
    Namespace: OBSERVABILITY_NAMESPACE,
    Grafana: `${forward(RELEASE_NAMES.grafana, '3000:80')}, then http://localhost:3000 (in the cluster: ${urls.grafana})`,
    GrafanaAdminSecret: `kubectl -n ${OBSERVABILITY_NAMESPACE} get secret ${GRAFANA_ADMIN_SECRET} -o jsonpath='{.data.admin-password}' | base64 -d`,
    ...(enabled.metrics && {
      Prometheus: `${forward(`${RELEASE_NAMES.kubePrometheusStack}-prometheus`, '9090')}, then http://localhost:9090 (in the cluster: ${urls.prometheus})`,
      Alertmanager: `${forward(`${RELEASE_NAMES.kubePrometheusStack}-alertmanager`, '9093')} (in the cluster: ${urls.alertmanager})`,
    }),
    ...(enabled.logging && { Loki: urls.loki }),
  };
}


async function refuseSecondStack(context: ReconcileContext<StackInstance>): Promise<void> {
  const instance = context.object;
  const others = (await context.client.kind('ObservabilityStackInstance').listAll({ kubernetesruntimeinstanceid: instance.KubernetesRuntimeInstanceID })).filter((other) => other.ID !== instance.ID && !other.DeletionScheduled);
  const first = others.sort((a, b) => a.ID - b.ID)[0];
  if (first && first.ID < instance.ID) throw new TerminalError(`runtime ${instance.KubernetesRuntimeInstanceID} already has observability stack instance ${first.Name}: one stack per runtime (change that one's values, or delete it first)`);
}

/** The original's configs set Promtail's version and values: said once, since Alloy collects the logs now. */
async function warnOfPromtail(context: ReconcileContext<StackDefinition | StackInstance>): Promise<void> {
  const object = context.object as ApiObject;
  if (object.PromtailHelmValuesDocument || object.PromtailHelmChartVersion) {
    await context.recordEvent({ reason: 'PromtailIgnored', type: 'Warning', note: 'Promtail is deprecated upstream: threeport collects logs with Grafana Alloy, and the Promtail fields are not used (move its settings to AlloyHelmValuesDocument)' });
  }
}

/** The namespace goes with the stack when threeport made it and no release is left in it. */
async function removeNamespace(context: ReconcileContext<StackInstance>): Promise<undefined> {
  const runtime = await context.client.kind('KubernetesRuntimeInstance').get(context.object.KubernetesRuntimeInstanceID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (!runtime || runtime.DeletionScheduled) return undefined;
  const left = (await context.client.kind('HelmWorkloadInstance').listAll({ kubernetesruntimeinstanceid: runtime.ID })).filter((release) => release.ReleaseNamespace === OBSERVABILITY_NAMESPACE);
  if (left.length > 0) return undefined;
  const cluster = await clusterOf(runtime, (value) => context.decrypt(value));
  const namespace = await cluster?.get({ apiVersion: 'v1', kind: 'Namespace', name: OBSERVABILITY_NAMESPACE }, context.signal);
  if (cluster && namespace?.metadata.labels?.[CONTROL_PLANE_LABEL] === (await controlPlaneIdOf(context.client))) {
    await cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: OBSERVABILITY_NAMESPACE }, context.signal, namespace.metadata.uid ? { uid: namespace.metadata.uid } : {});
  }
  return undefined;
}
