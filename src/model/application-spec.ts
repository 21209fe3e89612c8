/**
 * What an Application declares, checked on write: the workload (manifests or a chart), the runtime
 * it runs on (named, or requirements threeport places it by), what it needs (gateway and domain,
 * secret, database, bucket, observability) and the applications it depends on (named, or nested as deep as
 * needed). Only the shape is checked here; each part's own fields are checked by its kind when the
 * application controller makes it, and a refusal there lands in the application's Status.
 */
import type { Field } from './fields.ts';
import { AwsObjectStorageBucketDefinition, AwsRelationalDatabaseDefinition } from './kinds/aws.ts';
import { DomainNameDefinition, GatewayDefinition } from './kinds/gateway.ts';
import { infraProviders, locations } from './kinds/kubernetes-runtime.ts';
import { SecretDefinition, secretValuesProblem } from './kinds/secret.ts';

type Values = Record<string, unknown>;
export const isRecord = (value: unknown): value is Values => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Where the workload runs: an existing runtime by Name, or requirements. */
export interface RuntimeRequirements {
  Name?: string;
  Location?: string;
  InfraProvider?: (typeof infraProviders)[number];
  NodeSize?: string;
  NodeProfile?: string;
  NodeMaximum?: number;
  /** Three zones instead of two (EKS). */
  HighAvailability?: boolean;
  /** external-dns's provider on the runtime (aws, or the control plane's configured one). */
  DnsProvider?: string;
}

/** A part the application needs: only a Name uses an existing definition of that name; more fields make one. */
export type Part = Values & { Name?: string };

export interface ApplicationSpec {
  Name: string;
  Tier?: string;
  Profile?: string;
  Runtime?: RuntimeRequirements;
  YAMLDocument?: string;
  Helm?: Values;
  DomainName?: Part;
  Gateway?: Part;
  AwsRelationalDatabase?: Part;
  AwsObjectStorageBucket?: Part;
  Secret?: Part;
  Observability?: ObservabilityWish;
  /** The secret's values: present when the application makes its secret. */
  SecretData?: Record<string, string>;
  Dependencies: Dependency[];
}

/** Whether the application's runtime is to be observed, and what of it (absent: whatever its stack has). */
export interface ObservabilityWish {
  Enabled?: boolean;
  MetricsEnabled?: boolean;
  LoggingEnabled?: boolean;
}

/** Another application this one needs: an existing one by name, or one declared here (made and removed with this one). */
export type Dependency = { Application: string } | { Nested: ApplicationSpec };

/** The keys of an application, at the top and nested. */
export const applicationKeys = ['Name', 'Tier', 'Profile', 'Runtime', 'YAMLDocument', 'Helm', 'DomainName', 'Gateway', 'AwsRelationalDatabase', 'AwsObjectStorageBucket', 'Secret', 'SecretData', 'Observability', 'Dependencies'] as const;
export const partKeys = ['DomainName', 'Gateway', 'AwsRelationalDatabase', 'AwsObjectStorageBucket', 'Secret'] as const;
export type PartKey = (typeof partKeys)[number];
const runtimeKeys = ['Name', 'Location', 'InfraProvider', 'NodeSize', 'NodeProfile', 'NodeMaximum', 'HighAvailability', 'DnsProvider'];
const observabilityKeys = ['Enabled', 'MetricsEnabled', 'LoggingEnabled'];
const helmKeys = ['Repo', 'Chart', 'ChartVersion', 'ValuesDocument', 'InstanceValuesDocument'];

/** Kubernetes object names: what every part's Name becomes. */
const NAME = /^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/;

export class ApplicationSpecError extends Error {}

/** A part given by Name alone: an existing definition used, not one made. */
export const onlyNamed = (part: Part): boolean => Object.keys(part).every((key) => key === 'Name');

const fail = (at: string, message: string): never => {
  throw new ApplicationSpecError(`${at}: ${message}`);
};

function unknownKeys(value: Values, allowed: readonly string[], at: string): void {
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknown !== undefined) fail(`${at}.${unknown}`, `unknown field; use ${allowed.join(', ')}`);
}

function optionalString(value: Values, key: string, at: string): string | undefined {
  const found = value[key];
  if (found === undefined || found === null) return undefined;
  if (typeof found !== 'string' || found === '') fail(`${at}.${key}`, 'must be a non-empty string');
  return found as string;
}

function runtimeOf(value: unknown, at: string): RuntimeRequirements | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return fail(at, 'must be {Name} of a runtime, or requirements {Location, InfraProvider, NodeSize, NodeProfile, NodeMaximum, HighAvailability, DnsProvider}');
  unknownKeys(value, runtimeKeys, at);
  if (value.Name !== undefined && Object.keys(value).length > 1) fail(at, 'give either Name (an existing runtime) or requirements, not both');
  const location = optionalString(value, 'Location', at);
  if (location !== undefined && !(location in locations)) fail(`${at}.Location`, `"${location}" is not a threeport location: use one of ${Object.keys(locations).join(', ')}`);
  const provider = optionalString(value, 'InfraProvider', at);
  if (provider !== undefined && !(infraProviders as readonly string[]).includes(provider)) fail(`${at}.InfraProvider`, `must be one of ${infraProviders.join(', ')}`);
  if (value.NodeMaximum !== undefined && (!Number.isInteger(value.NodeMaximum) || Number(value.NodeMaximum) < 1)) fail(`${at}.NodeMaximum`, 'must be a positive integer');
  if (value.HighAvailability !== undefined && typeof value.HighAvailability !== 'boolean') fail(`${at}.HighAvailability`, 'must be true or false');
  for (const key of ['Name', 'NodeSize', 'NodeProfile', 'DnsProvider']) optionalString(value, key, at);
  return value;
}

function observabilityOf(value: unknown, at: string): ObservabilityWish | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return fail(at, 'must be {Enabled, MetricsEnabled, LoggingEnabled} (each true or false)');
  unknownKeys(value, observabilityKeys, at);
  for (const key of observabilityKeys) if (value[key] !== undefined && typeof value[key] !== 'boolean') fail(`${at}.${key}`, 'must be true or false');
  return value;
}

function secretDataOf(value: unknown, at: string, nested: boolean): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (nested) return fail(at, 'secret values go only in the top-level application (kept encrypted there): make a SecretDefinition and name it in Secret.Name');
  const problem = secretValuesProblem(value);
  if (problem) fail(problem.key === undefined ? at : `${at}.${problem.key}`, problem.problem);
  return value as Record<string, string>;
}

function partOf(value: unknown, at: string, allowed: readonly string[]): Part | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return fail(at, 'must be a mapping of its fields (or {Name} of an existing one to use)');
  unknownKeys(value, ['Name', ...allowed], at);
  const name = optionalString(value, 'Name', at);
  if (name !== undefined && !NAME.test(name)) fail(`${at}.Name`, `"${name}" is not a valid name: lowercase letters, digits and '-', at most 53`);
  return value;
}

/** The application's declaration, or an ApplicationSpecError saying what is wrong and where. */
export function parseApplication(value: Values, at = 'Application', nested = false, seen = new Set<string>()): ApplicationSpec {
  unknownKeys(value, applicationKeys, at);
  const name = optionalString(value, 'Name', at);
  if (name === undefined) return fail(`${at}.Name`, 'is required');
  if (!NAME.test(name)) fail(`${at}.Name`, `"${name}" is not a valid name: lowercase letters, digits and '-', at most 53 (it names the workload's objects)`);
  if (seen.has(name)) fail(`${at}.Name`, `${name} is declared twice in this application`);
  seen.add(name);
  const hasManifests = value.YAMLDocument !== undefined && value.YAMLDocument !== null;
  const hasChart = value.Helm !== undefined && value.Helm !== null;
  if (hasManifests === hasChart) fail(at, 'declare the workload: YAMLDocument (its manifests) or Helm {Repo, Chart, ChartVersion, ValuesDocument, InstanceValuesDocument} — one of them');
  if (hasManifests && (typeof value.YAMLDocument !== 'string' || value.YAMLDocument.trim() === '')) fail(`${at}.YAMLDocument`, 'must be the workload’s manifests (YAML text)');
  if (hasChart) {
    if (!isRecord(value.Helm)) fail(`${at}.Helm`, 'must be {Repo, Chart, ChartVersion, ValuesDocument, InstanceValuesDocument}');
    unknownKeys(value.Helm as Values, helmKeys, `${at}.Helm`);
    if (optionalString(value.Helm as Values, 'Chart', `${at}.Helm`) === undefined) fail(`${at}.Helm.Chart`, 'is required');
    for (const key of partKeys.filter((key) => key !== 'Secret')) if (value[key] != null) fail(`${at}.${key}`, 'is for manifest workloads only (a Helm workload’s chart makes its own)');
  }
  const spec: ApplicationSpec = { Name: name, Dependencies: [] };
  for (const key of ['Tier', 'Profile'] as const) {
    const found = optionalString(value, key, at);
    if (found !== undefined) spec[key] = found;
  }
  const runtime = runtimeOf(value.Runtime, `${at}.Runtime`);
  if (runtime) spec.Runtime = runtime;
  if (hasManifests) spec.YAMLDocument = value.YAMLDocument as string;
  if (hasChart) spec.Helm = value.Helm as Values;
  for (const key of partKeys) {
    const part = partOf(value[key], `${at}.${key}`, partFields[key]);
    if (part) spec[key] = part;
  }
  const observability = observabilityOf(value.Observability, `${at}.Observability`);
  if (observability) spec.Observability = observability;
  const data = secretDataOf(value.SecretData, `${at}.SecretData`, nested);
  if (data) {
    if (spec.Secret && onlyNamed(spec.Secret)) fail(`${at}.SecretData`, `Secret names an existing SecretDefinition (${String(spec.Secret.Name)}), whose values are its own: leave SecretData out, or declare the secret's settings to make one`);
    spec.SecretData = data;
    spec.Secret ??= {};
    if (spec.Secret.Data !== undefined) fail(`${at}.Secret.Data`, 'the values go in SecretData (kept encrypted)');
  } else if (spec.Secret && Object.keys(spec.Secret).some((key) => key !== 'Name')) {
    fail(`${at}.SecretData`, 'is required to make the secret (its values); give only Secret.Name to use an existing SecretDefinition');
  }
  const dependencies = value.Dependencies ?? [];
  if (!Array.isArray(dependencies)) return fail(`${at}.Dependencies`, 'must be a list of {Application: name} or nested applications');
  dependencies.forEach((dependency: unknown, index) => {
    const where = `${at}.Dependencies[${index}]`;
    if (!isRecord(dependency)) return fail(where, 'must be {Application: name} or a nested application');
    if ('Application' in dependency) {
      if (Object.keys(dependency).length > 1) fail(where, '{Application: name} names an existing application; declare a new one without the Application key');
      const named = optionalString(dependency, 'Application', where);
      if (named === undefined) return fail(`${where}.Application`, 'is required');
      if (named === name) fail(where, `${name} cannot depend on itself`);
      spec.Dependencies.push({ Application: named });
    } else {
      spec.Dependencies.push({ Nested: parseApplication(dependency, where, true, seen) });
    }
  });
  return spec;
}

/**
 * What a part may set: its definition kind's own settings and references to other objects by name
 * (`AwsAccountName`); not what the application wires itself (a gateway's domain), what controllers
 * write, nor hidden values (a secret's go in SecretData).
 */
function settingsOf(definition: { fields: Readonly<Record<string, Field>> }, wired: readonly string[] = []): string[] {
  return Object.entries(definition.fields).flatMap(([name, field]) => {
    if (field.kind === 'association' || wired.includes(name)) return [];
    if (field.kind === 'nested') return [name];
    if (field.owner === 'controller' || field.owner === 'server' || field.hidden) return [];
    if (field.references) return name.endsWith('ID') ? [`${name.slice(0, -2)}Name`] : [];
    return [name];
  });
}

const partFields: Record<PartKey, readonly string[]> = {
  DomainName: settingsOf(DomainNameDefinition),
  Gateway: settingsOf(GatewayDefinition, ['DomainNameDefinitionID', 'WorkloadDefinitionID']),
  AwsRelationalDatabase: settingsOf(AwsRelationalDatabaseDefinition),
  AwsObjectStorageBucket: settingsOf(AwsObjectStorageBucketDefinition),
  Secret: settingsOf(SecretDefinition),
};

/** The declaration as an Application's fields (Name aside): what a nested application is made with. */
export function applicationFields(spec: ApplicationSpec): Values {
  const { Name: _name, Dependencies, ...rest } = spec;
  return {
    ...rest,
    ...(Dependencies.length > 0 && { Dependencies: Dependencies.map((dependency) => ('Application' in dependency ? dependency : { Name: dependency.Nested.Name, ...applicationFields(dependency.Nested) })) }),
  };
}

/** Every application a declaration names or nests, with the applications each depends on (by name). */
export function dependencyEdges(spec: ApplicationSpec, into = new Map<string, string[]>()): Map<string, string[]> {
  into.set(
    spec.Name,
    spec.Dependencies.map((dependency) => ('Application' in dependency ? dependency.Application : dependency.Nested.Name)),
  );
  for (const dependency of spec.Dependencies) if ('Nested' in dependency) dependencyEdges(dependency.Nested, into);
  return into;
}

/** The first cycle through `start`, as names from it back to it; undefined when there is none. */
export function cycleThrough(start: string, edges: (name: string) => readonly string[]): string[] | undefined {
  const path: string[] = [start];
  const visited = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    for (const next of edges(name)) {
      if (next === start) return [...path, start];
      if (visited.has(next)) continue;
      visited.add(next);
      path.push(next);
      const found = visit(next);
      if (found) return found;
      path.pop();
    }
    return undefined;
  };
  return visit(start);
}
