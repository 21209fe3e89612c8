/**
 * The field vocabulary every kind is written in. A field is plain data: its value type, whether a
 * client must or may send it, how it is filtered, stored and protected. Routes, SQL, validation,
 * OpenAPI, the client and the CLI all read these descriptors; nothing is generated.
 */

/** What a reader who may not see an encrypted field gets instead of it; writing it back keeps the stored value. */
export const REDACTED_PLACEHOLDER = '[encrypted value redacted]';

export type ValueType = 'string' | 'integer' | 'boolean' | 'time' | 'json';
export type FieldOwner = 'server' | 'controller';

interface FieldBase<T> {
  readonly valueType: ValueType;
  /** Must be present on POST and PUT (the original's `validate:"required"`). */
  readonly required: boolean;
  /** Query-string key for exact-match list filters; `false` when the field is not filterable. */
  readonly query: string | false;
  /** Older query keys still accepted (the original had several wrong ones). */
  readonly queryAliases: readonly string[];
  /** JSON key when it differs from the field name (the original has a few odd ones). */
  readonly json?: string;
  /** Value stored on create when the client sends none. */
  readonly default?: T;
  /** Stored AES-256-GCM encrypted; returned as ciphertext, never in plaintext, never logged. */
  readonly encrypted: boolean;
  /**
   * Encrypted and returned to the kind's controllers only (their ciphertext): every other reader,
   * admins too, gets the redaction placeholder (SecretDefinition.Data). With auth off every caller
   * is an admin and a controller.
   */
  readonly hidden?: boolean;
  /** Refused on update once set (e.g. KubernetesRuntimeInstance.Location). */
  readonly immutable: boolean;
  /** Allowed values; anything else is a 400. */
  readonly oneOf?: readonly string[];
  /**
   * Who writes the field. `server`: only the API (never accepted from clients). `controller`:
   * controllers and agents report it (still accepted on the wire for the original's clients; the
   * security layer reserves it for controller identities). Absent: desired state, written by users;
   * a change to it is a new generation of the object.
   */
  readonly owner?: FieldOwner;
  /** Human description, used in OpenAPI and `--help`. */
  readonly description?: string;
  /** Phantom marker carrying the TypeScript type of the value. */
  readonly __type?: T;
}

/** A scalar column. */
export interface ScalarField<T = unknown> extends FieldBase<T> {
  readonly kind: 'scalar';
  /** When set, the value is the ID of an object of this kind, which must exist. */
  readonly references?: string;
  /** Objects are looked up by it often enough (deletes, list filters) for an index on live rows; references always have one. */
  readonly indexed: boolean;
  /** Deleting the referenced object is refused while this object points at it. */
  readonly blocksDelete: boolean;
  /** This object belongs to the referenced one: it is deleted when that object's row is removed. */
  readonly cascade: boolean;
  /**
   * When a create leaves it out: the referenced kind's object whose boolean field of this name is
   * true (e.g. the runtime with DefaultRuntime). The field is then required after defaulting.
   */
  readonly defaultToFlagged?: string;
}

/**
 * Child rows written together with their parent on POST (and appended on PATCH): the original's
 * non-association has-many fields such as GatewayDefinition.HttpPorts. Never returned on reads.
 */
export interface NestedField extends FieldBase<Record<string, unknown>[]> {
  readonly kind: 'nested';
  readonly childKind: string;
  readonly foreignKey: string;
  /**
   * The children are part of the parent's desired state (a gateway's ports): a child written on
   * its own gives the parent a new generation. Not so for what controllers report (events).
   */
  readonly desiredState?: boolean;
}

/**
 * A has-many relation kept for wire compatibility (e.g. WorkloadDefinition.WorkloadInstances).
 * Clients navigate it by filtering the child kind; sending it is a 400.
 */
export interface AssociationField extends FieldBase<unknown[]> {
  readonly kind: 'association';
  readonly childKind: string;
}

export type Field = ScalarField | NestedField | AssociationField;
export type Fields = Readonly<Record<string, Field>>;

interface ScalarOptions<T> {
  required?: boolean;
  query?: string | false;
  queryAliases?: readonly string[];
  json?: string;
  default?: T;
  encrypted?: boolean;
  hidden?: boolean;
  immutable?: boolean;
  oneOf?: readonly string[];
  description?: string;
  owner?: FieldOwner;
  indexed?: boolean;
}

function scalar<T>(valueType: ValueType, options: ScalarOptions<T> = {}): ScalarField<T> {
  return {
    kind: 'scalar',
    valueType,
    required: options.required ?? false,
    // Filled in with the lower-cased field name by defineKind unless set explicitly.
    query: options.query ?? (options.encrypted ? false : ''),
    queryAliases: options.queryAliases ?? [],
    ...(options.json !== undefined && { json: options.json }),
    ...(options.default !== undefined && { default: options.default }),
    encrypted: (options.encrypted ?? false) || (options.hidden ?? false),
    ...(options.hidden && { hidden: true }),
    immutable: options.immutable ?? false,
    ...(options.oneOf !== undefined && { oneOf: options.oneOf }),
    ...(options.description !== undefined && { description: options.description }),
    ...(options.owner !== undefined && { owner: options.owner }),
    indexed: options.indexed ?? false,
    blocksDelete: false,
    cascade: false,
  };
}

/**
 * What the TypeScript types of objects need from a field's options, kept as literal types: whether
 * the field is always present on a stored object (required, or has a default), and its JSON key
 * when it differs from its name.
 */
export type FieldMarks<O> = (O extends { required: true } ? { readonly required: true } : unknown) &
  (O extends { default: NonNullable<unknown> } | { defaultToFlagged: string } ? { readonly default: NonNullable<unknown> } : unknown) &
  (O extends { json: infer J extends string } ? { readonly json: J } : unknown);

export const string = <const O extends ScalarOptions<string> = {}>(options?: O): ScalarField<string> & FieldMarks<O> =>
  scalar('string', options) as ScalarField<string> & FieldMarks<O>;
export const integer = <const O extends ScalarOptions<number> = {}>(options?: O): ScalarField<number> & FieldMarks<O> =>
  scalar('integer', options) as ScalarField<number> & FieldMarks<O>;
export const boolean = <const O extends ScalarOptions<boolean> = {}>(options?: O): ScalarField<boolean> & FieldMarks<O> =>
  scalar('boolean', options) as ScalarField<boolean> & FieldMarks<O>;
/** An RFC 3339 timestamp, returned in UTC. */
export const time = <const O extends ScalarOptions<string> = {}>(options?: O): ScalarField<string> & FieldMarks<O> =>
  scalar('time', options) as ScalarField<string> & FieldMarks<O>;
/** Arbitrary JSON (stored as JSONB): manifests, inventories, maps. Not filterable. */
export const json = <const O extends ScalarOptions<unknown> = {}>(options?: O): ScalarField<unknown> & FieldMarks<O> =>
  scalar('json', { query: false, ...options }) as ScalarField<unknown> & FieldMarks<O>;

/** The ID of another object, which must exist when the field is written. */
export function ref<const O extends ScalarOptions<number> & { blocksDelete?: boolean; cascade?: boolean; defaultToFlagged?: string } = {}>(
  kind: string,
  options: O = {} as O,
): ScalarField<number> & FieldMarks<O> {
  const field: ScalarField<number> = {
    ...scalar<number>('integer', options),
    references: kind,
    blocksDelete: options.blocksDelete ?? false,
    cascade: options.cascade ?? false,
    ...(options.defaultToFlagged && { defaultToFlagged: options.defaultToFlagged }),
  };
  return field as ScalarField<number> & FieldMarks<O>;
}

/** What has-many fields share: never required, filtered, encrypted or stored as a column. */
const collection = {
  valueType: 'json',
  required: false,
  query: false,
  queryAliases: [],
  encrypted: false,
  immutable: false,
} as const;

export function nested(childKind: string, foreignKey: string, options: { json?: string; description?: string; desiredState?: boolean } = {}): NestedField {
  return { kind: 'nested', ...collection, childKind, foreignKey, ...options };
}

export function association(childKind: string, options: { json?: string } = {}): AssociationField {
  return { kind: 'association', ...collection, childKind, ...options };
}

/** The TypeScript value type a field carries. */
export type ValueOf<F> = F extends FieldBase<infer T> ? T : never;
