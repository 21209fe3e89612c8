/**
 * Application: makes a workload and everything it declares it needs exist, in dependency order —
 * its runtime (named, placed by requirements, or provisioned), the applications it depends on
 * (healthy before its own workload starts, their addresses passed to it), its workload, then the
 * secret, database, bucket, domain name and gateway attached to the workload — and reports one
 * status: Healthy when every part is. A part that fails is named in the Status with its own; the
 * next look continues where this one stopped.
 */
import { isDeepStrictEqual } from 'node:util';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { applicationKeys, ApplicationSpecError, applicationFields, onlyNamed, cycleThrough, dependencyEdges, parseApplication, type ApplicationSpec, type ObservabilityWish, type Part, type RuntimeRequirements } from '../../model/application-spec.ts';
import { conditionsOf, findCondition } from '../../model/conditions.ts';
import { controllerGroups } from '../../model/controller-groups.ts';
import type { ApiObject } from '../../model/kind.ts';
import { kebabCase } from '../../model/naming.ts';
import { ProfileViolation, withProfile, type ProfileSection } from '../../model/profiles.ts';
import { unreadiness } from '../../model/readiness.ts';
import { registry } from '../../model/registry.ts';
import { childName } from '../shared/composition.ts';
import { contribute, contributionsOf, withdrawContribution } from '../shared/contributions.ts';
import { dependencyContribution, publicAddress, serviceAddress } from './connections.ts';
import { childRecordsOf, type ChildRecord } from '../../model/application-children.ts';
import { LEFT, Ledger, othersRecording, PartNameTaken, recordersOf, removeOne, type Application, type PartFate, type Recorders } from './ledger.ts';
import { placeWorkload, type Placement } from './placement.ts';

export const HEALTHY = 'Healthy';

export interface ApplicationSettings {
  /** How often an application whose parts are not all ready looks again. @default 2000 */
  pollIntervalMs?: number;
  /** How often a healthy application checks its parts still are. @default 30000 */
  checkIntervalMs?: number;
}

/** Something the application waits for (a part not ready, a named object not there yet): said, and looked at again. */
class Waiting extends Error {}

/**
 * Something that will not pass by waiting (a part its controller gave up on, a dependency cycle):
 * the application is Failed — `--wait` ends — and its resync looks again, since the fix may be
 * made elsewhere (the part, another application).
 */
class Failing extends Waiting {}

/** A name as the original put it into a domain name instance's (kebab case), left as it is when it is one already. */
const kebabName = (name: string): string => (/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name) ? name : kebabCase(name));
const contributionKey = (application: Application): string => `Application/${application.ID}`;
const defined = (values: ApiObject): ApiObject => Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined && value !== null));

function specOf(application: ApiObject): ApplicationSpec {
  const declared = Object.fromEntries(applicationKeys.filter((key) => application[key] !== undefined && application[key] !== null).map((key) => [key, application[key]]));
  try {
    return parseApplication(declared);
  } catch (error) {
    if (error instanceof ApplicationSpecError) throw new TerminalError(error.message);
    throw error;
  }
}

class Build {
  readonly #context: ReconcileContext<Application>;
  readonly #pollMs: number;
  readonly #ledger: Ledger;
  /** Each part as this look read or wrote it, by role. */
  readonly #objects = new Map<string, ApiObject>();
  /** Children are written once per look, before the status that goes with them. */
  #saved = false;

  constructor(context: ReconcileContext<Application>, pollMs: number) {
    this.#context = context;
    this.#pollMs = pollMs;
    this.#ledger = new Ledger(context);
  }

  get #application(): Application {
    return this.#context.object;
  }

  async run(): Promise<ReconcileOutcome> {
    const spec = specOf(this.#application);
    let finished = false;
    try {
      await this.#refuseCycles(spec);
      const profile = await this.#profile(spec);
      const runtime = await this.#runtime(spec, profile);
      const dependencies = await this.#dependencies(spec, runtime);
      const workload = await this.#workload(spec, runtime, dependencies);
      await this.#parts(spec, profile, runtime, workload);
      await this.#observability(spec, profile, runtime);
      finished = true;
      // Who else records a part is asked only when there is a part to decide on.
      let others: Promise<Recorders> | undefined;
      const removing = await this.#ledger.removeUnwanted((record) => partFate(this.#context, record, this.#ledger.reached, () => (others ??= othersRecording(this.#context))));
      if (removing) throw new Waiting(removing);
      return await this.#report();
    } catch (error) {
      if (!(error instanceof Waiting)) throw error;
      // What it is made of is recorded before the status that goes with it.
      await this.#saveLedger(finished);
      const failing = error instanceof Failing;
      await this.#context.setCondition({ Type: HEALTHY, Status: 'False', Reason: failing ? 'Failed' : 'Waiting', Message: error.message, ObservedGeneration: Number(this.#application.Generation) });
      // Failed is where this generation ends (the Status says it); the resync looks again.
      return failing ? undefined : { waiting: error.message, requeueAfterMs: this.#pollMs };
    } finally {
      await this.#saveLedger(finished);
    }
  }

  async #saveLedger(finished: boolean): Promise<void> {
    if (this.#saved) return;
    this.#saved = true;
    if (!finished) this.#ledger.keepUnreached();
    await this.#ledger.save();
  }

  async #make(role: string, kind: string, name: string, fields: ApiObject, fingerprintOf?: ApiObject): Promise<ApiObject> {
    const object = await this.#ledger.make(role, kind, name, fields, fingerprintOf);
    this.#objects.set(role, object);
    return object;
  }

  async #use(role: string, kind: string, name: string): Promise<ApiObject> {
    const object = await this.#ledger.use(role, kind, name);
    if (!object) throw new Waiting(`${kind} ${name} does not exist: make it, or declare its fields here so the application makes it`);
    this.#objects.set(role, object);
    return object;
  }

  /** A part placed on without being made (a runtime placement chose). */
  #note(role: string, kind: string, object: ApiObject): void {
    this.#ledger.note(role, kind, object);
    this.#objects.set(role, object);
  }

  /** A cycle through this application, over the applications it names and nests and those they do, is refused with the cycle named. */
  async #refuseCycles(spec: ApplicationSpec): Promise<void> {
    const edges = dependencyEdges(spec);
    const queue = [...edges.values()].flat();
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (edges.has(name)) continue;
      const other = await this.#context.client.kind('Application').findByName(name);
      if (!other) {
        edges.set(name, []);
        continue;
      }
      try {
        dependencyEdges(specOf(other), edges);
      } catch {
        edges.set(name, []);
      }
      queue.push(...(edges.get(name) ?? []));
    }
    const cycle = cycleThrough(spec.Name, (name) => edges.get(name) ?? []);
    if (cycle) throw new Failing(`dependency cycle: ${cycle.join(' → ')}; an application cannot need itself: remove one of these dependencies`);
  }

  async #profile(spec: ApplicationSpec): Promise<ApiObject | undefined> {
    let name = spec.Profile;
    if (name === undefined && spec.Tier !== undefined) {
      const tier = await this.#context.client.kind('Tier').findByName(spec.Tier);
      if (!tier) throw new Waiting(`tier ${spec.Tier} does not exist`);
      name = typeof tier.Profile === 'string' && tier.Profile !== '' ? tier.Profile : undefined;
    }
    if (name === undefined) return undefined;
    const profile = await this.#context.client.kind('Profile').findByName(name);
    if (!profile) throw new Waiting(`profile ${name}${spec.Profile === undefined ? ` (tier ${spec.Tier}'s)` : ''} does not exist`);
    return profile;
  }

  #withProfile(section: ProfileSection, declared: ApiObject | undefined, profile: ApiObject | undefined): ApiObject | undefined {
    try {
      return withProfile(section, declared, profile);
    } catch (error) {
      if (error instanceof ProfileViolation) throw new TerminalError(error.message);
      throw error;
    }
  }

  async #runtime(spec: ApplicationSpec, profile: ApiObject | undefined): Promise<ApiObject> {
    const named = spec.Runtime?.Name;
    if (named !== undefined) {
      const runtime = await this.#use('runtime', 'KubernetesRuntimeInstance', named);
      await this.#place({ KubernetesRuntimeInstanceID: Number(runtime.ID), Name: named, Reason: 'named by the application', Provisioned: false });
      return runtime;
    }
    const requirements = (this.#withProfile('Runtime', spec.Runtime as ApiObject | undefined, profile) ?? {}) as RuntimeRequirements;
    const placed = this.#application.Placement as Placement | undefined;
    const decision = await placeWorkload(this.#context.client, spec.Name, requirements, placed, profile?.Runtime != null);
    if ('none' in decision) throw new Waiting(decision.none);
    const provisionedBefore = childRecordsOf(this.#application).find((record) => record.Role === 'runtime' && record.Made);
    if ('provision' in decision || provisionedBefore?.ID === decision.runtime.ID) {
      const name = childName(spec.Name, 'runtime');
      const wanted = 'provision' in decision ? decision.provision : requirements;
      const definition = await this.#make('runtime-definition', 'KubernetesRuntimeDefinition', name, defined({ InfraProvider: wanted.InfraProvider ?? (wanted.Location === 'Local' ? 'kind' : 'eks'), NodeSize: wanted.NodeSize, NodeProfile: wanted.NodeProfile, NodeMaximum: wanted.NodeMaximum, HighAvailability: wanted.HighAvailability, DnsProvider: wanted.DnsProvider }));
      const runtime = await this.#make('runtime', 'KubernetesRuntimeInstance', name, { Location: wanted.Location, KubernetesRuntimeDefinitionID: definition.ID, DefaultRuntime: false });
      await this.#place({ KubernetesRuntimeInstanceID: Number(runtime.ID), Name: name, Reason: placed?.Provisioned ? placed.Reason : decision.reason, Provisioned: true });
      return runtime;
    }
    this.#note('runtime', 'KubernetesRuntimeInstance', decision.runtime);
    await this.#place({ KubernetesRuntimeInstanceID: Number(decision.runtime.ID), Name: String(decision.runtime.Name), Reason: decision.reason, Provisioned: false });
    return decision.runtime;
  }

  async #place(placement: Placement): Promise<void> {
    const current = this.#application.Placement as Placement | undefined;
    if (current?.KubernetesRuntimeInstanceID === placement.KubernetesRuntimeInstanceID && current.Reason === placement.Reason && this.#application.PlacementRuntimeID === placement.KubernetesRuntimeInstanceID) return;
    await this.#context.update({ Placement: placement, PlacementRuntimeID: placement.KubernetesRuntimeInstanceID });
    await this.#context.recordEvent({ reason: placement.Provisioned ? 'RuntimeProvisioned' : 'Placed', note: `runtime ${placement.Name}: ${placement.Reason}` });
  }

  /** The applications this one depends on, made or found, every one Healthy; else it waits for the first that is not. */
  async #dependencies(spec: ApplicationSpec, runtime: ApiObject): Promise<ApiObject[]> {
    const applications: ApiObject[] = [];
    for (const dependency of spec.Dependencies) {
      if ('Application' in dependency) {
        applications.push(await this.#use(`dependency:${dependency.Application}`, 'Application', dependency.Application));
        continue;
      }
      const nested = dependency.Nested;
      const fields = applicationFields(nested);
      fields.Runtime ??= { Name: runtime.Name };
      if (spec.Tier !== undefined) fields.Tier ??= spec.Tier;
      if (spec.Profile !== undefined) fields.Profile ??= spec.Profile;
      applications.push(await this.#make(`dependency:${nested.Name}`, 'Application', nested.Name, fields));
    }
    for (const application of applications) this.#stopAtFailure('Application', application, `dependency Application ${String(application.Name)}`);
    const waitingOn = applications.find((application) => unreadiness(registry.get('Application'), application) !== undefined);
    if (waitingOn) throw new Waiting(`dependency Application ${String(waitingOn.Name)}: ${String(waitingOn.Status ?? 'not reconciled yet')}`);
    return applications;
  }

  /** A part whose controller gave up fails the application too (so --wait ends) while it stays so. */
  #stopAtFailure(kind: string, object: ApiObject, label: string): void {
    if (unreadiness(registry.get(kind), object) !== 'failed') return;
    const reason = String(object.Status ?? 'its controller gave up').replace(/^Failed: /, '').replace(/ \(not retried until the object changes\)$/, '');
    throw new Failing(`${label} failed: ${reason}`);
  }

  async #workload(spec: ApplicationSpec, runtime: ApiObject, dependencies: readonly ApiObject[]): Promise<ApiObject> {
    if (spec.Helm) {
      const { Repo, Chart, ChartVersion, ValuesDocument, InstanceValuesDocument } = spec.Helm;
      const definition = await this.#make('workload-definition', 'HelmWorkloadDefinition', spec.Name, defined({ Repo, Chart, ChartVersion, ValuesDocument }));
      return this.#make('workload', 'HelmWorkloadInstance', spec.Name, defined({ HelmWorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID, ValuesDocument: InstanceValuesDocument }));
    }
    const definition = await this.#make('workload-definition', 'WorkloadDefinition', spec.Name, { YAMLDocument: spec.YAMLDocument });
    const workload = await this.#make('workload', 'WorkloadInstance', spec.Name, { WorkloadDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID });
    await this.#connect(workload, dependencies);
    return workload;
  }

  /** Passes each dependency's address to the workload (and takes it back when the dependency goes). */
  async #connect(workload: ApiObject, dependencies: readonly ApiObject[]): Promise<void> {
    const addresses = [];
    for (const dependency of dependencies) {
      const placed = (dependency.Placement as Placement | undefined)?.KubernetesRuntimeInstanceID;
      const elsewhere = placed !== undefined && placed !== Number(workload.KubernetesRuntimeInstanceID);
      const own = childRecordsOf(dependency).find((record) => record.Role === 'workload' && record.Kind === 'WorkloadInstance');
      const address = elsewhere ? await publicAddress(this.#context.client, dependency) : own ? await serviceAddress(this.#context.client, own.ID) : undefined;
      if (address) addresses.push({ name: String(dependency.Name), ...address });
      else if (elsewhere) {
        await this.#context.recordEvent({ reason: 'DependencyUnreachable', type: 'Warning', note: `dependency ${String(dependency.Name)} runs on another runtime (${String((dependency.Placement as Placement).Name)}) and has no gateway on a domain: its address is not passed on, since a cluster-local name does not resolve here; give it a Gateway and DomainName, or run both on one runtime` });
      }
    }
    const key = contributionKey(this.#application);
    const part = dependencyContribution(this.#application.Name, addresses);
    const current = contributionsOf({ Contributions: workload.Contributions })[key];
    // Written once per change: contribute() has the workload controller apply it.
    if (part && !isDeepStrictEqual(current, part)) await contribute(this.#context, Number(workload.ID), key, part);
    else if (!part && current) await withdrawContribution(this.#context, Number(workload.ID), key, current);
  }

  /** A part's definition: used when only named, else made from its fields (with `references` by name resolved). */
  async #definition(role: string, kind: string, part: Part, defaultName: string, fields: ApiObject, fingerprintOf?: ApiObject): Promise<{ definition: ApiObject; used: boolean }> {
    if (onlyNamed(part)) return { definition: await this.#use(`${role}-definition`, kind, String(part.Name)), used: true };
    return { definition: await this.#make(`${role}-definition`, kind, part.Name ?? defaultName, await this.#resolveNames(kind, fields), fingerprintOf), used: false };
  }

  /** `<Target>Name` fields as the `<Target>ID` the kind has; an AWS account left out is the default account. */
  async #resolveNames(kindName: string, fields: ApiObject): Promise<ApiObject> {
    const kind = registry.get(kindName);
    const resolved: ApiObject = {};
    for (const [key, value] of Object.entries(fields)) {
      const field = key.endsWith('Name') ? kind.fields[`${key.slice(0, -4)}ID`] : undefined;
      if (field?.kind !== 'scalar' || !field.references || typeof value !== 'string') {
        resolved[key] = value;
        continue;
      }
      const target = await this.#context.client.kind(field.references).findByName(value);
      if (!target) throw new Waiting(`${field.references} ${value} (${key} of the ${kindName}) does not exist`);
      resolved[`${key.slice(0, -4)}ID`] = target.ID;
    }
    const account = kind.fields.AwsAccountID;
    if (account?.kind === 'scalar' && account.required && resolved.AwsAccountID === undefined) {
      const [fallback] = (await this.#context.client.kind('AwsAccount').list({ defaultaccount: true })).objects;
      if (!fallback) throw new Waiting(`the ${kindName} needs an AWS account: name one (AwsAccountName) or make one the default`);
      resolved.AwsAccountID = fallback.ID;
    }
    return resolved;
  }

  async #parts(spec: ApplicationSpec, profile: ApiObject | undefined, runtime: ApiObject, workload: ApiObject): Promise<void> {
    const name = spec.Name;
    const attached = spec.Helm ? { HelmWorkloadInstanceID: workload.ID } : { WorkloadInstanceID: workload.ID };
    const instanceName = (definition: ApiObject, used: boolean): string => (used ? childName(name, String(definition.Name)) : String(definition.Name));
    if (spec.Secret) {
      const { Name: _name, ...settings } = spec.Secret;
      const data = spec.SecretData ? this.#context.decrypt(this.#application.SecretData) : undefined;
      // Fingerprinted by the stored ciphertext: rewriting the values writes the definition again, and no digest of them is kept.
      const { definition, used } = await this.#definition('secret', 'SecretDefinition', spec.Secret, childName(name, 'secret'), { ...settings, Data: data }, { ...settings, Data: this.#application.SecretData });
      await this.#make('secret', 'SecretInstance', instanceName(definition, used), { SecretDefinitionID: definition.ID, ...attached, KubernetesRuntimeInstanceID: runtime.ID });
    }
    if (spec.AwsRelationalDatabase) {
      const { Name: _name, ...settings } = this.#withProfile('AwsRelationalDatabase', spec.AwsRelationalDatabase, profile) ?? {};
      const { definition, used } = await this.#definition('database', 'AwsRelationalDatabaseDefinition', spec.AwsRelationalDatabase, childName(name, 'db'), settings);
      await this.#make('database', 'AwsRelationalDatabaseInstance', instanceName(definition, used), { AwsRelationalDatabaseDefinitionID: definition.ID, ...attached });
    }
    if (spec.AwsObjectStorageBucket) {
      const { Name: _name, ...settings } = this.#withProfile('AwsObjectStorageBucket', spec.AwsObjectStorageBucket, profile) ?? {};
      const { definition, used } = await this.#definition('bucket', 'AwsObjectStorageBucketDefinition', spec.AwsObjectStorageBucket, childName(name, 'bucket'), settings);
      await this.#make('bucket', 'AwsObjectStorageBucketInstance', instanceName(definition, used), { AwsObjectStorageBucketDefinitionID: definition.ID, ...attached });
    }
    let domain: ApiObject | undefined;
    if (spec.DomainName) {
      const { Name: _name, ...settings } = this.#withProfile('DomainName', spec.DomainName, profile) ?? {};
      const found = await this.#definition('domain-name', 'DomainNameDefinition', spec.DomainName, childName(name, 'domain'), settings);
      domain = found.definition;
      // The original's name for a workload's domain name instance.
      await this.#make('domain-name', 'DomainNameInstance', childName(name, kebabName(String(domain.Name))), { DomainNameDefinitionID: domain.ID, ...attached, KubernetesRuntimeInstanceID: runtime.ID });
    }
    if (spec.Gateway) {
      const { Name: _name, ...settings } = this.#withProfile('Gateway', spec.Gateway, profile) ?? {};
      const { definition, used } = await this.#definition('gateway', 'GatewayDefinition', spec.Gateway, childName(name, 'gateway'), { ...settings, ...(domain && { DomainNameDefinitionID: domain.ID }) });
      await this.#make('gateway', 'GatewayInstance', instanceName(definition, used), { GatewayDefinitionID: definition.ID, ...attached, KubernetesRuntimeInstanceID: runtime.ID });
    }
  }

  /**
   * The runtime observed, when the application or its profile asks: the runtime's observability
   * stack is used. Where there is none, one is made (`<runtime>-observability`, shared by every
   * application there and removed by the last to go) only with the profile's consent, as with
   * runtimes. What the application asks of the stack (metrics, logging) must be on there: said
   * while it is not, never changed behind its users' backs.
   */
  async #observability(spec: ApplicationSpec, profile: ApiObject | undefined, runtime: ApiObject): Promise<void> {
    const wish = this.#withProfile('Observability', spec.Observability as ApiObject | undefined, profile) as ObservabilityWish | undefined;
    if (!wish || wish.Enabled === false) return;
    const wanted = defined({ MetricsEnabled: wish.MetricsEnabled, LoggingEnabled: wish.LoggingEnabled });
    // Roles per runtime: a stack made on a runtime the application has left is not moved along.
    const [role, definitionRole] = [`observability:${String(runtime.ID)}`, `observability-definition:${String(runtime.ID)}`];
    const client = this.#context.client;
    const [existing]: ApiObject[] = await client.kind('ObservabilityStackInstance').listAll({ kubernetesruntimeinstanceid: Number(runtime.ID) });
    if (existing) {
      // One on its way out is neither used nor counted on: the next one is made (or used) once it is gone.
      if (existing.DeletionScheduled) throw new Waiting(`observability stack ${String(existing.Name)} on runtime ${String(runtime.Name)} is being removed: waiting for it to go`);
      const made = childRecordsOf(this.#application).some((record) => record.Role === role && record.Made && record.ID === existing.ID);
      // Its users share a stack made for applications, definition and all (recorded first, so removed last): the last user removes both.
      if (existing.SharedByApplications === true) {
        const definition = await client.kind('ObservabilityStackDefinition').get(Number(existing.ObservabilityStackDefinitionID));
        if (made) this.#ledger.keep(definitionRole, 'ObservabilityStackDefinition', definition);
        else this.#ledger.note(definitionRole, 'ObservabilityStackDefinition', definition);
      }
      if (made) this.#ledger.keep(role, 'ObservabilityStackInstance', existing);
      else this.#ledger.note(role, 'ObservabilityStackInstance', existing);
      this.#objects.set(role, existing);
      const off = Object.keys(wanted).filter((key) => wanted[key] !== existing[key]);
      if (off.length > 0) throw new Waiting(`observability stack ${String(existing.Name)} on runtime ${String(runtime.Name)} has ${off.map((key) => `${key} ${String(existing[key])}`).join(' and ')}, which this application asks otherwise: ask its owner to change it, or leave ${off.join(' and ')} out`);
      return;
    }
    if (profile?.Observability == null) {
      throw new Waiting(`runtime ${String(runtime.Name)} has no observability stack, and the application's profile does not turn observability on: ask the platform team for a stack there, or use a profile whose Observability is Enabled`);
    }
    const name = childName(String(runtime.Name), 'observability');
    const ours = childRecordsOf(this.#application).some((record) => record.Role === definitionRole && record.Made);
    if (!ours && (await client.kind('ObservabilityStackDefinition').findByName(name))) {
      throw new Waiting(`observability stack definition ${name} exists without a stack on runtime ${String(runtime.Name)} yet (another application is making it, or it was made by hand): waiting for the stack`);
    }
    try {
      const definition = await this.#make(definitionRole, 'ObservabilityStackDefinition', name, {});
      await this.#make(role, 'ObservabilityStackInstance', name, { ObservabilityStackDefinitionID: definition.ID, KubernetesRuntimeInstanceID: runtime.ID, SharedByApplications: true, ...wanted });
    } catch (error) {
      // Another application of the profile on this runtime is making it right now (its create won, or came between the look and ours): its stack is used once there.
      const taken = error instanceof PartNameTaken || (error instanceof TerminalError && !ours && (await client.kind('ObservabilityStackDefinition').findByName(name)) !== undefined);
      if (taken) throw new Waiting(`another application is making the observability stack of runtime ${String(runtime.Name)}: waiting for it`);
      throw error;
    }
  }

  /** One status for the whole: the first part not ready (with its own status), or Healthy. */
  async #report(): Promise<ReconcileOutcome> {
    let workload: ApiObject | undefined;
    for (const record of this.#ledger.reached) {
      // As read or written by this look: no second read of each part.
      const object = this.#objects.get(record.Role) ?? (await this.#context.client.kind(record.Kind).get(record.ID));
      if (record.Role === 'workload') workload = object;
      if (unreadiness(registry.get(record.Kind), object) === undefined) continue;
      this.#stopAtFailure(record.Kind, object, `${record.Kind} ${record.Name}`);
      throw new Waiting(`${record.Kind} ${record.Name}: ${String(object.Status ?? 'not reconciled yet')}`);
    }
    const placement = this.#application.Placement as Placement | undefined;
    // The workload's own health first ("6 resource(s) ready"), then the whole.
    const health = workload ? findCondition(conditionsOf(workload), HEALTHY)?.Message : undefined;
    const whole = `${this.#ledger.reached.length} parts ready${placement ? ` on runtime ${placement.Name}` : ''}`;
    await this.#saveLedger(true);
    await this.#context.setCondition({ Type: HEALTHY, Status: 'True', Reason: HEALTHY, Message: health ? `${health}; ${whole}` : whole, ObservedGeneration: Number(this.#application.Generation) });
    return undefined;
  }
}

/** Deleting: every part whose fate is removal (what it made, a shared stack it was the last to use), last reached first, one at a time; what it used is left alone, and so is what it made that others now use. */
async function removeParts(context: ReconcileContext<Application>, pollMs: number): Promise<ReconcileOutcome> {
  const children = childRecordsOf(context.object);
  const others = othersRecording(context);
  const fates = new Map<ChildRecord, PartFate>();
  for (const record of children) fates.set(record, await partFate(context, record, children, () => others));
  for (const record of [...children].reverse()) {
    if (fates.get(record) !== 'remove') continue;
    const removing = await removeOne(context, record);
    if (removing === LEFT) {
      // Said once: it is no longer this application's to remove.
      await context.update((current) => ({ Children: childRecordsOf(current).filter((child) => !(child.Kind === record.Kind && child.ID === record.ID)) }));
      continue;
    }
    if (removing) return { waiting: removing, requeueAfterMs: pollMs };
  }
  // Said on what stays: the application's own events go with it.
  for (const [record, fate] of fates) {
    if (typeof fate !== 'object' || !(record.ID > 0) || record.Role.includes('-definition')) continue;
    await context.client.recordEvent({ kind: record.Kind, objectId: record.ID, reason: 'KeptForOthers', type: 'Warning', note: `${fate.keep}; application ${context.object.Name}, which made it, was deleted`, reportingController: controllerGroups.application.reportingController });
  }
  return undefined;
}

const listed = (names: readonly string[]): string => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`;

/**
 * What becomes of a part the application no longer needs (`own`: its parts, which do not count as
 * others'; `others`: who else records each part, asked for when needed). What another application records (a nested
 * application it names, a definition it uses, a shared stack) stays while it does. A runtime it
 * made stays while others' workloads run there (then it is operations' to delete). A stack made
 * for applications goes with the last application recording it. Anything else it made goes; what
 * it only used stays.
 */
async function partFate(context: ReconcileContext<Application>, record: ChildRecord, own: readonly ChildRecord[], others: () => Promise<Recorders>): Promise<PartFate> {
  if (!record.Made && !record.Role.startsWith('observability')) return 'leave';
  const users = recordersOf(await others(), record);
  if (users.length > 0) return { keep: `${record.Kind} ${record.Name} is used by ${users.length} other application${users.length === 1 ? '' : 's'} (${listed(users)})` };
  if (record.Role === 'runtime' || record.Role === 'runtime-definition') {
    const runtime = childRecordsOf(context.object).find((child) => child.Role === 'runtime' && child.Made);
    const why = runtime ? await sharedRuntime(context, runtime, own.filter((child) => child.Made)) : undefined;
    return why === undefined ? 'remove' : { keep: `${why}; it is operations' to delete now` };
  }
  if (record.Made || record.Kind === 'ObservabilityStackDefinition') return 'remove';
  // A stack it only used goes with it when it was made for applications and nobody else uses it.
  const stack = record.ID > 0 ? await context.client.kind(record.Kind).get(record.ID).catch(() => undefined) : undefined;
  return stack?.SharedByApplications === true ? 'remove' : 'leave';
}

/** Why a runtime the application made stays: workloads other than its own (`made`) run on it. */
async function sharedRuntime(context: ReconcileContext<Application>, runtime: ChildRecord, made: readonly ChildRecord[]): Promise<string | undefined> {
  if (!(runtime.ID > 0)) return undefined;
  const own = new Set(made.map((record) => `${record.Kind}/${record.ID}`));
  const others = [];
  for (const kind of ['WorkloadInstance', 'HelmWorkloadInstance']) {
    for (const instance of await context.client.kind(kind).listAll({ kubernetesruntimeinstanceid: runtime.ID })) {
      if (!own.has(`${kind}/${instance.ID}`)) others.push(`${kind} ${String(instance.Name)}`);
    }
  }
  return others.length === 0 ? undefined : `runtime ${runtime.Name} is left in place: ${others.length} other workload${others.length === 1 ? '' : 's'} run on it (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}); delete it once they have moved`;
}

export function applicationReconciler(settings: ApplicationSettings = {}): Reconciler<Application> {
  const pollMs = settings.pollIntervalMs ?? 2000;
  return {
    kind: 'Application',
    statusCondition: HEALTHY,
    resyncIntervalMs: settings.checkIntervalMs ?? 30_000,
    async reconcile(context) {
      if (context.operation === 'Deleted') return removeParts(context, pollMs);
      return new Build(context, pollMs).run();
    },
  };
}
