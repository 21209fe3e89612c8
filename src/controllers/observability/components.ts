/**
 * The three parts of an observability stack — dashboards (Grafana), metrics
 * (kube-prometheus-stack) and logging (Loki, with Grafana Alloy collecting logs) — each a
 * definition and an instance kind (the original's), made of Helm workloads: a definition makes a
 * Helm workload definition per chart (threeport's values, then its own), an instance a Helm
 * workload instance per chart on its runtime (the runtime's wiring, then its own values), which
 * the Helm workload controller installs and upgrades. Everything goes into one namespace per runtime.
 */
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, Reconciler } from '../../controller/reconciler.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { Manifest } from '../../model/manifest.ts';
import { observabilityCharts } from '../../model/kinds/observability.ts';
import { CONTROL_PLANE_LABEL } from '../../model/threeport-workload.ts';
import { layered, type Values } from '../../platform/helm/index.ts';
import { deliverSecret, withdrawSecret, type Deliverer } from '../shared/delivered-secret.ts';
import { ensureNamespace, valuesOrTerminal } from '../shared/kubernetes-helpers.ts';
import { clusterOf, controlPlaneIdOf, isSimulatedCluster, readyRuntime, type ReadyRuntime } from '../shared/runtime-cluster.ts';
import { ensureChildren, childName, removeChildren, waitingFor, type Child } from '../shared/composition.ts';
import { dashboardConfigMap } from './dashboards.ts';
import { commonValues, GRAFANA_ADMIN_SECRET, OBSERVABILITY_NAMESPACE, selfScrapeValues, simulatedClusterValues, THREEPORT_CA_SECRET } from './values.ts';

type Chart = keyof typeof observabilityCharts;

/** One chart of a part: the fields of its definition and instance that concern it. */
interface Release {
  chart: Chart;
  /** The part's definition field with the chart version, and the values fields of both. */
  versionField: string;
  valuesField: string;
  /** Links: the definition's to its Helm workload definition, the instance's to its Helm workload instance. */
  definitionLink: string;
  instanceLink: string;
}

export interface Part {
  name: 'dashboards' | 'metrics' | 'logging';
  definitionKind: 'ObservabilityDashboardDefinition' | 'MetricsDefinition' | 'LoggingDefinition';
  instanceKind: 'ObservabilityDashboardInstance' | 'MetricsInstance' | 'LoggingInstance';
  /** The instance's field naming its definition. */
  definitionRef: string;
  releases: Release[];
}

const release = (chart: Chart, prefix: string): Release => ({
  chart,
  versionField: `${prefix}HelmChartVersion`,
  valuesField: `${prefix}HelmValuesDocument`,
  definitionLink: `${prefix}HelmWorkloadDefinitionID`,
  instanceLink: `${prefix}HelmWorkloadInstanceID`,
});

export const parts: Record<Part['name'], Part> = {
  dashboards: {
    name: 'dashboards',
    definitionKind: 'ObservabilityDashboardDefinition',
    instanceKind: 'ObservabilityDashboardInstance',
    definitionRef: 'ObservabilityDashboardDefinitionID',
    releases: [release('grafana', 'Grafana')],
  },
  metrics: {
    name: 'metrics',
    definitionKind: 'MetricsDefinition',
    instanceKind: 'MetricsInstance',
    definitionRef: 'MetricsDefinitionID',
    releases: [release('kubePrometheusStack', 'KubePrometheusStack')],
  },
  logging: {
    name: 'logging',
    definitionKind: 'LoggingDefinition',
    instanceKind: 'LoggingInstance',
    definitionRef: 'LoggingDefinitionID',
    releases: [release('loki', 'Loki'), release('alloy', 'Alloy')],
  },
};

const releaseSuffix: Record<Chart, string> = { grafana: 'grafana', kubePrometheusStack: 'kube-prometheus-stack', loki: 'loki', alloy: 'alloy' };

type Parent = ApiObject & { ID: number; Name: string };


/** Additional resources of the Helm workload definitions: the workload logs dashboard comes with Grafana. */
const definitionResources = (chart: Chart): Manifest[] => (chart === 'grafana' ? [dashboardConfigMap('threeport-workload-logs')] : []);

export function partDefinitionReconciler(part: Part, pollMs: number): Reconciler<Parent> {
  const children = (definition: Parent): Child[] =>
    part.releases.map((r) => ({
      kind: 'HelmWorkloadDefinition',
      link: r.definitionLink,
      name: childName(definition.Name, releaseSuffix[r.chart]),
      fields: {
        Repo: observabilityCharts[r.chart].repository,
        Chart: observabilityCharts[r.chart].chart,
        ChartVersion: String(definition[r.versionField] ?? observabilityCharts[r.chart].version),
        ValuesDocument: stringify(layered(commonValues[r.chart], valuesOrTerminal(definition[r.valuesField], `${part.definitionKind} ${definition.Name}'s ${r.valuesField}`))),
        AdditionalResources: definitionResources(r.chart),
      },
    }));
  return {
    kind: part.definitionKind,
    async reconcile(context) {
      const definition = context.object;
      if (context.operation === 'Deleted') return removeChildren(context, children(definition));
      const pending = await ensureChildren(context, children(definition));
      if (pending.length > 0) return waitingFor(pending, pollMs);
      // A changed definition reaches its instances' releases (an upgrade).
      for (const instance of await context.client.kind(part.instanceKind).listAll({ [part.definitionRef.toLowerCase()]: definition.ID })) {
        await context.requestReconcile(part.instanceKind, Number(instance.ID), `${part.definitionKind} ${definition.Name} changed`);
      }
      return undefined;
    },
  };
}

/** Where Prometheus on the control plane's own runtime finds threeport's processes, and the CA the API's certificate is of. */
export interface ControlPlaneAccess {
  /** The API's host:port (in the all-in-one, its controllers' metrics too). */
  api: string;
  scheme: 'http' | 'https';
  caCertificate?: string;
  /** Other processes' metrics listeners (plain HTTP): controllers run apart. */
  others: string[];
}

export interface InstanceSettings {
  pollMs: number;
  controlPlane?: ControlPlaneAccess;
}

export function partInstanceReconciler(part: Part, settings: InstanceSettings): Reconciler<Parent> {
  return {
    kind: part.instanceKind,
    async reconcile(context) {
      const instance = context.object;
      const releaseName = (r: Release): string => childName(instance.Name, releaseSuffix[r.chart]);
      if (context.operation === 'Deleted') {
        const removing = await removeChildren(context, part.releases.map((r) => ({ kind: 'HelmWorkloadInstance', link: r.instanceLink, name: releaseName(r) })));
        if (!removing) await withdrawPrepared(part, context);
        return removing;
      }
      const definition = (await context.client.kind(part.definitionKind).get(Number(instance[part.definitionRef]))) as Parent;
      if (definition.Reconciled !== true || definition.ObservedGeneration !== definition.Generation) return { waiting: `${part.definitionKind} ${definition.Name} is not reconciled yet`, requeueAfterMs: settings.pollMs };
      const target = await readyRuntime(context.client, Number(instance.KubernetesRuntimeInstanceID), (value) => context.decrypt(value));
      if ('waiting' in target) return { ...target, requeueAfterMs: settings.pollMs };
      const controlPlaneHost = target.runtime.ThreeportControlPlaneHost === true;
      await prepare(part, context, target, controlPlaneHost ? settings.controlPlane : undefined);
      const runtimeValues = await runtimeValuesOf(part, target, controlPlaneHost ? settings.controlPlane : undefined, context.signal);
      const wanted: Child[] = part.releases.map((r) => {
        const helmDefinition = definition[r.definitionLink];
        if (typeof helmDefinition !== 'number') throw new TerminalError(`${part.definitionKind} ${definition.Name} has no Helm workload definition for ${r.chart}`);
        return {
          kind: 'HelmWorkloadInstance',
          link: r.instanceLink,
          name: releaseName(r),
          fields: {
            HelmWorkloadDefinitionID: helmDefinition,
            KubernetesRuntimeInstanceID: instance.KubernetesRuntimeInstanceID,
            ReleaseNamespace: OBSERVABILITY_NAMESPACE,
            ValuesDocument: stringify(layered(runtimeValues[r.chart] ?? {}, valuesOrTerminal(instance[r.valuesField], `${part.instanceKind} ${instance.Name}'s ${r.valuesField}`))),
            AdditionalResources: r.chart === 'grafana' && controlPlaneHost && settings.controlPlane ? [dashboardConfigMap('threeport-control-plane')] : [],
          },
        };
      });
      const pending = await ensureChildren(context, wanted);
      if (pending.length > 0) return waitingFor(pending, settings.pollMs);
      if (part.name === 'metrics') await askWorkloadsForMonitors(context);
      return undefined;
    },
  };
}

/** The values a part's releases get on this runtime (before the instance's own). */
async function runtimeValuesOf(part: Part, target: ReadyRuntime, control: ControlPlaneAccess | undefined, signal: AbortSignal): Promise<Partial<Record<Chart, Values>>> {
  if (part.name === 'metrics') {
    const simulated = await isSimulatedCluster(target.cluster, signal);
    return {
      kubePrometheusStack: layered(
        simulated ? simulatedClusterValues.kubePrometheusStack : {},
        control ? selfScrapeValues(control) : {},
      ),
    };
  }
  return {};
}

/** Who delivers a part's Secrets into the namespace (so removing the part removes exactly them). */
const delivererOf = (part: Part, controlPlaneId: string): Deliverer => ({ label: 'control-plane.threeport.io/observability', value: part.name, description: `threeport's observability ${part.name}`, controlPlaneId });

/** The Secrets a part's releases read: Grafana's admin user (its password generated once, kept), the control plane's CA for Prometheus. */
const preparedSecrets: Record<Part['name'], string[]> = { dashboards: [GRAFANA_ADMIN_SECRET], metrics: [THREEPORT_CA_SECRET], logging: [] };

/** What the releases need in the namespace before they are installed: the namespace, and the part's Secrets. */
async function prepare(part: Part, context: ReconcileContext<Parent>, target: ReadyRuntime, control: ControlPlaneAccess | undefined): Promise<void> {
  const { cluster } = target;
  const controlPlaneId = await controlPlaneIdOf(context.client);
  await ensureNamespace(cluster, OBSERVABILITY_NAMESPACE, { [CONTROL_PLANE_LABEL]: controlPlaneId }, context.signal);
  const by = delivererOf(part, controlPlaneId);
  if (part.name === 'dashboards') {
    const live = await cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: OBSERVABILITY_NAMESPACE, name: GRAFANA_ADMIN_SECRET }, context.signal);
    const kept = (live as { data?: Record<string, string> } | undefined)?.data?.['admin-password'];
    const password = kept ? Buffer.from(kept, 'base64').toString('utf8') : randomBytes(24).toString('base64url');
    await deliverSecret(cluster, { namespace: OBSERVABILITY_NAMESPACE, name: GRAFANA_ADMIN_SECRET, data: { 'admin-user': 'admin', 'admin-password': password } }, by, context.signal);
  }
  if (part.name === 'metrics' && control?.caCertificate) {
    await deliverSecret(cluster, { namespace: OBSERVABILITY_NAMESPACE, name: THREEPORT_CA_SECRET, data: { 'ca.crt': control.caCertificate } }, by, context.signal);
  }
}

/** The part's Secrets go with it (its releases are gone by then). */
async function withdrawPrepared(part: Part, context: ReconcileContext<Parent>): Promise<void> {
  const runtime = await context.client.kind('KubernetesRuntimeInstance').get(Number(context.object.KubernetesRuntimeInstanceID)).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (!runtime || runtime.DeletionScheduled) return;
  const cluster = await clusterOf(runtime, (value) => context.decrypt(value));
  if (!cluster) return;
  const by = delivererOf(part, await controlPlaneIdOf(context.client));
  for (const name of preparedSecrets[part.name]) await withdrawSecret(cluster, { namespace: OBSERVABILITY_NAMESPACE, name }, by, context.signal);
}

/** Workloads that declare a metrics port get their ServiceMonitor once the runtime serves the kind: each is asked to look again. */
async function askWorkloadsForMonitors(context: ReconcileContext<Parent>): Promise<void> {
  const workloads = await context.client.kind('WorkloadInstance').listAll({ kubernetesruntimeinstanceid: Number(context.object.KubernetesRuntimeInstanceID) });
  for (const workload of workloads) await context.requestReconcile('WorkloadInstance', workload.ID, 'metrics are collected on its runtime now');
}

