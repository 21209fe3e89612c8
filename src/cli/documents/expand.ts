/**
 * From a config document to the objects it stands for, in creation order. A definition or
 * instance is one object (AWS EKS ones bring their Kubernetes runtime object along, as in the
 * original); an abstraction — the original's "defined instance" (`Workload`, `Gateway`, …) —
 * expands into a definition, an instance and whatever it nests (reference §3).
 */
import { locations } from '../../model/kinds/kubernetes-runtime.ts';
import type { Kind } from '../../model/kind.ts';
import { kebabCase } from '../../model/naming.ts';
import { registry } from '../../model/registry.ts';
import { readAwsLocalConfig } from './aws-local-config.ts';
import { toObjectSpec, unknownKeyMessage, type Step } from './object-spec.ts';
import { readSideFile, SideFileError } from './side-files.ts';
import { fileError, type SourceDocument, type YamlPath } from './source.ts';

type Values = Record<string, unknown>;
const isRecord = (value: unknown): value is Values => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Builds steps out of an object written at `root` in `source`, keeping where each value came from. */
class StepBuilder {
  readonly source: SourceDocument;
  readonly root: YamlPath;
  readonly values: Values;

  constructor(source: SourceDocument, root: YamlPath, values: Values) {
    this.source = source;
    this.root = root;
    this.values = values;
  }

  /** `picks`: step key → key of this object it copies (absent keys are left out). */
  step(kindName: string, picks: Record<string, string>, extra: Record<string, { value: unknown; at?: YamlPath }> = {}): Step {
    const values: Values = {};
    const origins = new Map<string, YamlPath>();
    for (const [key, from] of Object.entries(picks)) {
      if (this.values[from] === undefined) continue;
      values[key] = this.values[from];
      origins.set(key, [...this.root, from]);
    }
    for (const [key, { value, at }] of Object.entries(extra)) {
      if (value === undefined) continue;
      values[key] = value;
      origins.set(key, at ?? [...this.root, 'Name']);
    }
    return { kind: registry.get(kindName), values, origin: (key) => origins.get(key) ?? [...this.root, key], path: this.root, source: this.source };
  }

  /** Every key of the nested mapping at `key` (unknown ones are then reported against `kindName`), plus `extra`. */
  spread(key: string, kindName: string, extra: Record<string, { value: unknown; at?: YamlPath }> = {}, except: string[] = []): Step {
    const nested = this.values[key];
    const root = [...this.root, key];
    if (!isRecord(nested)) throw fileError(this.source, root, 'must be a mapping');
    const picks = Object.fromEntries(Object.keys(nested).filter((k) => !except.includes(k)).map((k) => [k, k]));
    return new StepBuilder(this.source, root, nested).step(kindName, picks, extra);
  }

  ref(name: unknown, at?: YamlPath): { value: unknown; at: YamlPath } {
    return { value: name === undefined ? undefined : { Name: name }, at: at ?? [...this.root, 'Name'] };
  }

  nestedName(key: string): unknown {
    const nested = this.values[key];
    return isRecord(nested) ? nested.Name : undefined;
  }
}

export interface Abstraction {
  /** The document key and the original's type name, e.g. "Workload". */
  name: string;
  definition: string;
  instance: string;
  /** Keys the original accepted but ignored: still accepted, with a warning. */
  ignored?: readonly string[];
  keys: readonly string[];
  expand(b: StepBuilder): Step[];
  /**
   * Sent to the server as one Application, which makes the objects the steps describe (in order,
   * resumably, removed together): the steps are built only to check the document and read its
   * side files.
   */
  asApplication?: boolean;
}

const nameOnly = { Name: 'Name' };
const runtimeAndName = { Name: 'Name', KubernetesRuntimeInstance: 'KubernetesRuntimeInstance' };
const observabilityValues = ['Grafana', 'Loki', 'Promtail', 'KubePrometheusStack'].flatMap((p) => [`${p}HelmValues`, `${p}HelmValuesDocument`]);
const same = (keys: readonly string[]): Record<string, string> => Object.fromEntries(keys.map((key) => [key, key]));

function definitionAndInstance(name: string, definition: string, instance: string, definitionKeys: readonly string[], instanceKeys: readonly string[], ignored?: readonly string[]): Abstraction {
  return {
    name,
    definition,
    instance,
    keys: [...new Set(['Name', ...definitionKeys, ...instanceKeys])],
    ...(ignored && { ignored }),
    expand: (b) => [
      b.step(definition, same(['Name', ...definitionKeys])),
      b.step(instance, same(['Name', ...instanceKeys]), { [definition]: b.ref(b.values.Name) }),
    ],
  };
}

export const abstractions: readonly Abstraction[] = [
  {
    name: 'Workload',
    definition: 'WorkloadDefinition',
    instance: 'WorkloadInstance',
    asApplication: true,
    keys: ['Name', 'YAMLDocument', 'KubernetesRuntimeInstance', 'DomainName', 'Gateway', 'AwsRelationalDatabase', 'AwsObjectStorageBucket', 'Secret'],
    expand(b) {
      const name = b.values.Name;
      const workloadInstance = b.ref(name);
      const runtime = { value: b.values.KubernetesRuntimeInstance, at: [...b.root, 'KubernetesRuntimeInstance'] };
      const steps = [b.step('WorkloadDefinition', { Name: 'Name', YAMLDocument: 'YAMLDocument' }), b.step('WorkloadInstance', runtimeAndName, { WorkloadDefinition: b.ref(name) })];
      const domain = b.nestedName('DomainName');
      if (b.values.DomainName !== undefined) {
        const at = [...b.root, 'DomainName', 'Name'];
        steps.push(
          b.spread('DomainName', 'DomainNameDefinition'),
          b.step('DomainNameInstance', {}, {
            Name: { value: `${String(name)}-${kebabCase(String(domain))}`, at },
            DomainNameDefinition: b.ref(domain, at),
            WorkloadInstance: workloadInstance,
            KubernetesRuntimeInstance: runtime,
          }),
        );
      }
      if (b.values.Gateway !== undefined) {
        const gateway = b.nestedName('Gateway');
        const at = [...b.root, 'Gateway', 'Name'];
        steps.push(
          b.spread('Gateway', 'GatewayDefinition', { DomainNameDefinition: b.ref(domain, [...b.root, 'DomainName', 'Name']) }),
          b.step('GatewayInstance', {}, { Name: { value: gateway, at }, GatewayDefinition: b.ref(gateway, at), WorkloadInstance: workloadInstance, KubernetesRuntimeInstance: runtime }),
        );
      }
      for (const [key, definition, instance] of [
        ['AwsRelationalDatabase', 'AwsRelationalDatabaseDefinition', 'AwsRelationalDatabaseInstance'],
        ['AwsObjectStorageBucket', 'AwsObjectStorageBucketDefinition', 'AwsObjectStorageBucketInstance'],
      ] as const) {
        if (b.values[key] === undefined) continue;
        const nested = b.nestedName(key);
        const at = [...b.root, key, 'Name'];
        steps.push(b.spread(key, definition), b.step(instance, {}, { Name: { value: nested, at }, [definition]: b.ref(nested, at), WorkloadInstance: workloadInstance }));
      }
      if (b.values.Secret !== undefined) {
        const secret = b.nestedName('Secret');
        const at = [...b.root, 'Secret', 'Name'];
        steps.push(
          b.spread('Secret', 'SecretDefinition'),
          b.step('SecretInstance', {}, { Name: { value: secret, at }, SecretDefinition: b.ref(secret, at), WorkloadInstance: workloadInstance, KubernetesRuntimeInstance: runtime }),
        );
      }
      return steps;
    },
  },
  {
    name: 'HelmWorkload',
    definition: 'HelmWorkloadDefinition',
    instance: 'HelmWorkloadInstance',
    asApplication: true,
    keys: ['Name', 'Repo', 'Chart', 'ChartVersion', 'DefinitionValues', 'DefinitionValuesDocument', 'InstanceValues', 'InstanceValuesDocument', 'KubernetesRuntimeInstance'],
    ignored: ['DomainName', 'Gateway', 'AwsRelationalDatabase', 'AwsObjectStorageBucket'],
    expand: (b) => [
      b.step('HelmWorkloadDefinition', { Name: 'Name', Repo: 'Repo', Chart: 'Chart', ChartVersion: 'ChartVersion', Values: 'DefinitionValues', ValuesDocument: 'DefinitionValuesDocument' }),
      b.step('HelmWorkloadInstance', { ...runtimeAndName, Values: 'InstanceValues', ValuesDocument: 'InstanceValuesDocument' }, { HelmWorkloadDefinition: b.ref(b.values.Name) }),
    ],
  },
  definitionAndInstance('KubernetesRuntime', 'KubernetesRuntimeDefinition', 'KubernetesRuntimeInstance',
    ['InfraProvider', 'InfraProviderAccountName', 'HighAvailability', 'NodeSize', 'NodeProfile', 'NodeMaximum'],
    ['Location', 'DefaultRuntime', 'ThreeportAgentImage', 'ThreeportControlPlaneHost']),
  definitionAndInstance('Gateway', 'GatewayDefinition', 'GatewayInstance',
    ['HttpPorts', 'TcpPorts', 'ServiceName', 'SubDomain', 'DomainNameDefinition'],
    ['WorkloadInstance', 'KubernetesRuntimeInstance']),
  definitionAndInstance('DomainName', 'DomainNameDefinition', 'DomainNameInstance', ['Domain', 'Zone', 'AdminEmail'], ['WorkloadInstance', 'KubernetesRuntimeInstance']),
  definitionAndInstance('AwsRelationalDatabase', 'AwsRelationalDatabaseDefinition', 'AwsRelationalDatabaseInstance',
    ['AwsAccountName', 'Engine', 'EngineVersion', 'DatabaseName', 'DatabasePort', 'BackupDays', 'MachineSize', 'StorageGb', 'WorkloadSecretName'],
    ['WorkloadInstance']),
  definitionAndInstance('AwsObjectStorageBucket', 'AwsObjectStorageBucketDefinition', 'AwsObjectStorageBucketInstance',
    ['AwsAccountName', 'PublicReadAccess', 'WorkloadServiceAccountName', 'WorkloadBucketEnvVar'],
    ['WorkloadInstance']),
  definitionAndInstance('AwsEksKubernetesRuntime', 'AwsEksKubernetesRuntimeDefinition', 'AwsEksKubernetesRuntimeInstance',
    ['AwsAccountName', 'ZoneCount', 'DefaultNodeGroupInstanceType', 'DefaultNodeGroupInitialSize', 'DefaultNodeGroupMinimumSize', 'DefaultNodeGroupMaximumSize'],
    ['Region']),
  definitionAndInstance('Secret', 'SecretDefinition', 'SecretInstance', ['AwsAccountName', 'Data'], ['WorkloadInstance', 'HelmWorkloadInstance', 'KubernetesRuntimeInstance']),
  definitionAndInstance('ObservabilityStack', 'ObservabilityStackDefinition', 'ObservabilityStackInstance', observabilityValues, ['KubernetesRuntimeInstance', 'MetricsEnabled', 'LoggingEnabled']),
  definitionAndInstance('Terraform', 'TerraformDefinition', 'TerraformInstance', ['ConfigDir'], ['VarsDocument', 'AwsAccount', 'WorkloadInstance', 'WorkloadSecretName']),
  definitionAndInstance('ControlPlane', 'ControlPlaneDefinition', 'ControlPlaneInstance', ['AuthEnabled', 'OnboardParent'], ['Namespace', 'KubernetesRuntimeInstance', 'CustomComponentInfo']),
];

const byName = new Map(abstractions.map((abstraction) => [abstraction.name, abstraction]));
export const findAbstraction = (name: string): Abstraction | undefined => byName.get(name);

/** Plain kinds people declare in config files too: accounts, and operations' profiles and tiers. */
const declaredPlainKinds: ReadonlySet<string> = new Set(['AwsAccount', 'Profile', 'Tier']);

/** Kinds a config document may name directly: every definition and instance, and those plain ones. */
export function isDocumentKind(kind: Kind): boolean {
  return kind.routed && (kind.shape !== 'plain' || declaredPlainKinds.has(kind.name));
}

/** Extra objects and values some kinds bring along. */
function kindSteps(step: Step): Step[] {
  const values = step.values;
  const b = new StepBuilder(step.source, step.path, values);
  switch (step.kind.name) {
    case 'AwsAccount':
      return [awsAccountStep(step)];
    case 'DomainNameInstance': {
      // The original derived the name; keep doing so when the file has none.
      const workload = isRecord(values.WorkloadInstance) ? values.WorkloadInstance.Name : undefined;
      const definition = isRecord(values.DomainNameDefinition) ? values.DomainNameDefinition.Name : undefined;
      if (values.Name !== undefined || workload === undefined || definition === undefined) return [step];
      return [{ ...step, values: { ...values, Name: `${String(workload)}-${kebabCase(String(definition))}` } }];
    }
    case 'AwsEksKubernetesRuntimeDefinition': {
      if (values.KubernetesRuntimeDefinition !== undefined || values.KubernetesRuntimeDefinitionName !== undefined) return [step];
      const runtime = b.step('KubernetesRuntimeDefinition', nameOnly, {
        InfraProvider: { value: 'eks' },
        InfraProviderAccountName: { value: values.AwsAccountName, at: [...step.path, 'AwsAccountName'] },
      });
      // Reconciled, as the original makes it: its EKS settings are this document's, not ones the runtime controller would derive.
      return [{ ...runtime, fixed: { Reconciled: true } }, { ...step, values: { ...values, KubernetesRuntimeDefinition: { Name: values.Name } } }];
    }
    case 'AwsEksKubernetesRuntimeInstance': {
      if (values.KubernetesRuntimeInstance !== undefined || values.KubernetesRuntimeInstanceName !== undefined) return [step];
      const definition = isRecord(values.AwsEksKubernetesRuntimeDefinition) ? values.AwsEksKubernetesRuntimeDefinition.Name : undefined;
      const location = Object.entries(locations).find(([, region]) => region === values.Region)?.[0];
      if (values.Region !== undefined && !location) throw fileError(step.source, [...step.path, 'Region'], `no threeport location maps to region ${String(values.Region)}`);
      const runtime = b.step('KubernetesRuntimeInstance', nameOnly, {
        KubernetesRuntimeDefinition: b.ref(definition, [...step.path, 'AwsEksKubernetesRuntimeDefinition']),
        Location: { value: location, at: [...step.path, 'Region'] },
        DefaultRuntime: { value: false },
      });
      // Reconciled, as the original makes it: the EKS instance is this document's; the AWS controller connects the runtime when the cluster is up.
      return [{ ...runtime, fixed: { Reconciled: true } }, { ...step, values: { ...values, KubernetesRuntimeInstance: { Name: values.Name } } }];
    }
    case 'Application':
      return [{ ...step, values: applicationSideFiles(step.source, step.path, values) }];
    default:
      return [step];
  }
}

const without = (values: Values, keys: readonly string[]): Values => Object.fromEntries(Object.entries(values).filter(([key, value]) => !keys.includes(key) && value !== undefined));

/**
 * The original's nested config as one Application: built from the objects its expansion
 * describes (so every field is checked and side files read as before), with references by name
 * kept as names for the server to resolve. The application names what it makes as the expansion did.
 */
function applicationStep(source: SourceDocument, root: YamlPath, steps: readonly Step[]): Step {
  const values: Values = {};
  const origins = new Map<string, YamlPath>();
  const set = (key: string, value: unknown, step: Step): void => {
    values[key] = value;
    origins.set(key, step.path);
  };
  let helm: Values | undefined;
  for (const step of steps) {
    const spec = toObjectSpec(step);
    const payload = spec.payload;
    const named = (target: string): string | undefined => spec.references.find((reference) => reference.target === target)?.name;
    const account = named('AwsAccount');
    const part = { Name: spec.name, ...without(payload, ['Name']), ...(account && { AwsAccountName: account }) };
    switch (spec.kind.name) {
      case 'WorkloadDefinition':
        set('Name', spec.name, step);
        set('YAML', payload.YAMLDocument, step);
        break;
      case 'HelmWorkloadDefinition':
        set('Name', spec.name, step);
        helm = without(payload, ['Name']);
        break;
      case 'WorkloadInstance':
      case 'HelmWorkloadInstance': {
        const runtime = named('KubernetesRuntimeInstance');
        if (runtime) set('Runtime', { Name: runtime }, step);
        if (payload.ValuesDocument !== undefined) helm = { ...helm, InstanceValuesDocument: payload.ValuesDocument };
        break;
      }
      case 'DomainNameDefinition':
        set('DomainName', part, step);
        break;
      case 'GatewayDefinition':
        // The application connects its gateway to its domain name itself.
        set('Gateway', { Name: spec.name, ...without(payload, ['Name']) }, step);
        break;
      case 'AwsRelationalDatabaseDefinition':
        set('AwsRelationalDatabase', part, step);
        break;
      case 'AwsObjectStorageBucketDefinition':
        set('AwsObjectStorageBucket', part, step);
        break;
      case 'SecretDefinition':
        set('Secret', without(part, ['Data']), step);
        set('SecretData', payload.Data, step);
        break;
      default:
        // The instances of the parts: the application makes them.
        break;
    }
  }
  if (helm) values.Helm = helm;
  return { kind: registry.get('Application'), values, origin: (key) => origins.get(key) ?? root, path: root, source };
}

/** An Application document's nested manifests and values files (its dependencies', its chart's), read relative to the config file. */
function applicationSideFiles(source: SourceDocument, at: YamlPath, values: Values): Values {
  const read = (path: YamlPath, file: unknown): string => {
    if (typeof file !== 'string') throw fileError(source, path, 'must be the path of a file, relative to the config file');
    try {
      return readSideFile(source.baseDir, file);
    } catch (error) {
      if (error instanceof SideFileError) throw fileError(source, path, error.message);
      throw error;
    }
  };
  const result = { ...values };
  if (isRecord(values.Helm)) {
    const helmValues: Values = { ...values.Helm };
    for (const key of ['ValuesDocument', 'InstanceValuesDocument']) if (helmValues[key] !== undefined) helmValues[key] = read([...at, 'Helm', key], helmValues[key]);
    result.Helm = helmValues;
  }
  if (Array.isArray(values.Dependencies)) {
    result.Dependencies = values.Dependencies.map((dependency: unknown, index) => {
      if (!isRecord(dependency) || 'Application' in dependency) return dependency;
      const path = [...at, 'Dependencies', index];
      const nested = applicationSideFiles(source, path, dependency);
      // As at the top: YAMLDocument names a file, YAML holds the manifests inline.
      if (dependency.YAMLDocument !== undefined) nested.YAMLDocument = read([...path, 'YAMLDocument'], dependency.YAMLDocument);
      if (dependency.YAML !== undefined) {
        if (dependency.YAMLDocument !== undefined) throw fileError(source, [...path, 'YAML'], 'YAMLDocument is already set by another key: use only one of them');
        const { YAML: manifests, ...rest } = nested;
        return { ...rest, YAMLDocument: manifests };
      }
      return nested;
    });
  }
  return result;
}

function awsAccountStep(step: Step): Step {
  const { LocalConfig, LocalCredentials, LocalProfile, ...rest } = step.values;
  const local = [LocalConfig, LocalCredentials, LocalProfile];
  if (local.every((value) => value === undefined)) return step;
  const explicit = rest.AccessKeyID !== undefined || rest.SecretAccessKey !== undefined;
  if (explicit) throw fileError(step.source, step.path, 'local and explicit configurations provided: use either LocalConfig/LocalCredentials/LocalProfile or DefaultRegion/AccessKeyID/SecretAccessKey');
  if (local.some((value) => typeof value !== 'string')) throw fileError(step.source, step.path, 'LocalConfig, LocalCredentials and LocalProfile must all be set');
  try {
    const read = readAwsLocalConfig(step.source.baseDir, String(LocalConfig), String(LocalCredentials), String(LocalProfile));
    return { ...step, values: { ...read, ...rest } };
  } catch (error) {
    if (error instanceof SideFileError || error instanceof Error) throw fileError(step.source, [...step.path, 'LocalConfig'], error.message);
    throw error;
  }
}

export interface ExpandedDocument {
  /** Top-level key as written: a kind or an abstraction name. */
  key: string;
  abstraction?: Abstraction;
  steps: Step[];
  warnings: string[];
}

/** Each top-level key of a document, expanded into its steps. */
export function expandDocument(source: SourceDocument): ExpandedDocument[] {
  return Object.entries(source.value).map(([key, value]) => {
    const root = [key];
    if (!isRecord(value)) throw fileError(source, root, `must be a mapping of the ${key}'s fields`);
    const abstraction = findAbstraction(key);
    if (abstraction) {
      const warnings: string[] = [];
      for (const field of Object.keys(value)) {
        if (abstraction.ignored?.includes(field)) {
          warnings.push(`${source.locate([key, field])}: ${key}.${field} is not supported for ${key} and is ignored (as in the original)`);
        } else if (!abstraction.keys.includes(field)) {
          throw fileError(source, [key, field], unknownKeyMessage(field, key, abstraction.keys));
        }
      }
      const steps = abstraction.expand(new StepBuilder(source, root, value)).flatMap(kindSteps);
      return { key, abstraction, steps: abstraction.asApplication ? [applicationStep(source, root, steps)] : steps, warnings };
    }
    const kind = registry.find(key);
    if (!kind || !isDocumentKind(kind)) {
      const known = [...registry.kinds.filter(isDocumentKind).map((k) => k.name), ...abstractions.map((a) => a.name)];
      throw fileError(source, root, `unknown kind "${key}"${known.find((k) => k.toLowerCase() === key.toLowerCase()) ? ` (did you mean ${known.find((k) => k.toLowerCase() === key.toLowerCase())}?)` : ''}`);
    }
    const step: Step = { kind, values: value, origin: (field) => [key, field], path: root, source };
    return { key, steps: kindSteps(step), warnings: [] };
  });
}
