/**
 * Roles bound for some runtimes only (RoleBinding.Runtimes) change only what runs there. Where an
 * object runs is read from the model: a reference to a Kubernetes runtime instance, or to an object
 * that has one (a database instance → its workload instance → the runtime); a runtime is where it
 * runs itself. Objects that run nowhere but are used by objects that do (definitions) may be
 * changed only when everything using them runs in scope.
 */
import { forbidden } from '../errors.ts';
import type { ScalarField } from '../model/fields.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import type { RoleName } from '../model/roles.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { Identity } from './identities.ts';
import { allows, type Verb } from './permissions.ts';

const RUNTIME = 'KubernetesRuntimeInstance';

/** Undefined: allowed everywhere; else the names of the runtimes the roles allowing `verb` are bound for. */
export function runtimeScopeOf(identity: Identity, kind: Kind, verb: Verb): readonly string[] | undefined {
  const scopes = identity.runtimeScopes;
  if (verb === 'read' || !scopes) return undefined;
  const everywhere = identity.roles.filter((role) => !scopes[role]);
  if (allows(everywhere, kind, verb)) return undefined;
  return identity.roles.filter((role: RoleName) => scopes[role] && allows([role], kind, verb)).flatMap((role) => scopes[role] ?? []);
}

const referenceFields = (kind: Kind): [field: string, target: string][] =>
  Object.entries(kind.fields).flatMap(([name, field]) => (field.kind === 'scalar' && field.references ? [[name, field.references] as [string, string]] : []));

interface RuntimePath {
  field: string;
  /** The kind `field` points at, when that object has the runtime (one step further). */
  via?: Kind;
}

/** Every way from an object of `kind` to a runtime: a field pointing at one, or at an object that has one. */
function runtimePaths(registry: Registry, kind: Kind): RuntimePath[] {
  return referenceFields(kind).flatMap(([field, target]): RuntimePath[] => {
    if (target === RUNTIME) return [{ field }];
    const via = registry.get(target);
    return referenceFields(via).some(([, next]) => next === RUNTIME) ? [{ field, via }] : [];
  });
}

export class RuntimeScope {
  readonly #store: ObjectStore;
  readonly #runtimes: Kind;

  constructor(store: ObjectStore) {
    this.#store = store;
    this.#runtimes = store.registry.get(RUNTIME);
  }

  /**
   * Refuses the write unless everything it touches runs on `allowed`: the object before and after
   * (`existing`, `body`), or — for what runs nowhere — every object using it.
   */
  async check(identity: Identity, kind: Kind, allowed: readonly string[], existing: ApiObject | undefined, body: Record<string, unknown>): Promise<void> {
    const refuse = (where: string): never => {
      throw forbidden(`${identity.name} may change ${kind.name} objects on the runtimes ${allowed.join(', ')} only, not on ${where}`);
    };
    if (kind.name === RUNTIME) {
      for (const name of [existing?.Name, this.#sent(kind, body, 'Name')]) if (name !== undefined && !allowed.includes(String(name))) refuse(String(name));
      return;
    }
    if (kind.rules.runtimesNamed) {
      for (const name of kind.rules.runtimesNamed({ ...existing, ...body })) {
        if (name === undefined || !allowed.includes(name)) refuse(name ?? 'whichever runtime placement chooses (name one of yours: Runtime: {Name})');
      }
      return;
    }
    const paths = runtimePaths(this.#store.registry, kind);
    if (paths.length === 0) {
      if (existing) await this.#checkUsers(kind, Number(existing.ID), allowed, refuse);
      return;
    }
    for (const path of paths) {
      const targets = new Set<number>();
      for (const value of [existing?.[kind.jsonKey(path.field)], this.#sent(kind, body, path.field)]) if (typeof value === 'number') targets.add(value);
      const flag = (kind.fields[path.field] as ScalarField).defaultToFlagged;
      if (!existing && this.#sent(kind, body, path.field) == null && !path.via && flag) targets.add(await this.#flagged(flag));
      for (const target of targets) {
        const runtimeId = path.via ? await this.#runtimeOf(path.via, target) : target;
        // No runtime (a reference the API is about to refuse with a 400): nothing runs anywhere.
        if (!Number.isSafeInteger(runtimeId)) continue;
        const name = await this.#nameOf(runtimeId);
        if (!allowed.includes(name)) refuse(name);
      }
    }
  }

  /** Everything that uses the object and runs somewhere must run in scope. */
  async #checkUsers(kind: Kind, id: number, allowed: readonly string[], refuse: (where: string) => never): Promise<void> {
    for (const { kind: user, field } of this.#store.registry.referrersOf(kind)) {
      const paths = runtimePaths(this.#store.registry, user);
      if (paths.length === 0) continue;
      const { objects } = await this.#store.list(user, { filters: new Map([[user.jsonKey(field), id]]), page: 1, size: 1000 });
      for (const object of objects) {
        for (const path of paths) {
          const value = Number(object[user.jsonKey(path.field)]);
          const runtimeId = path.via ? await this.#runtimeOf(path.via, value) : value;
          if (!Number.isSafeInteger(runtimeId)) continue;
          const name = await this.#nameOf(runtimeId);
          if (!allowed.includes(name)) refuse(`${name} (a ${user.name} there uses it)`);
        }
      }
    }
  }

  #sent(kind: Kind, body: Record<string, unknown>, field: string): unknown {
    return Object.entries(body).find(([key]) => kind.payloadKeys.get(key.toLowerCase()) === field)?.[1];
  }

  /** The runtime an object of `kind` points at directly. */
  async #runtimeOf(kind: Kind, id: number): Promise<number> {
    const direct = runtimePaths(this.#store.registry, kind).find((path) => !path.via);
    const object = Number.isSafeInteger(id) ? await this.#store.get(kind, id) : undefined;
    return Number(direct && object ? object[kind.jsonKey(direct.field)] : Number.NaN);
  }

  async #nameOf(runtimeId: number): Promise<string> {
    return String((await this.#store.get(this.#runtimes, runtimeId))?.Name ?? `the runtime with ID ${runtimeId}`);
  }

  /** Where a create without a runtime goes: the runtime with the field's flag (the store's default, e.g. DefaultRuntime). */
  async #flagged(flag: string): Promise<number> {
    const [runtime] = (await this.#store.list(this.#runtimes, { filters: new Map([[this.#runtimes.jsonKey(flag), true]]), page: 1, size: 1 })).objects;
    return Number(runtime?.ID ?? Number.NaN);
  }
}
