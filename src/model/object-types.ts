/**
 * The TypeScript type of each kind's objects, derived from its definition (nothing generated):
 * `ObjectOf<'WorkloadInstance'>` has `KubernetesRuntimeInstanceID: number`, `Reconciled: boolean`,
 * `Status?: string`, … with the JSON keys the wire uses. Fields that are always present on a stored
 * object (required, or defaulted) are not optional; has-many fields are absent (never returned).
 */
import type { Condition } from './conditions.ts';
import type { Field, ValueOf } from './fields.ts';
import type * as access from './kinds/access.ts';
import type * as application from './kinds/application.ts';
import type * as aws from './kinds/aws.ts';
import type * as controlPlane from './kinds/control-plane.ts';
import type * as delivery from './kinds/delivery.ts';
import type * as events from './kinds/events.ts';
import type * as gateway from './kinds/gateway.ts';
import type * as helmWorkload from './kinds/helm-workload.ts';
import type * as kubernetesRuntime from './kinds/kubernetes-runtime.ts';
import type * as observability from './kinds/observability.ts';
import type * as secret from './kinds/secret.ts';
import type * as terraform from './kinds/terraform.ts';
import type * as workload from './kinds/workload.ts';

type Modules = typeof workload &
  typeof helmWorkload &
  typeof kubernetesRuntime &
  typeof aws &
  typeof gateway &
  typeof terraform &
  typeof observability &
  typeof secret &
  typeof controlPlane &
  typeof events &
  typeof access &
  typeof delivery &
  typeof application;

type Definitions = { [K in keyof Modules as Modules[K] extends { shape: string; fields: object; name: K } ? K : never]: Modules[K] };

/** Every kind's type name. */
export type KindName = keyof Definitions & string;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type JsonKeyOf<F, K> = F extends { json: infer J extends string } ? J : K;
type IsStored<F> = F extends { kind: 'scalar' } ? true : false;
type IsPresent<F> = F extends { required: true } ? true : F extends { default: NonNullable<unknown> } ? true : false;

type FieldsObject<F> = {
  -readonly [K in keyof F as IsStored<F[K]> extends true ? (IsPresent<F[K]> extends true ? JsonKeyOf<F[K], K> : never) : never]: ValueOf<F[K]>;
} & {
  -readonly [K in keyof F as IsStored<F[K]> extends true ? (IsPresent<F[K]> extends true ? never : JsonKeyOf<F[K], K>) : never]?: ValueOf<F[K]>;
};

interface CommonFields {
  ID: number;
  CreatedAt: string;
  UpdatedAt: string;
  /** Optimistic-concurrency version; also the ETag. */
  Version: number;
}

interface DefinitionFields {
  Name: string;
  ProfileID?: number;
  TierID?: number;
}

interface InstanceFields {
  Name: string;
  Status?: string;
}

interface ReconciliationFields {
  Reconciled: boolean;
  CreationAcknowledged?: string;
  CreationConfirmed?: string;
  CreationFailed: boolean;
  DeletionScheduled?: string;
  DeletionAcknowledged?: string;
  DeletionConfirmed?: string;
  InterruptReconciliation: boolean;
}

interface GenerationFields {
  Status?: string;
  Generation: number;
  ObservedGeneration?: number;
  Conditions?: Condition[];
}

type ShapeFields<D> = D extends { shape: 'definition' } ? DefinitionFields : D extends { shape: 'instance' } ? InstanceFields : unknown;
type ControllerFields<D> = D extends { controller: string } ? ReconciliationFields & GenerationFields : D extends { reconciliationFields: true } ? ReconciliationFields : unknown;
type DefinedFields<D> = D extends { fields: infer F extends Record<string, Field> } ? FieldsObject<F> : unknown;

/** A stored object of kind `N`, as the API returns it. */
export type ObjectOf<N extends KindName> = Simplify<CommonFields & ShapeFields<Definitions[N]> & ControllerFields<Definitions[N]> & DefinedFields<Definitions[N]>>;

/** What a client sends to create an object of kind `N`: its fields without the ones the API sets. */
export type InputOf<N extends KindName> = Simplify<Partial<Omit<ObjectOf<N>, keyof CommonFields | 'Generation'>> & Record<string, unknown>>;
