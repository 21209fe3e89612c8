/**
 * `tptctl why`: walks what an object depends on — its references (instance → definition →
 * runtime → EKS cluster → cloud account; secret → definition → account), what is attached to a
 * workload (gateways, domain names, secrets, databases, buckets), the support services those run
 * on, a delivery's current environment — and names the first thing not ready whose own
 * dependencies are, with its Status and latest warning event. Everything comes from what the
 * controllers record; nothing is asked of a cluster.
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { childRecordsOf } from '../../model/application-children.ts';
import { unreadiness } from '../../model/readiness.ts';
import { registry } from '../../model/registry.ts';
import { supportServiceDefinitionName, type SupportServiceName } from '../../model/support-services.ts';
import { humanName } from '../kind-names.ts';
import { objectStatus } from '../output/get-table.ts';
import { formatAge } from '../output/table.ts';
import { warningEvents } from '../output/warning-events.ts';

export interface WhyNode {
  kind: string;
  object: ApiObject;
  /** Why it is not ready; undefined when it is. */
  problem?: string;
  /** Its latest warning, when it has one. */
  warning?: string;
  /** Its dependencies, as far as they were walked. */
  dependencies: WhyNode[];
}

/** What a workload uses: objects attached to it, which it is not ready without. */
const ATTACHMENTS: Readonly<Record<string, readonly [kind: string, field: string][]>> = {
  WorkloadInstance: [
    ['GatewayInstance', 'workloadinstanceid'],
    ['DomainNameInstance', 'workloadinstanceid'],
    ['SecretInstance', 'workloadinstanceid'],
    ['AwsRelationalDatabaseInstance', 'workloadinstanceid'],
    ['AwsObjectStorageBucketInstance', 'workloadinstanceid'],
  ],
  HelmWorkloadInstance: [['SecretInstance', 'helmworkloadinstanceid']],
  // An EKS runtime is made by its cloud object.
  KubernetesRuntimeInstance: [['AwsEksKubernetesRuntimeInstance', 'kubernetesruntimeinstanceid']],
};

/** Support services (Helm workloads threeport installs per runtime) each kind runs on. */
const SUPPORT_SERVICES: Readonly<Record<string, readonly SupportServiceName[]>> = {
  GatewayInstance: ['gateway', 'cert-manager'],
  DomainNameInstance: ['external-dns'],
  SecretInstance: ['external-secrets'],
};

/** Why the object is not ready, from what its controller recorded; undefined when it is. */
export function problemOf(kind: Kind, object: ApiObject): string | undefined {
  switch (unreadiness(kind, object)) {
    case 'deleting':
      return `being deleted (${objectStatus(object)})`;
    case 'failed':
    case 'failing':
      return objectStatus(object);
    case 'unfinished':
      return `${objectStatus(object)}: its controller has not finished the latest change`;
    case 'unreported':
      return `${objectStatus(object)}: its health is not reported yet`;
    default:
      return undefined;
  }
}

export class DependencyWalker {
  readonly #client: ApiClient;
  readonly #seen = new Set<string>();

  constructor(client: ApiClient) {
    this.#client = client;
  }

  async walk(kind: Kind, object: ApiObject): Promise<WhyNode> {
    this.#seen.add(`${kind.name}/${String(object.ID)}`);
    const problem = problemOf(kind, object);
    const dependencies: WhyNode[] = [];
    for (const [dependencyKind, dependency] of await this.#dependenciesOf(kind, object)) {
      if (this.#seen.has(`${dependencyKind.name}/${String(dependency.ID)}`)) continue;
      dependencies.push(await this.walk(dependencyKind, dependency));
    }
    const warning = problem ? await this.#latestWarning(kind, object) : undefined;
    return { kind: kind.name, object, ...(problem && { problem }), ...(warning && { warning }), dependencies };
  }

  async #dependenciesOf(kind: Kind, object: ApiObject): Promise<[Kind, ApiObject][]> {
    const found: [Kind, ApiObject][] = [];
    const add = (target: Kind, objects: readonly ApiObject[]): void => {
      for (const dependency of objects) found.push([target, dependency]);
    };
    for (const [name, field] of Object.entries(kind.fields)) {
      const id = object[kind.jsonKey(name)];
      if (field.kind !== 'scalar' || !field.references || typeof id !== 'number') continue;
      const target = registry.get(field.references);
      const referenced = await this.#client.kind(target.name).get(id).catch(() => undefined);
      if (referenced) add(target, [referenced]);
    }
    for (const [attachedKind, key] of ATTACHMENTS[kind.name] ?? []) add(registry.get(attachedKind), await this.#client.kind(attachedKind).listAll({ [key]: Number(object.ID) }));
    const runtimeId = object.KubernetesRuntimeInstanceID;
    for (const service of SUPPORT_SERVICES[kind.name] ?? []) {
      if (typeof runtimeId !== 'number') break;
      const definition = await this.#client.kind('HelmWorkloadDefinition').findByName(supportServiceDefinitionName(service));
      if (!definition) continue;
      add(registry.get('HelmWorkloadInstance'), await this.#client.kind('HelmWorkloadInstance').listAll({ helmworkloaddefinitionid: definition.ID, kubernetesruntimeinstanceid: runtimeId }));
    }
    if (kind.name === 'Delivery') for (const [instanceKind, instance] of await this.#deliveryInstances(object)) add(instanceKind, [instance]);
    // An application depends on everything it made or uses.
    if (kind.name === 'Application') {
      for (const child of childRecordsOf(object)) {
        const part = await this.#client.kind(child.Kind).get(child.ID).catch(() => undefined);
        if (part) add(registry.get(child.Kind), [part]);
      }
    }
    return found;
  }

  /** The instances of the environment a delivery is in now. */
  async #deliveryInstances(delivery: ApiObject): Promise<[Kind, ApiObject][]> {
    const progress = Array.isArray(delivery.Progress) ? (delivery.Progress as { Name: string; Instances?: { Kind: string; ID: number }[] }[]) : [];
    const current = progress.find((entry) => entry.Name === delivery.Environment);
    const instances: [Kind, ApiObject][] = [];
    for (const member of current?.Instances ?? []) {
      if (member.Kind !== 'WorkloadInstance' && member.Kind !== 'HelmWorkloadInstance') continue;
      const instance = await this.#client.kind(member.Kind).get(member.ID).catch(() => undefined);
      if (instance) instances.push([registry.get(member.Kind), instance]);
    }
    return instances;
  }

  async #latestWarning(kind: Kind, object: ApiObject): Promise<string | undefined> {
    const { events } = await warningEvents(this.#client, kind.name, Number(object.ID)).catch(() => ({ events: [] }));
    const latest = events[0]; // newest first
    return latest ? `${latest.reason}: ${latest.message}${latest.time ? ` (${formatAge(latest.time)} ago)` : ''}` : undefined;
  }
}

/** The deepest node not ready whose dependencies all are: what to fix first. */
export function rootCause(node: WhyNode): WhyNode[] | undefined {
  for (const dependency of node.dependencies) {
    const path = rootCause(dependency);
    if (path) return [node, ...path];
  }
  return node.problem ? [node] : undefined;
}

export const nodeName = (node: WhyNode): string => `${humanName(node.kind)} ${String(node.object.Name ?? node.object.ID)}`;

/** The answer as a person reads it. */
export function explain(node: WhyNode): string {
  const path = rootCause(node);
  if (!path) return `${nodeName(node)} is ready, and so is everything it depends on.`;
  const cause = path[path.length - 1]!;
  const lines = [path.length === 1 ? `${nodeName(node)} is not ready: ${cause.problem}` : `${nodeName(node)} is not ready because ${nodeName(cause)} is not:`];
  if (path.length > 1) {
    path.forEach((step, index) => lines.push(`${'  '.repeat(index + 1)}${index === 0 ? '' : '└─ '}${nodeName(step)}: ${step.problem ?? 'ready'}`));
  }
  if (cause.warning) lines.push(`Latest warning on ${nodeName(cause)}: ${cause.warning}`);
  return lines.join('\n');
}
