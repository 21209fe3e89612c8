/**
 * What an application is made of, kept in its Children in the order each was reached: the objects
 * it made (with a fingerprint of the fields it wrote, so an edit is written once, not on every
 * look) and the ones it only uses. Before making an object the application records its intent
 * (Role, Kind, Name, no ID yet): a crash between the create and the record leaves the intent, by
 * which the object is found again by name. Otherwise an object of a part's name is taken over only
 * when it declares exactly what the part does, was written first by the application's writer and
 * belongs to no other application (what an older tptctl's client-side expansion made); anyone
 * else's is refused, never taken over or removed. Children no longer wanted are removed last made
 * first, one at a time, as their fate says; deleting the application does the same with all.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApiRequestError, isBeingDeleted, isDuplicate, isNotFound, isStaleVersion, type ApiClient } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext } from '../../controller/reconciler.ts';
import { updateWithVersion } from '../../controller/write-back.ts';
import { childRecordsOf, type ChildRecord } from '../../model/application-children.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { registry } from '../../model/registry.ts';

export type Application = ObjectOf<'Application'>;

/** What becomes of a part the application no longer needs: removed, kept for others (and why), or left (it was only used). */
export type PartFate = 'remove' | { keep: string } | 'leave';

const fingerprint = (fields: ApiObject): string => createHash('sha256').update(JSON.stringify(fields)).digest('base64url').slice(0, 22);

/** A record made before its object: found again by name. */
const isIntent = (record: ChildRecord): boolean => !(record.ID > 0);

const sameChild = (a: ChildRecord, b: ChildRecord): boolean => a.Kind === b.Kind && (isIntent(a) || isIntent(b) ? a.Name === b.Name : a.ID === b.ID);

/**
 * A part's kind refusing what the application declares (a bad field) is the application's to fix:
 * said with the part's name, not retried. Conflicts that pass (a version moved, a deletion under
 * way) are retried.
 */
function childRefused(error: unknown, kind: string, name: string): never {
  if (isStaleVersion(error) || isBeingDeleted(error)) throw error;
  if (error instanceof ApiRequestError && [400, 409, 422].includes(error.status)) throw new TerminalError(`${kind} ${name}: ${error.message}`, { cause: error });
  throw error;
}

/** A part's name was taken by someone else between the look and the create (another application making a shared part). */
export class PartNameTaken extends TerminalError {}

const absentIfGone = (error: unknown): undefined => {
  if (isNotFound(error)) return undefined;
  throw error;
};

/** The child a record names, if it still exists (an intent: by name). */
export async function recordedObject(context: ReconcileContext<Application>, record: ChildRecord): Promise<ApiObject | undefined> {
  const client = context.client.kind(record.Kind);
  return isIntent(record) ? client.findByName(record.Name) : client.get(record.ID).catch(absentIfGone);
}

export class Ledger {
  readonly #context: ReconcileContext<Application>;
  #recorded: ChildRecord[];
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
    return this.#recorded.find((record) => record.Role === role && record.Kind === kind && record.Made);
  }

  /** Makes the child (found again after a crash by its intent), or updates it when its fields changed since they were last written. */
  async make(role: string, kind: string, name: string, fields: ApiObject, fingerprintOf: ApiObject = fields): Promise<ApiObject> {
    const recorded = this.#recordedAs(role, kind);
    const wanted = fingerprint({ Name: name, ...fingerprintOf });
    const client = this.#context.client.kind(kind);
    let object = recorded ? await recordedObject(this.#context, recorded) : undefined;
    const named = object ? undefined : await client.findByName(name);
    if (named) {
      const refusal = await this.#adoptionRefused(kind, named, fields);
      if (refusal) throw new TerminalError(`a ${kind} named ${name} exists already and was not made for this application (${refusal}): give only its Name to use it, or declare another name`);
      // Made from this very declaration before applications existed (an older tptctl's client-side expansion), part of no application: taken over, so it goes with this one.
      await this.#record({ Role: role, Kind: kind, ID: Number(named.ID), Name: name, Made: true });
      await this.#context.recordEvent({ reason: 'Adopted', note: `${kind} ${name} existed with the declared fields and belonged to no application: it is this application's part now (removed with it)` });
      object = named;
    } else if (!object) {
      // The intent first: a crash after the create finds the object by it.
      const intent: ChildRecord = { Role: role, Kind: kind, ID: 0, Name: name, Made: true };
      await this.#record(intent);
      object = await client.create({ Name: name, ...fields }).catch(async (error: unknown) => {
        if (!isDuplicate(error)) return childRefused(error, kind, name);
        // Someone else's now: the intent goes, so that no later look takes that object for this application's.
        await this.#forget(intent);
        throw new PartNameTaken(`a ${kind} named ${name} was made by someone else just now: give only its Name to use it, or declare another name`, { cause: error });
      });
    } else if (recorded?.Fingerprint !== wanted && !object.DeletionScheduled) {
      // A part renamed in the declaration is renamed, not made again.
      const patch = object.Name === name ? fields : { Name: name, ...fields };
      // Sent again when only what controllers write moved meanwhile (a part's status).
      object = await updateWithVersion(client, object, patch).catch((error: unknown) => childRefused(error, kind, name));
    }
    this.#reached.push({ Role: role, Kind: kind, ID: Number(object.ID), Name: String(object.Name), Made: true, Fingerprint: wanted });
    return object;
  }

  /**
   * Why an existing object of a part's name may not be taken over: it is going, declares something
   * else (or what cannot be compared: hidden values), was made by another writer than the
   * application's, or is another application's.
   */
  async #adoptionRefused(kindName: string, existing: ApiObject, fields: ApiObject): Promise<string | undefined> {
    if (existing.DeletionScheduled) return 'it is being deleted';
    const { client } = this.#context;
    const kind = registry.get(kindName);
    const differing: string[] = [];
    for (const [key, declared] of Object.entries(fields)) {
      const field = kind.fields[key];
      if (field?.kind === 'scalar' && field.hidden) return `its ${key} cannot be compared with what this application declares`;
      const stored = field?.kind === 'nested' ? await client.referrers(kindName, Number(existing.ID), field.childKind) : existing[key];
      const same = field?.kind === 'nested' ? sameRows(stored as ApiObject[], declared) : isDeepStrictEqual(stored, declared);
      if (!same) differing.push(key);
    }
    if (differing.length > 0) return `its ${differing.join(', ')} differ${differing.length === 1 ? 's' : ''} from what this application declares`;
    const [writer, maker] = await Promise.all([firstWriter(client, 'Application', Number(this.#context.object.ID)), firstWriter(client, kindName, Number(existing.ID))]);
    if (writer !== maker) return `it was made by ${maker ?? 'someone else'}, not by ${writer ?? 'the application’s writer'}`;
    const others = await othersRecording(this.#context);
    const [owner] = [...(others.get(partKey(kindName, Number(existing.ID))) ?? []), ...(others.get(intentKey(kindName, String(existing.Name))) ?? [])];
    return owner ? `it is part of application ${owner}` : undefined;
  }

  /** Drops an intent whose object was never made by this application. */
  async #forget(intent: ChildRecord): Promise<void> {
    this.#recorded = this.#recorded.filter((record) => !sameChild(record, intent));
    await this.#context.update((current) => ({ Children: childRecordsOf(current).filter((record) => !sameChild(record, intent)) }));
  }

  /** A part this application made that it keeps as it is (a shared one nobody changes after it is made). */
  keep(role: string, kind: string, object: ApiObject): void {
    const recorded = this.#recordedAs(role, kind);
    this.#reached.push({ Role: role, Kind: kind, ID: Number(object.ID), Name: String(object.Name), Made: true, ...(recorded?.Fingerprint && { Fingerprint: recorded.Fingerprint }) });
  }

  /** Adds an intent to the stored Children (kept with what is recorded already). */
  async #record(intent: ChildRecord): Promise<void> {
    // One record per child: an earlier intent of the same name is replaced, not kept beside it.
    this.#recorded = [...this.#recorded.filter((record) => !sameChild(record, intent)), intent];
    await this.#context.update((current) => ({ Children: [...childRecordsOf(current).filter((record) => !sameChild(record, intent)), intent] }));
  }

  /** An existing object the application uses; undefined (and nothing recorded) while it does not exist. */
  async use(role: string, kind: string, name: string): Promise<ApiObject | undefined> {
    const object = await this.#context.client.kind(kind).findByName(name);
    if (object) this.#reached.push({ Role: role, Kind: kind, ID: Number(object.ID), Name: name, Made: false });
    return object;
  }

  /** An object the application uses that it reached another way (a runtime placement chose). */
  note(role: string, kind: string, object: ApiObject): void {
    this.#reached.push({ Role: role, Kind: kind, ID: Number(object.ID), Name: String(object.Name), Made: false });
  }

  /** Keeps recorded children this reconcile did not get to (it stopped early), so they are neither forgotten nor removed. */
  keepUnreached(): void {
    for (const record of this.#recorded) if (!this.#reached.some((reached) => sameChild(reached, record))) this.#reached.push(record);
  }

  /** Writes what was reached as the application's Children (once, when it changed). */
  async save(): Promise<void> {
    const children = this.#reached;
    await this.#context.update((current) => (JSON.stringify(current.Children ?? []) === JSON.stringify(children) ? undefined : ({ Children: [...children] })));
  }

  /**
   * Removes the children not reached this time (their part was taken out of the application) that
   * `fate` says go — what it made, unless others now use it; a shared part it used, when it was
   * the last user — last recorded first, one at a time; those still there stay recorded. The rest
   * are forgotten. Resolves with what is still being removed.
   */
  async removeUnwanted(fate: (record: ChildRecord) => Promise<PartFate>): Promise<string | undefined> {
    const unwanted = this.#recorded.filter((record) => !this.#reached.some((reached) => sameChild(reached, record)));
    let pending: string | undefined;
    for (const record of unwanted.reverse()) {
      if ((await fate(record)) !== 'remove') continue;
      if (pending !== undefined) {
        // Removed after the one under way: still recorded, so it is not forgotten.
        if (await recordedObject(this.#context, record)) this.#reached.push(record);
        continue;
      }
      const removing = await removeOne(this.#context, record);
      // Left in place for others: forgotten, like anything else it no longer needs.
      pending = removing === LEFT ? undefined : removing;
      if (pending !== undefined) this.#reached.push(record);
    }
    return pending;
  }
}

const partKey = (kind: string, id: number): string => `${kind}/${id}`;
const intentKey = (kind: string, name: string): string => `${kind}#${name}`;

/** The names of the applications recording a part, keyed by Kind/ID (an intent: Kind#Name). */
export type Recorders = ReadonlyMap<string, string[]>;

/** Which other live applications record each part (made or used, intents by name): one listing, for one pass. */
export async function othersRecording(context: ReconcileContext<Application>): Promise<Recorders> {
  const users = new Map<string, string[]>();
  for (const other of await context.client.kind('Application').listAll()) {
    if (other.ID === context.object.ID || other.DeletionScheduled) continue;
    for (const child of childRecordsOf(other)) {
      const key = isIntent(child) ? intentKey(child.Kind, child.Name) : partKey(child.Kind, child.ID);
      users.set(key, [...(users.get(key) ?? []), String(other.Name)]);
    }
  }
  return users;
}

/** The other applications recording the part. */
export const recordersOf = (recorders: Recorders, record: ChildRecord): string[] => (record.ID > 0 ? (recorders.get(partKey(record.Kind, record.ID)) ?? []) : []);

/** Who wrote the object first, as its revisions record it (the user, without the client: `admin`). */
async function firstWriter(client: ApiClient, kind: string, id: number): Promise<string | undefined> {
  const [first] = await client.kind(kind).revisions(id, { size: 1 });
  const actor = (first as { Actor?: string } | undefined)?.Actor;
  return actor?.split(' via ')[0];
}

/** Whether the rows are the declared ones: each declared entry matches a row of its own on the fields it gives. */
function sameRows(rows: readonly ApiObject[], declared: unknown): boolean {
  const entries = Array.isArray(declared) ? (declared as ApiObject[]) : [];
  if (entries.length !== rows.length) return false;
  const left = [...rows];
  return entries.every((entry) => {
    const index = left.findIndex((row) => Object.entries(entry).every(([key, value]) => isDeepStrictEqual(row[key], value)));
    if (index < 0) return false;
    left.splice(index, 1);
    return true;
  });
}

/** removeOne's answer for a part left in place because something else still uses it. */
export const LEFT = Symbol('left in place');

/** Asks for the child's removal; resolves with what is pending while it still exists, undefined once gone, LEFT when others still use it. */
export async function removeOne(context: ReconcileContext<Application>, record: ChildRecord): Promise<string | typeof LEFT | undefined> {
  const client = context.client.kind(record.Kind);
  const object = await recordedObject(context, record);
  if (!object) return undefined;
  let refused: string | undefined;
  if (!object.DeletionScheduled) {
    await client.delete(Number(object.ID)).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      if (error instanceof ApiRequestError && error.status === 409 && !isBeingDeleted(error) && !isStaleVersion(error)) refused = error.message;
      else throw error;
      return undefined;
    });
  }
  if (refused !== undefined) {
    // Parts are removed last made first, so what still uses it is not this application's (a definition others' instances share): it stays theirs.
    await context.recordEvent({ reason: 'PartLeft', type: 'Warning', note: `${record.Kind} ${record.Name} is left in place, used by others: ${refused}` });
    return LEFT;
  }
  const now = await client.get(Number(object.ID)).catch(absentIfGone);
  if (!now) return undefined;
  return `removing ${record.Kind} ${record.Name}: ${String(now.Status ?? 'deletion scheduled')}`;
}
