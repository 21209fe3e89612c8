/**
 * `tptctl describe` in plain text: the original's header lines, then what the object is
 * associated with, the instances derived from a definition, its status with the reason, a
 * workload instance's resources with their readiness, and its warning events. Gathering (I/O) is
 * separate from the text (pure).
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { childRecordsOf } from '../../model/application-children.ts';
import { registry } from '../../model/registry.ts';
import { gatewayAddresses, hostOf, httpPortOf, tcpPortOf } from '../../model/gateway-addresses.ts';
import { commandName } from '../kind-names.ts';
import { DependencyWalker, nodeName, rootCause, type WhyNode } from '../operations/why.ts';
import { objectStatus } from './get-table.ts';
import { supportServiceRows, type SupportServiceRow } from './support-services.ts';
import { formatAge, renderTable } from './table.ts';
import { warningEvents, type WarningDigest } from './warning-events.ts';
import { workloadResources, type ResourceRow } from './workload-resources.ts';

export interface PartRow {
  depth: number;
  role: string;
  kind: string;
  name: string;
  made: boolean;
  status: string;
}

export interface GatewayRow {
  name: string;
  urls: string[];
  status: string;
}

export interface Description {
  kind: Kind;
  object: ApiObject;
  /** Reference field → name of the referenced object. */
  associated: { kind: string; name: string }[];
  /** For definitions: the child kind and the names of the instances derived from it. */
  derived?: { kind: string; names: string[] };
  /** For workload instances: their resources in the cluster. */
  resources?: ResourceRow[];
  /** For workload instances: the gateways that make them reachable, and where. */
  gateways?: GatewayRow[];
  /** For runtimes: the support services threeport installed there. */
  supportServices?: SupportServiceRow[];
  /** For objects built in a cloud (EKS runtimes, databases, buckets): what was made so far, and what was decided once. */
  inventory?: InventoryDescription;
  /** What controllers report as a flat record: where a secret was delivered or is kept, how to reach a stack. */
  reports?: { field: string; entries: [string, string][] }[];
  /** The dependency to fix first, when something the object depends on is not ready (operations/why.ts). */
  blockedBy?: string;
  /** For applications: what each is made of and uses, nested applications' parts indented under them. */
  parts?: PartRow[];
  /** For deliveries: each environment reached, its state and instances. */
  environments?: { name: string; state: string; instances: string; since: string; message: string }[];
  warnings: WarningDigest;
}

const isScalar = (value: unknown): value is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof value);

/** The kind's controller-owned JSON fields (but its ResourceInventory) that hold a flat record, as key/value rows. */
function reportsOf(kind: Kind, object: ApiObject): NonNullable<Description['reports']> {
  const reports: NonNullable<Description['reports']> = [];
  for (const [name, field] of Object.entries(kind.fields)) {
    if (field.kind !== 'scalar' || field.valueType !== 'json' || field.owner !== 'controller' || field.encrypted || name === 'ResourceInventory') continue;
    const value = object[kind.jsonKey(name)];
    if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every(isScalar)) continue;
    reports.push({ field: name, entries: Object.entries(value as Record<string, string | number | boolean>).map(([key, entry]): [string, string] => [key, String(entry)]) });
  }
  return reports;
}

export interface InventoryDescription {
  /** What the object decided once and keeps (names, region, zones), secrets left out. */
  settings: [string, string][];
  resources: { key: string; id: string; state: string }[];
}

/** The object's ResourceInventory as `describe` shows it; undefined for kinds without one. */
export function inventoryDescription(object: ApiObject): InventoryDescription | undefined {
  const inventory = object.ResourceInventory;
  if (!inventory || typeof inventory !== 'object' || Array.isArray(inventory)) return undefined;
  const { Resources: resources = {}, ...rest } = inventory as Record<string, unknown>;
  const settings = Object.entries(rest)
    .filter(([key, value]) => !/password|secret|token|key/i.test(key) && (typeof value === 'string' || (Array.isArray(value) && value.every((entry) => typeof entry === 'string'))))
    .map(([key, value]): [string, string] => [key, Array.isArray(value) ? value.join(' ') : String(value)])
    .sort(([a], [b]) => a.localeCompare(b));
  const rows = Object.entries(resources as Record<string, Record<string, string>>)
    .map(([key, made]) => ({ key, id: String(made.id ?? ''), state: made.removing ? 'being removed' : 'made' }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return { settings, resources: rows };
}

/** The status word and its reason: from the Status line its conditions give, else the original's words. */
export function statusParts(object: ApiObject): { status: string; reason?: string } {
  const status = objectStatus(object);
  if (object.DeletionScheduled) return { status, reason: `deletion scheduled at ${String(object.DeletionScheduled)}; waiting for a controller to clean up${object.Status ? ` (${String(object.Status)})` : ''}` };
  const line = /^([A-Z][A-Za-z]*): ([\s\S]+)$/.exec(status);
  if (line) return { status: line[1]!, reason: line[2]! };
  if (status !== object.Status && object.Status) return { status, reason: String(object.Status) };
  if (object.Reconciled !== true) return { status, reason: 'waiting for a controller to reconcile it' };
  return { status };
}

/** The original's label: `* Workload Status:` for workload instances, `* <Kind> Status:` otherwise. */
const statusLabel = (kind: Kind): string => (kind.name === 'WorkloadInstance' ? 'Workload' : kind.name);

export function describeText(description: Description, now = new Date()): string {
  const { kind, object } = description;
  const lines = [`* ${kind.name} Name: ${String(object.Name ?? object.ID)}`, `* Created: ${String(object.CreatedAt)}`, `* Last Modified: ${String(object.UpdatedAt)}`];
  for (const { kind: target, name } of description.associated) lines.push(`* Associated ${target}: ${name}`);
  if (description.derived) {
    const { kind: child, names } = description.derived;
    if (names.length === 0) lines.push(`* No ${child}s currently derived from this definition.`);
    else lines.push(`* Derived ${child}s:`, ...names.map((name) => `  * ${name}`));
  }
  if (kind.controller) {
    const { status, reason } = statusParts(object);
    lines.push(`* ${statusLabel(kind)} Status: ${status}`);
    if (reason) lines.push(`* ${statusLabel(kind)} Status Reason: ${reason}`);
  }
  if (description.blockedBy) lines.push(`* Not Ready Because: ${description.blockedBy} (tptctl why ${commandName(kind.name)} ${String(object.Name ?? object.ID)})`);
  if (description.resources) {
    const rows = description.resources;
    if (rows.length === 0) lines.push('* No resources deployed yet.');
    else lines.push(`* Resources (${rows.length}):`, renderTable(['KIND', 'NAMESPACE/NAME', 'READY', 'LAST OPERATION'], rows.map((row) => [row.kind, row.name, row.ready, row.lastOperation])));
  }
  if (description.gateways?.length) {
    lines.push('* Gateways:', renderTable(['NAME', 'URL', 'STATUS'], description.gateways.map((gateway) => [gateway.name, gateway.urls.join(' ') || '-', gateway.status])));
  }
  if (description.supportServices) {
    const rows = description.supportServices;
    if (rows.length === 0) lines.push('* No support services installed (they are installed when a gateway or domain name first needs them).');
    else lines.push('* Support Services:', renderTable(['SERVICE', 'CHART', 'NAMESPACE', 'STATUS', 'AGE'], rows.map((row) => [row.service, row.chart, row.namespace, row.status, formatAge(row.createdAt, now)])));
  }
  if (description.inventory) {
    const { settings, resources } = description.inventory;
    if (settings.length > 0) lines.push(`* Cloud Settings: ${settings.map(([key, value]) => `${key}=${value}`).join(', ')}`);
    if (resources.length === 0) lines.push('* No cloud resources made yet.');
    else lines.push(`* Cloud Resources (${resources.length}):`, renderTable(['RESOURCE', 'ID', 'STATE'], resources.map((row) => [row.key, row.id, row.state])));
  }
  if (description.parts) {
    const rows = description.parts;
    if (rows.length === 0) lines.push('* No parts made or found yet.');
    else lines.push('* Parts:', renderTable(['PART', 'KIND', 'NAME', 'MADE', 'STATUS'], rows.map((row) => [`${row.depth > 0 ? `${'  '.repeat(row.depth - 1)}└─ ` : ''}${row.role}`, row.kind, row.name, row.made ? 'made' : 'used', row.status])));
  }
  if (description.environments) {
    const rows = description.environments;
    if (rows.length === 0) lines.push('* No environment reached yet.');
    else lines.push('* Environments:', renderTable(['ENVIRONMENT', 'STATE', 'INSTANCES', 'SINCE', 'DETAIL'], rows.map((row) => [row.name, row.state, row.instances, formatAge(row.since, now), row.message || '-'])));
  }
  for (const { field, entries } of description.reports ?? []) lines.push(`* ${field}:`, ...entries.map(([key, value]) => `  ${key}: ${value}`));
  const { events, omitted } = description.warnings;
  if (events.length > 0) {
    lines.push(
      'Failed & Warning Events:',
      renderTable(['TYPE', 'REASON', 'MESSAGE', 'AGE'], events.map((event) => [event.type, event.reason, event.count > 1 ? `${event.message} (${event.count} times)` : event.message, formatAge(event.time, now)])),
    );
    if (omitted > 0) lines.push(`(${omitted} older warning(s) not shown)`);
  }
  return lines.join('\n');
}

/** The child kind whose objects are derived from a definition, and its field pointing back. */
function derivedKind(kind: Kind): { child: Kind; field: string } | undefined {
  if (kind.shape !== 'definition') return undefined;
  for (const field of Object.values(kind.fields)) {
    if (field.kind !== 'association' || !field.childKind.endsWith('Instance')) continue;
    const child = registry.get(field.childKind);
    const back = Object.entries(child.fields).find(([, spec]) => spec.kind === 'scalar' && spec.references === kind.name);
    if (back) return { child, field: back[0] };
  }
  return undefined;
}

export async function gatherDescription(client: ApiClient, kind: Kind, object: ApiObject): Promise<Description> {
  const associated: Description['associated'] = [];
  for (const [name, field] of Object.entries(kind.fields)) {
    const id = object[kind.jsonKey(name)];
    if (field.kind !== 'scalar' || !field.references || typeof id !== 'number') continue;
    const target = await client.kind(field.references).get(id).catch(() => undefined);
    associated.push({ kind: field.references, name: target ? String(target.Name ?? id) : `<missing ID ${id}>` });
  }
  const id = object.ID as number;
  const derivation = derivedKind(kind);
  const derived = derivation
    ? { kind: derivation.child.name, names: (await client.kind(derivation.child.name).listAll({ [derivation.field.toLowerCase()]: id })).map((child) => String(child.Name)) }
    : undefined;
  const resources = kind.name === 'WorkloadInstance' ? await workloadResources(client, id) : undefined;
  const gateways = kind.name === 'WorkloadInstance' ? await gatewaysOf(client, id) : undefined;
  const supportServices = kind.name === 'KubernetesRuntimeInstance' ? await supportServiceRows(client, id) : undefined;
  const environments = kind.name === 'Delivery' ? deliveryEnvironments(object) : undefined;
  const parts = kind.name === 'Application' ? await applicationParts(client, object) : undefined;
  const blockedBy = kind.controller ? blockingDependency(await new DependencyWalker(client).walk(kind, object)) : undefined;
  const inventory = 'ResourceInventory' in kind.fields ? (inventoryDescription(object) ?? { settings: [], resources: [] }) : undefined;
  return {
    kind,
    object,
    associated,
    ...(derived && { derived }),
    ...(resources && { resources }),
    ...(gateways && { gateways }),
    ...(supportServices && { supportServices }),
    ...(inventory && { inventory }),
    ...(environments && { environments }),
    ...(parts && { parts }),
    ...(blockedBy && { blockedBy }),
    reports: reportsOf(kind, object),
    warnings: await warningEvents(client, kind.name, id),
  };
}

/** The dependency to fix first, when it is not the object itself. */
function blockingDependency(node: WhyNode): string | undefined {
  const path = rootCause(node);
  const cause = path && path.length > 1 ? path[path.length - 1]! : undefined;
  return cause ? `${nodeName(cause)}: ${cause.problem}` : undefined;
}

/** An application's Children as rows, each nested application's own under it (each application once). */
async function applicationParts(client: ApiClient, application: ApiObject, depth = 0, seen = new Set<number>()): Promise<PartRow[]> {
  seen.add(Number(application.ID));
  const rows: PartRow[] = [];
  for (const child of childRecordsOf(application)) {
    const object = await client.kind(child.Kind).get(child.ID).catch(() => undefined);
    rows.push({ depth, role: child.Role, kind: child.Kind, name: child.Name, made: child.Made, status: object ? objectStatus(object) : 'gone' });
    if (object && child.Kind === 'Application' && !seen.has(child.ID)) rows.push(...(await applicationParts(client, object, depth + 1, seen)));
  }
  return rows;
}

/** A delivery's Progress as rows: where the build went, in order. */
function deliveryEnvironments(delivery: ApiObject): NonNullable<Description['environments']> {
  const progress = Array.isArray(delivery.Progress) ? (delivery.Progress as Record<string, unknown>[]) : [];
  return progress.map((entry) => ({
    name: String(entry.Name),
    state: String(entry.State),
    instances: Array.isArray(entry.Instances) ? (entry.Instances as { Name: string }[]).map((instance) => instance.Name).join(', ') || '-' : '-',
    since: String(entry.PassedAt ?? entry.HealthyAt ?? entry.StartedAt),
    message: typeof entry.Message === 'string' ? entry.Message : '',
  }));
}

/** A workload instance's gateways: their URLs from the definition's ports and domain (without a domain, the address is the gateway's, in its status). */
async function gatewaysOf(client: ApiClient, workloadInstanceId: number): Promise<GatewayRow[]> {
  const rows: GatewayRow[] = [];
  for (const gateway of await client.kind('GatewayInstance').listAll({ workloadinstanceid: workloadInstanceId })) {
    const definition = await client.kind('GatewayDefinition').get(Number(gateway.GatewayDefinitionID)).catch(() => undefined);
    const domain = definition?.DomainNameDefinitionID ? await client.kind('DomainNameDefinition').get(Number(definition.DomainNameDefinitionID)).catch(() => undefined) : undefined;
    const byPort = <T extends { port: number }>(ports: T[]): T[] => ports.sort((a, b) => a.port - b.port);
    const httpPorts = definition ? byPort((await client.kind('GatewayHttpPort').listAll({ gatewaydefinitionid: definition.ID })).map(httpPortOf)) : [];
    const tcpPorts = definition ? byPort((await client.kind('GatewayTcpPort').listAll({ gatewaydefinitionid: definition.ID })).map(tcpPortOf)) : [];
    const urls = domain ? gatewayAddresses(hostOf(definition?.SubDomain ? String(definition.SubDomain) : undefined, String(domain.Domain)), httpPorts, tcpPorts) : [];
    rows.push({ name: String(gateway.Name), urls, status: objectStatus(gateway) });
  }
  return rows;
}
