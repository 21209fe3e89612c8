/**
 * `tptctl get` tables: fetching what the columns refer to (I/O) is kept apart from building the
 * rows (pure, unit-tested).
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import { formatAge } from './table.ts';

export interface Related {
  /** `Kind/id` → the referenced object, or the error fetching it. */
  objects: Map<string, ApiObject | Error>;
  /** GatewayDefinition id → its ports, e.g. "80/http, 443/https". */
  ports: Map<number, string>;
}

interface Column {
  header: string;
  source: string;
}

export const parseColumns = (specs: readonly string[]): Column[] =>
  specs.map((spec) => {
    const at = spec.indexOf('=');
    return { header: spec.slice(0, at), source: spec.slice(at + 1) };
  });

/**
 * What a controller-reconciled object is doing: the Status line its conditions give (e.g.
 * `Healthy: 6 resource(s) ready`, `Down: StatefulSet db: 0/1 ready`, `Error: …`), or for an object
 * no controller of ours has written conditions on, the original's words.
 */
export function objectStatus(object: ApiObject): string {
  if (object.DeletionScheduled) return 'Deleting';
  if (Array.isArray(object.Conditions) && object.Conditions.length > 0 && typeof object.Status === 'string' && object.Status) return object.Status;
  if (object.CreationFailed) return 'Failed';
  if (object.Reconciled !== true) return 'Reconciling';
  return 'Healthy';
}

/** Longest STATUS cell; `tptctl describe` shows all of it. */
const STATUS_CELL = 120;

function statusCell(object: ApiObject): string {
  const line = objectStatus(object).replace(/\s+/g, ' ');
  return line.length <= STATUS_CELL ? line : `${line.slice(0, STATUS_CELL - 1)}…`;
}

function display(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function referenced(kind: Kind, object: ApiObject, source: string, related: Related): { value?: string; error?: Error } {
  const [field, sub] = source.slice(1).split('.') as [string, string | undefined];
  const spec = kind.fields[field];
  const id = object[kind.jsonKey(field)];
  if (spec?.kind !== 'scalar' || !spec.references) return { value: '' };
  if (id == null) return { value: sub ? '' : 'N/A' };
  const found = related.objects.get(`${spec.references}/${String(id)}`);
  if (found instanceof Error) return { value: '<error>', error: found };
  return { value: display(found?.[sub ?? 'Name']) };
}

/** Table rows for `objects`, plus the errors behind any `<error>` cell. */
export function tableRows(kind: Kind, objects: ApiObject[], columnSpecs: readonly string[], related: Related, now = new Date()): { headers: string[]; rows: string[][]; errors: string[] } {
  const columns = parseColumns(columnSpecs);
  const errors = new Set<string>();
  const rows = objects.map((object) =>
    columns.map(({ source }) => {
      if (source.startsWith('"')) return source.slice(1);
      if (source === '!age') return formatAge(object.CreatedAt as string | undefined, now);
      if (source === '!status') return statusCell(object);
      if (source === '!ports') return related.ports.get(object.ID as number) ?? '';
      if (source.startsWith('@')) {
        const { value, error } = referenced(kind, object, source, related);
        if (error) errors.add(error.message);
        return value ?? '';
      }
      // `Field.Key`: one key of a JSON field (an application's Placement.Name).
      const [field, key] = source.split('.') as [string, string | undefined];
      const value = object[kind.jsonKey(field)];
      return display(key === undefined ? value : (value as Record<string, unknown> | null | undefined)?.[key]);
    }),
  );
  return { headers: columns.map((column) => column.header), rows, errors: [...errors] };
}

/** Fetches the objects the `@` columns and `!ports` need. */
export async function fetchRelated(client: ApiClient, kind: Kind, objects: ApiObject[], columnSpecs: readonly string[]): Promise<Related> {
  const related: Related = { objects: new Map(), ports: new Map() };
  const wanted = new Map<string, { target: string; id: number }>();
  for (const { source } of parseColumns(columnSpecs)) {
    if (!source.startsWith('@')) continue;
    const field = source.slice(1).split('.')[0]!;
    const spec = kind.fields[field];
    if (spec?.kind !== 'scalar' || !spec.references) continue;
    for (const object of objects) {
      const id = object[kind.jsonKey(field)];
      if (typeof id === 'number') wanted.set(`${spec.references}/${id}`, { target: spec.references, id });
    }
  }
  await Promise.all(
    [...wanted].map(async ([key, { target, id }]) => {
      related.objects.set(key, await client.kind(target).get(id).catch((error: Error) => new Error(`${target} ${id}: ${error.message}`)));
    }),
  );
  if (columnSpecs.includes('PORTS=!ports')) {
    for (const object of objects) related.ports.set(object.ID as number, await gatewayPorts(client, object.ID as number));
  }
  return related;
}

async function gatewayPorts(client: ApiClient, definitionId: number): Promise<string> {
  const [http, tcp] = await Promise.all([
    client.kind('GatewayHttpPort').listAll({ gatewaydefinitionid: definitionId }),
    client.kind('GatewayTcpPort').listAll({ gatewaydefinitionid: definitionId }),
  ]);
  const httpPorts = http.map((port) => `${String(port.Port)}/${port.TLSEnabled ? 'https' : 'http'}${port.HTTPSRedirect ? ' (redirect)' : ''}`);
  const tcpPorts = tcp.map((port) => `${String(port.Port)}/tcp${port.TLSEnabled ? ' (tls)' : ''}`);
  return [...httpPorts, ...tcpPorts].join(', ');
}

export const kindOf = (name: string): Kind => registry.get(name);
