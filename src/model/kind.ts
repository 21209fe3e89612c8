import { boolean, integer, json, ref, string, time, type Field, type Fields, type ScalarField } from './fields.ts';
import { controllerGroups, type ControllerGroup, type ControllerGroupName } from './controller-groups.ts';
import { kebabCase, lowerCamelCase, snakeCase, plural as pluralOf } from './naming.ts';
import type { ProfileSection } from './profiles.ts';

export type ApiObject = Record<string, unknown> & { ID?: number };

/** Domain rules a kind adds to the generic checks. */
export interface KindRules {
  /**
   * Checks the object as it will be stored (after merging an update); returns a message for a 400.
   * `previous` is the stored object on update.
   */
  validate?(object: ApiObject, previous: ApiObject | undefined): string | undefined;
  /** Fills values the API owns on create (e.g. AwsAccount.ExternalId). */
  onCreate?(object: ApiObject): void;
  /**
   * Computes server-owned fields from the others on every write (e.g. a natural key); returns a
   * message for a 400 when the object cannot have one.
   */
  derive?(object: ApiObject): string | undefined;
  /**
   * Kinds a controller makes from what this object declares (an application's parts): a writer
   * must be allowed to create those too, so a declaration is no way around the roles.
   */
  makes?(object: ApiObject): string[];
  /**
   * The runtimes (by name) what the object declares will run on, undefined where threeport chooses
   * (placement): a writer bound to some runtimes may declare only those.
   */
  runtimesNamed?(object: ApiObject): (string | undefined)[];
}

/**
 * Who owns the objects of a kind, which the roles are granted on (auth/roles.ts). `platform`: what
 * a platform team provides (runtimes, accounts, managed-service offerings, support services);
 * `developer`: what application teams deploy (workloads, their gateways, secrets, databases);
 * `report`: what controllers and agents record (events and the references attaching them);
 * `access`: users, their certificates, role bindings and tokens; `delivery`: image builds CI reports.
 */
export type OwnerFamily = 'platform' | 'developer' | 'report' | 'access' | 'delivery';

export interface KindDefinition<F extends Fields = Fields> {
  /** The original's Go type name, e.g. "WorkloadInstance" (also the envelope's Type). */
  name: string;
  /** The model file it belongs to (workload, aws, gateway…). */
  domain: string;
  /** The role family that owns its objects. */
  owners: OwnerFamily;
  description: string;
  /** `definition` adds Name/ProfileID/TierID; `instance` adds Name/Status; `plain` adds nothing. */
  shape: 'definition' | 'instance' | 'plain';
  /** The controller group that reconciles this kind; makes the kind reconcilable. */
  controller?: ControllerGroupName;
  /** Adds the Reconciliation fields without making the kind reconcilable (DomainNameDefinition). */
  reconciliationFields?: boolean;
  /** `false` for kinds reachable only nested in another (ControlPlaneComponent). */
  routed?: boolean;
  /** Objects are created only by this route (the generic create is refused), e.g. certificates the CA signs. */
  issuedBy?: string;
  /** Agents report the live state of its objects: they may write its controller-owned fields, nothing else. */
  reportedByAgents?: boolean;
  /** Names must be unique among live objects of the kind (default: true when it has a Name). */
  uniqueName?: boolean;
  /** Field sets whose values must be unique together among live objects. */
  uniqueTogether?: readonly (readonly string[])[];
  /**
   * Fields (one of uniqueTogether) that make a create idempotent: a create matching a live object
   * on them returns that object (200) instead of a conflict, e.g. CI reporting a build twice.
   */
  createReturnsExisting?: readonly string[];
  /** A create that declares exactly what the live object of its name holds returns it (200) instead of a conflict. */
  idempotentCreate?: boolean;
  /** Boolean fields at most one live object of the kind may have true (e.g. DefaultRuntime). */
  exclusiveFlags?: readonly string[];
  /** The Profile section a definition with a ProfileID gets its defaults (and limits) from. */
  profileSection?: ProfileSection;
  fields: F;
  rules?: KindRules;
}

/** A kind with everything the rest of the system derives from its definition. */
export interface Kind {
  readonly name: string;
  readonly domain: string;
  readonly description: string;
  readonly owners: OwnerFamily;
  readonly shape: KindDefinition['shape'];
  /** Every field, mixins included, in wire order. */
  readonly fields: Readonly<Record<string, Field>>;
  readonly rules: KindRules;
  /** `workload-definitions` */
  readonly plural: string;
  /** `/v0/workload-definitions` */
  readonly path: string;
  /** `v0_workload_definitions` */
  readonly table: string;
  /** `workloadDefinition` — NATS subjects are `<subjectPrefix>.create|update|delete`. */
  readonly subjectPrefix: string;
  readonly routed: boolean;
  readonly issuedBy?: string;
  readonly reportedByAgents: boolean;
  readonly uniqueName: boolean;
  readonly uniqueTogether: readonly (readonly string[])[];
  readonly createReturnsExisting?: readonly string[];
  readonly idempotentCreate?: boolean;
  readonly exclusiveFlags: readonly string[];
  readonly profileSection?: ProfileSection;
  /** Present when the kind is reconcilable. */
  readonly controller?: ControllerGroup;
  /** Field names of scalar fields, in order. */
  readonly scalarFields: readonly string[];
  /** Lower-cased JSON key or field name → field name, for case-insensitive payload matching. */
  readonly payloadKeys: ReadonlyMap<string, string>;
  /** Query key (canonical or alias) → field name. */
  readonly queryKeys: ReadonlyMap<string, string>;
  /** Field name → JSON key on the wire. */
  readonly jsonKey: (field: string) => string;
  /** Field name → SQL column. */
  readonly column: (field: string) => string;
}

export const API_VERSION = 'v0';

/** Fields every object has; clients may never write them. */
export const commonFields: readonly string[] = ['ID', 'CreatedAt', 'UpdatedAt', 'DeletedAt'];

/** Not in the original: the optimistic-concurrency version, returned on every object. */
export const VERSION_FIELD = 'Version';

const definitionMixin: Fields = {
  Name: string({ required: true, description: 'Unique name of the definition.' }),
  ProfileID: ref('Profile', { description: 'A Profile whose section for this kind (Runtime, AwsRelationalDatabase, AwsObjectStorageBucket, Gateway, DomainName) fills the fields the definition leaves out; a field the profile sets may differ only when its Overridable lists it.' }),
  TierID: ref('Tier', { description: 'Reserved for access control.' }),
};

const instanceMixin: Fields = {
  Name: string({ required: true, description: 'Unique name of the instance.' }),
  Status: string({ owner: 'controller', description: 'What the object is doing, in a few words a person can act on (written by controllers).' }),
};

export const reconciliationMixin: Fields = {
  Reconciled: boolean({ default: false, description: 'False while a controller still has work to do on the object; a change to its desired state sets it false.' }),
  CreationAcknowledged: time({ owner: 'controller', description: 'A controller started a long-running create.' }),
  CreationConfirmed: time({ owner: 'controller', description: 'The long-running create finished.' }),
  CreationFailed: boolean({ default: false, owner: 'controller', description: 'The create failed; a retry is allowed.' }),
  DeletionScheduled: time({ owner: 'controller', description: 'Set by the API on the first DELETE.' }),
  DeletionAcknowledged: time({ owner: 'controller', description: 'A controller started tearing the object down.' }),
  DeletionConfirmed: time({ owner: 'controller', description: 'Teardown finished; the next DELETE removes the object.' }),
  InterruptReconciliation: boolean({ default: false, description: 'Asks controllers to stop reconciling (deletion still proceeds).' }),
};

/**
 * Not in the original: what reconcilable kinds add so that controllers and users agree on what
 * was done. Generation counts changes to desired state; ObservedGeneration is the generation the
 * controller last reconciled; Conditions are the structured form of Status.
 */
export const generationMixin: Fields = {
  Status: string({ owner: 'controller', description: 'What the object is doing, in a few words a person can act on (written by controllers).' }),
  Generation: integer({ owner: 'server', query: false, description: 'Counts changes to the desired state (any field not written by controllers).' }),
  ObservedGeneration: integer({ owner: 'controller', query: false, description: 'The Generation the controller last reconciled.' }),
  Conditions: json({
    owner: 'controller',
    description: 'Structured status: [{Type, Status, Reason, Message, LastTransitionTime, ObservedGeneration}]; Status is their summary.',
  }),
};

/** Declares a kind; the literal types it keeps (name, shape, fields) give each kind its object type (object-types.ts). */
export function defineKind<const D extends KindDefinition>(definition: D): D {
  return definition;
}

/** Derives the full Kind from its definition. */
export function compileKind(definition: KindDefinition): Kind {
  const mixin = definition.shape === 'definition' ? definitionMixin : definition.shape === 'instance' ? instanceMixin : {};
  const reconcilable = definition.controller !== undefined;
  const fields: Record<string, Field> = {
    ...mixin,
    ...(reconcilable || definition.reconciliationFields ? reconciliationMixin : {}),
    ...definition.fields,
    ...(reconcilable ? generationMixin : {}),
  };
  for (const [name, field] of Object.entries(fields)) {
    if (field.kind === 'scalar' && field.query === '') {
      fields[name] = { ...field, query: name.toLowerCase() } satisfies ScalarField;
    }
  }

  const payloadKeys = new Map<string, string>();
  const queryKeys = new Map<string, string>();
  for (const [name, field] of Object.entries(fields)) {
    payloadKeys.set(name.toLowerCase(), name);
    if (field.json) payloadKeys.set(field.json.toLowerCase(), name);
    if (field.query) queryKeys.set(field.query, name);
    for (const alias of field.queryAliases) queryKeys.set(alias, name);
  }

  const plural = pluralOf(kebabCase(definition.name));
  const group = definition.controller ? controllerGroups[definition.controller] : undefined;
  return {
    name: definition.name,
    domain: definition.domain,
    description: definition.description,
    owners: definition.owners,
    shape: definition.shape,
    fields,
    rules: definition.rules ?? {},
    plural,
    path: `/${API_VERSION}/${plural}`,
    table: `${API_VERSION}_${pluralOf(snakeCase(definition.name))}`,
    subjectPrefix: lowerCamelCase(definition.name),
    routed: definition.routed ?? true,
    ...(definition.issuedBy && { issuedBy: definition.issuedBy }),
    reportedByAgents: definition.reportedByAgents ?? false,
    uniqueName: definition.uniqueName ?? 'Name' in fields,
    uniqueTogether: definition.uniqueTogether ?? [],
    ...(definition.createReturnsExisting && { createReturnsExisting: definition.createReturnsExisting }),
    ...(definition.idempotentCreate && { idempotentCreate: true }),
    exclusiveFlags: definition.exclusiveFlags ?? [],
    ...(definition.profileSection && { profileSection: definition.profileSection }),
    ...(group && { controller: group }),
    scalarFields: Object.keys(fields).filter((name) => fields[name]?.kind === 'scalar'),
    payloadKeys,
    queryKeys,
    jsonKey: (field) => fields[field]?.json ?? field,
    column: (field) => snakeCase(field),
  };
}

export const isReconcilable = (kind: Kind): boolean => kind.controller !== undefined;
