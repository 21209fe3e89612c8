import { compileKind, type Kind, type KindDefinition } from './kind.ts';
import * as access from './kinds/access.ts';
import * as application from './kinds/application.ts';
import * as aws from './kinds/aws.ts';
import * as controlPlane from './kinds/control-plane.ts';
import * as delivery from './kinds/delivery.ts';
import * as events from './kinds/events.ts';
import * as gateway from './kinds/gateway.ts';
import * as helmWorkload from './kinds/helm-workload.ts';
import * as kubernetesRuntime from './kinds/kubernetes-runtime.ts';
import * as observability from './kinds/observability.ts';
import * as secret from './kinds/secret.ts';
import * as terraform from './kinds/terraform.ts';
import * as workload from './kinds/workload.ts';

const domains = [workload, helmWorkload, kubernetesRuntime, aws, gateway, terraform, observability, secret, controlPlane, events, access, delivery, application];

function isKindDefinition(value: unknown): value is KindDefinition {
  return typeof value === 'object' && value !== null && 'shape' in value && 'fields' in value && 'name' in value;
}

/** Every kind of the v0 API, keyed by type name. The spine everything else is derived from. */
export class Registry {
  readonly kinds: readonly Kind[];
  readonly #byName = new Map<string, Kind>();
  readonly #byPlural = new Map<string, Kind>();
  readonly #blockers = new Map<string, { kind: Kind; field: string }[]>();
  readonly #referrers = new Map<string, { kind: Kind; field: string }[]>();

  constructor(definitions: readonly KindDefinition[]) {
    this.kinds = definitions.map(compileKind);
    for (const kind of this.kinds) {
      this.#byName.set(kind.name, kind);
      this.#byPlural.set(kind.plural, kind);
    }
    this.#checkReferences();
    for (const other of this.kinds) {
      for (const [name, field] of Object.entries(other.fields)) {
        if (field.kind !== 'scalar' || !field.references) continue;
        const edge = { kind: other, field: name };
        this.#referrers.set(field.references, [...(this.#referrers.get(field.references) ?? []), edge]);
        if (field.blocksDelete) this.#blockers.set(field.references, [...(this.#blockers.get(field.references) ?? []), edge]);
      }
    }
  }

  /** The kind named `name` (the original's Go type name); throws for an unknown name. */
  get(name: string): Kind {
    const kind = this.#byName.get(name);
    if (!kind) throw new Error(`unknown kind ${name}`);
    return kind;
  }

  find(name: string): Kind | undefined {
    return this.#byName.get(name);
  }

  byPlural(plural: string): Kind | undefined {
    return this.#byPlural.get(plural);
  }

  get routed(): Kind[] {
    return this.kinds.filter((kind) => kind.routed);
  }

  get reconcilable(): Kind[] {
    return this.kinds.filter((kind) => kind.controller !== undefined);
  }

  /** Scalar fields of other kinds that reference `kind` and block its deletion. */
  blockingReferencesTo(kind: Kind): readonly { kind: Kind; field: string }[] {
    return this.#blockers.get(kind.name) ?? [];
  }

  /**
   * The reverse-reference index: every scalar field of any kind that references `kind`, e.g. for
   * KubernetesRuntimeInstance: WorkloadInstance.KubernetesRuntimeInstanceID, HelmWorkloadInstance…
   */
  referrersOf(kind: Kind | string): readonly { kind: Kind; field: string }[] {
    return this.#referrers.get(typeof kind === 'string' ? kind : kind.name) ?? [];
  }

  /** Referrers that belong to `kind`: they go when its row is removed (fields marked `cascade`). */
  dependentsOf(kind: Kind): { kind: Kind; field: string }[] {
    return this.referrersOf(kind).filter(({ kind: child, field }) => {
      const spec = child.fields[field];
      return spec?.kind === 'scalar' && spec.cascade;
    });
  }

  #checkReferences(): void {
    for (const kind of this.kinds) {
      for (const [name, field] of Object.entries(kind.fields)) {
        const target = field.kind === 'scalar' ? field.references : field.childKind;
        if (target && !this.#byName.has(target)) throw new Error(`${kind.name}.${name} refers to unknown kind ${target}`);
      }
    }
  }
}

export const registry = new Registry(domains.flatMap((domain) => Object.values(domain).filter(isKindDefinition)));
