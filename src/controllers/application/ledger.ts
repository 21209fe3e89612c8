/**
 * What an application is made of, kept in its Children in the order each was reached: the objects
 * it made (with a fingerprint of the fields it wrote, so an edit is written once, not on every
 * look) and the ones it only uses. A reconcile finds each wanted child, makes or updates it, and
 * at the end removes the made ones no longer wanted, last made first; deleting the application
 * removes every made one the same way and never touches what it used. A child made just before
 * a crash (not recorded yet) is found by name and taken only if it is newer than the application
 * (shared/composition.ts), so nothing is made twice and nobody else's object is adopted.
 */
import { createHash } from 'node:crypto';
import { ApiRequestError, isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext } from '../../controller/reconciler.ts';
import type { ApiObject } from '../../model/kind.ts';
import { childRecordsOf, type ChildRecord } from '../../model/application-children.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { registry } from '../../model/registry.ts';
import { findChild } from '../shared/composition.ts';

export type Application = ObjectOf<'Application'>;
export { childRecordsOf, type ChildRecord };

const fingerprint = (fields: ApiObject): string => createHash('sha256').update(JSON.stringify(fields)).digest('base64url').slice(0, 22);

const describe = (kind: string, name: string): string => `${kind} ${name}`;

/** A child kind's refusal (a 400 or 409) is the application's to fix: said with the child's name, not retried. */
function childRefused(error: unknown, kind: string, name: string): never {
  if (error instanceof ApiRequestError && (error.status === 400 || error.status === 409 || error.status === 422)) {
    throw new TerminalError(`${describe(kind, name)}: ${error.message}`, { cause: error });
  }
  throw error;
}

export class Ledger {
  readonly #context: ReconcileContext<Application>;
  readonly #recorded: ChildRecord[];
  readonly #reached: ChildRecord[] = [];

  constructor(context: ReconcileContext<Application>) {
    this.#context = context;
    this.#recorded = childRecordsOf(context.object);
  }

  /** Everything reached by this reconcile so far, in order. */
  get reached(): readonly ChildRecord[] {
    return this.#reached;
  }

  #recordedAs(role: string, kind: string): ChildRecord | undefined {
    return this.#recorded.find((record) => record.Role === role && record.Kind === kind);
  }

  /** Makes the child (or adopts the one made before a crash), or updates it when its fields changed since they were last written. */
  async make(role: string, kind: string, name: string, fields: ApiObject, fingerprintOf: ApiObject = fields): Promise<ApiObject> {
    const recorded = this.#recordedAs(role, kind);
    const wanted = fingerprint({ Name: name, ...fingerprintOf });
    const client = this.#context.client.kind(kind);
    const found = await findChild(this.#context, { kind, name: recorded?.Made && recorded.Name === name ? recorded.Name : name, id: recorded?.Made ? recorded.ID : undefined }, true);
    let object = found;
    if (!object) object = await client.create({ Name: name, ...fields }).catch((error: unknown) => childRefused(error, kind, name));
    else if (recorded?.Fingerprint !== wanted && !object.DeletionScheduled) {
      object = await client.update(Number(object.ID), fields, { version: Number(object.Version) }).catch((error: unknown) => childRefused(error, kind, name));
    }
    this.#reached.push({ Role: role, Kind: kind, ID: Number(object.ID), Name: String(object.Name), Made: true, Fingerprint: wanted });
    return object;
  }

  /** An existing object the application uses; undefined (and nothing recorded) while it does not exist. */
  async use(role: string, kind: string, name: string): Promise<ApiObject | undefined> {
    const object = await this.#context.client.kind(kind).findByName(name);
    if (object) this.#reached.push({ Role: role, Kind: kind, ID: Number(object.ID), Name: name, Made: false });
    return object;
  }

  /** An object the application reached another way (a runtime it was placed on). */
  note(role: string, kind: string, object: ApiObject, made: boolean): void {
    this.#reached.push({ Role: role, Kind: kind, ID: Number(object.ID), Name: String(object.Name), Made: made });
  }

  /** Keeps recorded children this reconcile did not get to (it stopped early), so they are neither forgotten nor removed. */
  keepUnreached(): void {
    for (const record of this.#recorded) {
      if (!this.#reached.some((reached) => reached.Role === record.Role && reached.Kind === record.Kind)) this.#reached.push(record);
    }
  }

  /** Writes what was reached as the application's Children (once, when it changed). */
  async save(): Promise<void> {
    const children = this.#reached;
    await this.#context.update((current) => (JSON.stringify(current.Children ?? []) === JSON.stringify(children) ? undefined : { Children: [...children] }));
  }

  /**
   * Removes made children not reached this time (their part was taken out of the application),
   * last made first, one at a time; resolves with what is still being removed.
   */
  async removeUnwanted(keep: (record: ChildRecord) => Promise<string | undefined>): Promise<string | undefined> {
    const unwanted = this.#recorded.filter((record) => record.Made && !this.#reached.some((reached) => reached.Kind === record.Kind && reached.ID === record.ID));
    for (const record of unwanted.reverse()) {
      const kept = await keep(record);
      const removing = kept === undefined ? await removeOne(this.#context, record) : undefined;
      if (removing) {
        // Still recorded until it is gone, so a crash now does not forget it.
        this.#reached.push(record);
        return removing;
      }
    }
    return undefined;
  }
}

/** Asks for the child's removal; resolves with what is pending while it still exists, undefined once gone. */
export async function removeOne(context: ReconcileContext<Application>, record: ChildRecord): Promise<string | undefined> {
  const client = context.client.kind(record.Kind);
  const object = await client.get(record.ID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (!object) return undefined;
  if (!object.DeletionScheduled) {
    await client.delete(record.ID).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      if (error instanceof ApiRequestError && error.status === 409) return undefined; // blocked by something still using it: looked at again
      throw error;
    });
  }
  const now = await client.get(record.ID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  return now ? `removing ${registry.get(record.Kind).name} ${record.Name}${now.Status ? ` (${String(now.Status)})` : ''}` : undefined;
}
