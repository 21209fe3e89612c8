import { isDeepStrictEqual } from 'node:util';
import { applicationKeys, ApplicationSpecError, cycleThrough, dependencyEdges, isRecord, onlyNamed, parseApplication, partKeys, type PartKey } from '../application-spec.ts';
import { json, REDACTED_PLACEHOLDER, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

/** The kinds of each part: a definition (made unless only named) and its instance (always made). */
const partKinds: Record<PartKey, readonly [definition: string, instance: string]> = {
  DomainName: ['DomainNameDefinition', 'DomainNameInstance'],
  Gateway: ['GatewayDefinition', 'GatewayInstance'],
  AwsRelationalDatabase: ['AwsRelationalDatabaseDefinition', 'AwsRelationalDatabaseInstance'],
  AwsObjectStorageBucket: ['AwsObjectStorageBucketDefinition', 'AwsObjectStorageBucketInstance'],
  Secret: ['SecretDefinition', 'SecretInstance'],
};

/** Every kind the application controller would make for this declaration (nested applications' included). */
function partsMade(declared: Record<string, unknown>, into = new Set<string>()): Set<string> {
  if (declared.YAMLDocument != null) ['WorkloadDefinition', 'WorkloadInstance'].forEach((kind) => into.add(kind));
  if (declared.Helm != null) ['HelmWorkloadDefinition', 'HelmWorkloadInstance'].forEach((kind) => into.add(kind));
  for (const key of partKeys) {
    const part = declared[key] ?? (key === 'Secret' && declared.SecretData != null ? {} : undefined);
    if (!isRecord(part)) continue;
    const [definition, instance] = partKinds[key];
    into.add(instance);
    if (!onlyNamed(part)) into.add(definition);
  }
  for (const dependency of Array.isArray(declared.Dependencies) ? declared.Dependencies : []) {
    if (!isRecord(dependency) || 'Application' in dependency) continue;
    into.add('Application');
    partsMade(dependency, into);
  }
  return into;
}

/** Where the declaration's workloads run, by runtime name; undefined where placement chooses. A nested application without a Runtime runs where its parent does. */
function runtimesNamed(declared: Record<string, unknown>, inherited?: string): (string | undefined)[] {
  const runtime = declared.Runtime;
  const own = isRecord(runtime) ? (typeof runtime.Name === 'string' ? runtime.Name : undefined) : inherited;
  const nested = (Array.isArray(declared.Dependencies) ? declared.Dependencies : []).filter((dependency) => isRecord(dependency) && !('Application' in dependency)) as Record<string, unknown>[];
  return [own, ...nested.flatMap((dependency) => runtimesNamed(dependency, own))];
}

const part = (what: string) => json({ description: `${what}: {Name} alone uses an existing definition of that name; its fields make one for this application (removed with it).` });

export const Application = defineKind({
  name: 'Application',
  domain: 'application',
  owners: 'developer',
  description:
    'A workload and everything it needs, declared once: the runtime (named, or requirements threeport places it by or provisions from a profile), gateway and domain, secret, database, bucket, observability, and the applications it depends on. The application controller finds or makes each in dependency order, passes connection details to the dependents, reports one status, and on delete removes what it made, last made first, and nothing it only used.',
  shape: 'instance',
  controller: 'application',
  // Declaring the same application again (a retried create, a CI job run twice) is no conflict.
  idempotentCreate: true,
  fields: {
    Tier: string({ description: 'A Tier by name: its Profile is this application’s unless Profile is set.' }),
    Profile: string({ description: 'A Profile by name: the defaults (and limits) for the runtime and managed services made for this application.' }),
    Runtime: json({ description: '{Name} of a runtime to run on, or requirements {Location, InfraProvider, NodeSize, NodeProfile, NodeMaximum, HighAvailability}: placed on a runtime that meets them, or one is provisioned from the profile. Absent: the profile’s runtime requirements, else the default runtime.' }),
    YAMLDocument: string({ query: false, description: 'The workload’s Kubernetes manifests (or Helm).' }),
    Helm: json({ description: 'A chart workload instead of manifests: {Repo, Chart, ChartVersion, ValuesDocument, InstanceValuesDocument} (values as YAML text; the instance’s override the definition’s).' }),
    DomainName: part('A domain name for the gateway {Domain, Zone, AdminEmail}'),
    Gateway: part('Ingress {HttpPorts, TcpPorts, ServiceName, SubDomain}'),
    AwsRelationalDatabase: part('A managed database {AwsAccountName, Engine, EngineVersion, DatabaseName, DatabasePort, MachineSize, StorageGb, BackupDays, WorkloadSecretName}'),
    AwsObjectStorageBucket: part('A bucket {AwsAccountName, PublicReadAccess, WorkloadServiceAccountName, WorkloadBucketEnvVar}'),
    Secret: part('A secret delivered to the workload {AwsAccountName, Backend, RecoveryWindowDays}, its values in SecretData'),
    Observability: json({ description: 'Whether its runtime is observed: {Enabled, MetricsEnabled, LoggingEnabled}. The runtime’s observability stack is used; where it has none, one is made only when the application’s profile turns observability on (the profile is the platform team’s consent).' }),
    SecretData: json({ hidden: true, description: 'The values of the secret the application makes (key → string). Kept encrypted; returned to no one but the application controller.' }),
    Dependencies: json({ description: 'Applications this one needs, in order: {Application: name} of an existing one, or a nested application (same fields; made and removed with this one). Their Services’ addresses reach this workload as <NAME>_HOST and <NAME>_PORT.' }),
    Children: json({ owner: 'controller', description: 'What the application is made of, in the order it was made: [{Role, Kind, ID, Name, Made}] (Made false: used, never removed by it).' }),
    Placement: json({ owner: 'controller', description: 'The runtime the workload runs on and why it was chosen: {KubernetesRuntimeInstanceID, Name, Reason, Provisioned}.' }),
    PlacementRuntimeID: ref('KubernetesRuntimeInstance', { owner: 'controller', description: 'The runtime of Placement, as a field applications can be filtered (and counted) by.' }),
  },
  rules: {
    validate(application, previous) {
      const declared = Object.fromEntries(applicationKeys.filter((key) => application[key] !== undefined && application[key] !== null).map((key) => [key, application[key]]));
      // SecretData written back as read (redacted), or unchanged, is the stored one: not checked again.
      if (previous !== undefined && (declared.SecretData === REDACTED_PLACEHOLDER || isDeepStrictEqual(declared.SecretData, previous.SecretData))) declared.SecretData = { stored: 'values' };
      try {
        const spec = parseApplication(declared);
        const edges = dependencyEdges(spec);
        const cycle = cycleThrough(spec.Name, (name) => edges.get(name) ?? []);
        return cycle ? `dependency cycle: ${cycle.join(' → ')}; an application cannot need itself` : undefined;
      } catch (error) {
        if (error instanceof ApplicationSpecError) return error.message;
        throw error;
      }
    },
    makes: (application) => [...partsMade(application)],
    runtimesNamed: (application) => runtimesNamed(application),
  },
});
