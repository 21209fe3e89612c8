import { ApiError, badRequest, conflict, notFound, staleVersion } from '../errors.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import { requestNotification, writeNotification, type Notification, type NotificationOperation } from '../model/notification.ts';
import type { Registry } from '../model/registry.ts';
import { definitionWithProfile, profileMaySet, ProfileViolation } from '../model/profiles.ts';
import { type Database, type Queryable, isDatabaseError, UNIQUE_VIOLATION } from './database.ts';
import { deleteStep, removeDependents, type RemovedRow } from './deletion.ts';
import { recordEvent, type EventRecord } from './event-log.ts';
import { protectedObject } from './field-protection.ts';
import { createdState, declaresSame, rewrittenState } from './generation.ts';
import { IdAllocator } from './id-allocator.ts';
import { kindTable, type KindTable } from './kind-table.ts';
import { childIdsNeeded, idsNeeded, nestedChildren, type NestedChildren } from './nested-children.ts';
import { ObjectCache } from './object-cache.ts';
import { changedReferences, humanize, refuseIfReferenced, requireLive, type Reference } from './references.ts';
import { insertRow, queueNotification, softDeleteRow, updateRow, type Guard } from './row-writes.ts';
import { checkAndDerive, initialObject, mergedObject, replacementPatch } from './write-rules.ts';

/** What happened to an object, as recorded in its revision history. */
export type RevisionOperation = 'Created' | 'Updated' | 'Replaced' | 'DeletionScheduled' | 'Deleted';
export type { NotificationOperation };

export interface Revision {
  Version: number;
  Operation: RevisionOperation;
  RecordedAt: string;
  /** Who made the change; absent for changes made before writers were recorded, or without auth. */
  Actor?: string;
  Object: ApiObject;
}

export interface ListQuery {
  /** Wire key → value, exact match, AND-ed. */
  filters: ReadonlyMap<string, unknown>;
  page: number;
  size: number;
}

export interface WriteOptions {
  /** The version the client last saw; a different stored version is a 409. */
  expectedVersion?: number;
  /** Who writes (`user:alice`, `token:ci`, …), recorded with the revision. */
  actor?: string;
  /**
   * Check and compute the write as the database would take it — validation, references, unique
   * values, versions — in a transaction that is then rolled back: nothing is stored or notified.
   */
  dryRun?: boolean;
}

export interface DeleteResult {
  object: ApiObject;
  /** `scheduled`: a controller must clean up first (two-phase delete); `deleted`: gone. */
  outcome: 'scheduled' | 'deleted';
}

interface ObjectStoreOptions {
  db: Database;
  registry: Registry;
  cipher: FieldCipher;
  /** Called after a committed write queued a notification, so the relay can publish at once. */
  onOutboxWrite?: () => void;
  now?: () => Date;
  /** Cache objects by ID; only sound when this process is the database's only writer (PGlite). */
  cacheObjects?: boolean;
}

const MAX_OPTIMISTIC_RETRIES = 8;

/** Exact-match conditions for `filters` (wire key → value), appending their values to `params`. */
function filterConditions(table: KindTable, filters: ReadonlyMap<string, unknown>, params: unknown[], prefix = ''): string[] {
  return [...filters].map(([key, value]) => {
    const column = table.byKey.get(key);
    if (!column) throw new Error(`${table.kind.name} has no stored field ${key}`);
    params.push(table.toParam(column, value));
    return `${prefix}${column.column} = $${params.length}`;
  });
}

/**
 * Generic persistence for every kind: the write rules the model declares, encryption of marked
 * fields, generations, optimistic concurrency, two-phase delete with the removal of what belongs
 * to an object, and — in the same atomic statement as each change — its immutable revision and,
 * when its controller must hear of it, its notification in the outbox.
 */
export class ObjectStore {
  readonly registry: Registry;
  readonly #db: Database;
  readonly #cipher: FieldCipher;
  readonly #ids: IdAllocator;
  readonly #tables = new Map<string, KindTable>();
  /** Child kind → the kind whose desired state it is part of (a nested field), and the child's field pointing back. */
  readonly #nestedParents = new Map<string, { parent: Kind; foreignKey: string }>();
  readonly #onOutboxWrite: () => void;
  readonly #now: () => Date;
  readonly #cache: ObjectCache | undefined;

  constructor(options: ObjectStoreOptions) {
    this.#cache = options.cacheObjects ? new ObjectCache() : undefined;
    this.registry = options.registry;
    this.#db = options.db;
    this.#cipher = options.cipher;
    this.#ids = new IdAllocator(options.db);
    this.#onOutboxWrite = options.onOutboxWrite ?? (() => {});
    this.#now = options.now ?? (() => new Date());
    for (const kind of options.registry.kinds) {
      this.#tables.set(kind.name, kindTable(kind));
      for (const field of Object.values(kind.fields)) if (field.kind === 'nested' && field.desiredState) this.#nestedParents.set(field.childKind, { parent: kind, foreignKey: field.foreignKey });
    }
  }

  table(kind: Kind): KindTable {
    const table = this.#tables.get(kind.name);
    if (!table) throw new Error(`no table for kind ${kind.name}`);
    return table;
  }

  async get(kind: Kind, id: number): Promise<ApiObject | undefined> {
    const cached = this.#cache?.get(kind.name, id);
    if (cached !== undefined) return cached ?? undefined;
    const table = this.table(kind);
    const rows = await this.#db.query(table.statements.get, [id], true);
    const object = rows[0] ? table.toObject(rows[0]) : undefined;
    if (object) this.#remember(kind, object);
    return object;
  }

  async mustGet(kind: Kind, id: number): Promise<ApiObject> {
    const object = await this.get(kind, id);
    if (!object) throw notFound();
    return object;
  }

  /**
   * The live object a create of `input` collides with on the kind's createReturnsExisting fields,
   * or — for kinds whose create is idempotent — the live object of its name when it declares the same.
   */
  async findExisting(kind: Kind, input: ApiObject): Promise<ApiObject | undefined> {
    if (kind.idempotentCreate && typeof input.Name === 'string') {
      const { objects } = await this.list(kind, { filters: new Map([[kind.jsonKey('Name'), input.Name]]), page: 1, size: 1 });
      const live = objects[0];
      return live && declaresSame(this.table(kind), this.#cipher, live, input) ? live : undefined;
    }
    if (!kind.createReturnsExisting) return undefined;
    const derived = { ...input };
    if (kind.rules.derive?.(derived) !== undefined) return undefined;
    const filters = new Map(kind.createReturnsExisting.map((field) => [kind.jsonKey(field), derived[field]] as const));
    const { objects } = await this.list(kind, { filters, page: 1, size: 1 });
    return objects[0];
  }

  async list(kind: Kind, query: ListQuery): Promise<{ objects: ApiObject[]; total: number }> {
    const table = this.table(kind);
    const params: unknown[] = [];
    const where = ['deleted_at IS NULL', ...filterConditions(table, query.filters, params)].join(' AND ');
    // One statement in the common case: the window count rides along with the page. Only a page
    // past the end (no rows to carry it) needs the count on its own.
    const rows = await this.#db.query<Record<string, unknown> & { threeport_total: number }>(
      `SELECT ${table.selectList}, count(*) OVER () AS threeport_total FROM ${kind.table} WHERE ${where}
       ORDER BY id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.size, (query.page - 1) * query.size],
      true,
    );
    let total = Number(rows[0]?.threeport_total ?? 0);
    if (rows.length === 0 && query.page > 1) {
      const [counted] = await this.#db.query<{ total: number }>(`SELECT count(*) AS total FROM ${kind.table} WHERE ${where}`, params);
      total = Number(counted?.total ?? 0);
    }
    return { objects: rows.map((row) => table.toObject(row)), total };
  }

  /**
   * Objects of a reconcilable kind that still need their controller — not reconciled, or deleted
   * by their controller but not yet removed — after ID `afterId`, in ID order (keyset paging).
   */
  async pending(kind: Kind, afterId: number, size: number): Promise<ApiObject[]> {
    if (!kind.controller) throw new Error(`${kind.name} is not reconcilable`);
    const table = this.table(kind);
    const rows = await this.#db.query(
      `SELECT ${table.selectList} FROM ${kind.table}
       WHERE deleted_at IS NULL AND (reconciled IS NOT TRUE OR deletion_confirmed IS NOT NULL) AND id > $1
       ORDER BY id LIMIT $2`,
      [afterId, size],
      true,
    );
    return rows.map((row) => table.toObject(row));
  }

  async create(kind: Kind, input: ApiObject, options: WriteOptions = {}): Promise<ApiObject> {
    input = await this.#withFlaggedDefaults(kind, await this.#withProfile(kind, input, undefined, true));
    if (options.dryRun) {
      const ids = await this.#ids.reserve(idsNeeded(this.registry, kind, input));
      return (await this.#rolledBack(kind, (tx) => this.#insert(kind, input, tx, ids, options.actor))).object;
    }
    const created = await this.#insert(kind, input, undefined, await this.#ids.reserve(idsNeeded(this.registry, kind, input)), options.actor);
    if (created.notified) this.#onOutboxWrite();
    await this.#touchParent(kind, created.object, options.actor);
    return created.object;
  }

  /** Creates every object or none (the original's batch was not atomic). */
  async createAll(kind: Kind, given: readonly ApiObject[], options: WriteOptions = {}): Promise<ApiObject[]> {
    const inputs = await Promise.all(given.map((input) => this.#withFlaggedDefaults(kind, input)));
    const ids = await this.#ids.reserve(inputs.reduce((sum, input) => sum + idsNeeded(this.registry, kind, input), 0));
    const results = await this.#translate(kind, () =>
      this.#db.transaction(async (tx) => {
        const created = [];
        for (const input of inputs) created.push(await this.#insert(kind, input, tx, ids, options.actor));
        return created;
      }),
    );
    if (results.some((result) => result.notified)) this.#onOutboxWrite();
    return results.map((result) => result.object);
  }

  /** Deletes every live object of a non-reconcilable kind whose `key` equals `value` (and what belongs to them); returns them. */
  async deleteWhere(kind: Kind, key: string, value: unknown, options: WriteOptions = {}): Promise<ApiObject[]> {
    const table = this.table(kind);
    const column = table.byKey.get(key);
    if (!column || kind.controller) throw new Error(`cannot bulk-delete ${kind.name} by ${key}`);
    const { deleted, dependents } = await this.#db.transaction(async (tx) => {
      const rows = await tx.query(
        `SELECT ${table.selectList} FROM ${kind.table} WHERE ${column.column} = $1 AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
        [table.toParam(column, value)],
      );
      const now = this.#now().toISOString();
      const deleted: ApiObject[] = [];
      for (const row of rows) {
        const existing = table.toObject(row);
        const object = { ...existing, UpdatedAt: now, Version: Number(existing.Version) + 1 };
        await softDeleteRow(tx, table, object, now, options.actor);
        deleted.push(object);
      }
      const dependents = await removeDependents(tx, this.registry, kind, deleted.map((object) => Number(object.ID)), now, options.actor);
      return { deleted, dependents };
    });
    for (const object of deleted) this.#remember(kind, object, true);
    this.#forgetRemoved(dependents);
    return deleted;
  }

  /**
   * Events attached to the object with `objectId` (IDs are unique across kinds), filtered on Event
   * fields, paginated. The original's join route, with the paging and total it lacked.
   */
  async eventsForObject(objectId: number, query: ListQuery): Promise<{ objects: ApiObject[]; total: number }> {
    const events = this.table(this.registry.get('Event'));
    const references = this.registry.get('AttachedObjectReference');
    const params: unknown[] = [objectId];
    const conditions = ['a.object_id = $1', 'a.deleted_at IS NULL', 'e.deleted_at IS NULL', ...filterConditions(events, query.filters, params, 'e.')];
    const from = `FROM ${events.kind.table} e JOIN ${references.table} a ON a.id = e.attached_object_reference_id WHERE ${conditions.join(' AND ')}`;
    const selectList = events.selectList.split(', ').map((column) => `e.${column}`).join(', ');
    const [rows, counted] = await Promise.all([
      this.#db.query(`SELECT ${selectList} ${from} ORDER BY e.id LIMIT ${query.size} OFFSET ${(query.page - 1) * query.size}`, params),
      this.#db.query<{ total: number }>(`SELECT count(*) AS total ${from}`, params),
    ]);
    return { objects: rows.map((row) => events.toObject(row)), total: Number(counted[0]?.total ?? 0) };
  }

  /** Records an Event on an object, or counts a repeat of it (see event-log.ts). */
  async recordEvent(record: EventRecord): Promise<{ event: ApiObject; created: boolean }> {
    const tables = { events: this.table(this.registry.get('Event')), references: this.table(this.registry.get('AttachedObjectReference')) };
    const [eventId, referenceId] = await this.#ids.reserve(2);
    return this.#db.transaction((tx) => recordEvent(tx, tables, record, [eventId!, referenceId!], this.#now().toISOString()));
  }

  /** Asks the object's controller to reconcile it, whatever its state; 404 when it does not exist. */
  async requestReconcile(kind: Kind, id: number, reason: string): Promise<void> {
    if (!kind.controller) throw new Error(`${kind.name} is not reconcilable`);
    const now = this.#now();
    const queued = await queueNotification(this.#db, this.table(kind), id, requestNotification(kind, id, reason, now), now.toISOString());
    if (!queued) throw notFound();
    this.#onOutboxWrite();
  }

  /** PATCH: merges `patch` (null clears an optional field) into the stored object. */
  async update(kind: Kind, id: number, patch: ApiObject, options: WriteOptions = {}): Promise<ApiObject> {
    const table = this.table(kind);
    // Only a PATCH of what a profile may set reads the object first (not a controller's status write).
    if (kind.profileSection && Object.keys(patch).some((key) => key === 'ProfileID' || profileMaySet(kind, key))) {
      // A new profile holds every value the object has; the same one, what the PATCH changes.
      const existing = await this.mustGet(kind, id);
      const newProfile = 'ProfileID' in patch && patch.ProfileID !== existing.ProfileID;
      await this.#withProfile(kind, newProfile ? { ...existing, ...patch } : patch, existing, false);
    }
    const updated = await this.#rewrite(kind, id, options, 'Updated', patch, (existing) => mergedObject(table, existing, patch));
    if (!options.dryRun) await this.#touchParent(kind, updated, options.actor);
    return updated;
  }

  /** PUT: the body replaces every field a client may write (see replacementPatch). */
  async replace(kind: Kind, id: number, body: ApiObject, options: WriteOptions = {}): Promise<ApiObject> {
    const table = this.table(kind);
    // A PUT names its profile itself (without one, it has none).
    if (kind.profileSection) body = await this.#withProfile(kind, body, undefined, true);
    const replaced = await this.#rewrite(kind, id, options, 'Replaced', body, (existing) => mergedObject(table, existing, replacementPatch(table, existing, body)));
    if (!options.dryRun) await this.#touchParent(kind, replaced, options.actor);
    return replaced;
  }

  /**
   * DELETE with the original's semantics, including the two-phase delete of reconcilable kinds
   * (§7.8). Objects others depend on are refused (409) at the first DELETE unless the object says
   * ForceDelete (its controller then removes them), and always at the last.
   */
  async delete(kind: Kind, id: number, options: WriteOptions = {}): Promise<DeleteResult> {
    const table = this.table(kind);
    const run = <T>(work: (tx: Queryable) => Promise<T>): Promise<T> => (options.dryRun ? this.#rolledBack(kind, work) : this.#translate(kind, () => this.#db.transaction(work)));
    const result = await run(async (tx) => {
      const [row] = await tx.query(`SELECT ${table.selectList} FROM ${kind.table} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
      if (!row) throw notFound();
      const existing = table.toObject(row);
      const version = Number(existing.Version);
      if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
        throw staleVersion(id, options.expectedVersion, version);
      }
      const now = this.#now().toISOString();
      if (deleteStep(kind, existing) === 'schedule') {
        if (existing.ForceDelete !== true) await refuseIfReferenced(tx, this.registry, kind, id, "; delete them first, or set ForceDelete and delete again");
        const scheduled = { ...existing, DeletionScheduled: now, Reconciled: false, UpdatedAt: now, Version: version + 1 };
        await updateRow(tx, table, scheduled, version, 'DeletionScheduled', now, writeNotification(kind, 'Deleted', scheduled, this.#now()), options.actor);
        return { object: scheduled, outcome: 'scheduled' as const, removed: [] };
      }
      await refuseIfReferenced(tx, this.registry, kind, id);
      const deleted = { ...existing, UpdatedAt: now, Version: version + 1 };
      await softDeleteRow(tx, table, deleted, now, options.actor);
      return { object: deleted, outcome: 'deleted' as const, removed: await removeDependents(tx, this.registry, kind, [id], now, options.actor) };
    });
    if (options.dryRun) return { object: result.object, outcome: result.outcome };
    if (result.outcome === 'scheduled') this.#onOutboxWrite();
    this.#remember(kind, result.object, result.outcome === 'deleted');
    this.#forgetRemoved(result.removed);
    await this.#touchParent(kind, result.object, options.actor);
    return { object: result.object, outcome: result.outcome };
  }

  /**
   * A nested child written on its own (a GatewayHttpPort edited, added or deleted through its own
   * path) changes its parent's desired state: the parent gets a new generation, and its controller
   * a notification. A second write, after the child's: should the process die in between, the
   * parent's controller sees the change at its next resync instead.
   */
  async #touchParent(kind: Kind, child: ApiObject, actor: string | undefined): Promise<void> {
    const owner = this.#nestedParents.get(kind.name);
    const parentId = owner && child[kind.jsonKey(owner.foreignKey)];
    if (!owner || typeof parentId !== 'number') return;
    await this.#rewrite(owner.parent, parentId, { ...(actor && { actor }) }, 'Updated', {}, (existing) => existing, true).catch((error: unknown) => {
      if (!(error instanceof ApiError && error.status === 404)) throw error; // the parent went first: nothing to tell
    });
  }

  async revisions(kind: Kind, id: number, page: number, size: number): Promise<{ revisions: Revision[]; total: number }> {
    const [rows, counted] = await Promise.all([
      this.#db.query<{ version: number; operation: RevisionOperation; recorded_at: Date; snapshot: ApiObject; actor: string | null }>(
        `SELECT version, operation, recorded_at, snapshot, actor FROM threeport_revisions WHERE object_id = $1 AND kind = $2
         ORDER BY version LIMIT ${size} OFFSET ${(page - 1) * size}`,
        [id, kind.name],
      ),
      this.#db.query<{ total: number }>('SELECT count(*) AS total FROM threeport_revisions WHERE object_id = $1 AND kind = $2', [id, kind.name]),
    ]);
    const total = Number(counted[0]?.total ?? 0);
    if (total === 0) throw notFound();
    return {
      total,
      revisions: rows.map((row) => ({
        Version: Number(row.version),
        Operation: row.operation,
        RecordedAt: new Date(row.recorded_at).toISOString(),
        ...(row.actor && { Actor: row.actor }),
        Object: row.snapshot,
      })),
    };
  }

  // ── writes ──────────────────────────────────────────────────────────────────────────────────

  /** A definition with a ProfileID: the profile's values filled in (`fill`) and its limits kept (definitionWithProfile). */
  async #withProfile(kind: Kind, input: ApiObject, existing: ApiObject | undefined, fill: boolean): Promise<ApiObject> {
    if (!kind.profileSection) return input;
    const profileId = input.ProfileID === undefined ? existing?.ProfileID : input.ProfileID;
    if (profileId === undefined || profileId === null) return input;
    // A missing profile is refused with the other references.
    const profile = await this.get(this.registry.get('Profile'), Number(profileId));
    if (!profile) return input;
    try {
      return definitionWithProfile(kind, input, profile, fill);
    } catch (error) {
      if (error instanceof ProfileViolation) throw badRequest(error.message);
      throw error;
    }
  }

  /** References a create leaves out that default to the object flagged for it (the default runtime). */
  async #withFlaggedDefaults(kind: Kind, input: ApiObject): Promise<ApiObject> {
    let completed = input;
    for (const [name, field] of Object.entries(kind.fields)) {
      if (field.kind !== 'scalar' || !field.defaultToFlagged || !field.references) continue;
      const key = kind.jsonKey(name);
      if (input[key] != null) continue;
      const target = this.registry.get(field.references);
      const flag = target.column(field.defaultToFlagged);
      const nameColumn = 'Name' in target.fields ? target.column('Name') : 'NULL';
      const scheduledColumn = 'DeletionScheduled' in target.fields ? target.column('DeletionScheduled') : 'NULL';
      const [row] = await this.#db.query<{ id: number; name: string | null; scheduled: unknown }>(
        `SELECT id, ${nameColumn} AS name, ${scheduledColumn} AS scheduled FROM ${target.table} WHERE ${flag} AND deleted_at IS NULL ORDER BY id LIMIT 1`,
      );
      if (!row) throw badRequest(`${key} is required: none was given and no ${humanize(target.name)} has ${field.defaultToFlagged} set`);
      // Its controller is taking it down: what is put on it now would be deleted with it, or keep it from going.
      if (row.scheduled != null) throw badRequest(`the default ${humanize(target.name)} ${row.name ?? `with ID ${row.id}`} is being deleted; name a ${key}`);
      completed = { ...completed, [key]: Number(row.id) };
    }
    return completed;
  }

  /** `ids`: reserved beforehand (see idsNeeded); this object takes the first, its children the next. */
  async #insert(kind: Kind, input: ApiObject, tx: Queryable | undefined, ids: number[], actor: string | undefined): Promise<{ object: ApiObject; notified: boolean }> {
    const table = this.table(kind);
    const initial = initialObject(kind, table, input);
    checkAndDerive(kind, table, initial, undefined);
    const { object, notify } = createdState(kind, initial);
    const stored = protectedObject(table, this.#cipher, object, undefined);
    const children = nestedChildren(kind, input);
    const id = ids.shift();
    if (id === undefined) throw new Error('not enough object IDs reserved');
    const now = this.#now().toISOString();
    const wire: ApiObject = { ID: id, CreatedAt: now, UpdatedAt: now, ...stored, Version: 1 };
    const entry = notify ? writeNotification(kind, 'Created', wire, this.#now()) : undefined;
    const references = changedReferences(this.registry, table, stored, undefined);

    const write = async (q: Queryable): Promise<void> => {
      for (const reference of references) await requireLive(q, this.table(reference.target), reference);
      await insertRow(q, table, wire, now, entry, actor);
      await this.#insertChildren(q, id, children, ids, actor);
    };
    if (tx) await write(tx);
    else if (children.length > 0) await this.#translate(kind, () => this.#db.transaction(write));
    else {
      // One statement: the references are checked and held in it (no transaction round trips).
      const written = await this.#translate(kind, () => insertRow(this.#db, table, wire, now, entry, actor, this.#guards(references)));
      if (!written) {
        await this.#refuseMissingReference(references);
        // Only a reference gone keeps a new row from being inserted, and a deleted object stays deleted.
        throw conflict('a referenced object was deleted while this object was written; retry', 'Contended');
      }
    }
    if (!tx) this.#remember(kind, wire);
    return { object: wire, notified: entry !== undefined };
  }

  async #insertChildren(q: Queryable, parentId: number, children: NestedChildren[], ids: number[], actor: string | undefined): Promise<void> {
    for (const { field, values } of children) {
      const childKind = this.registry.get(field.childKind);
      for (const child of values) await this.#insert(childKind, { ...child, [childKind.jsonKey(field.foreignKey)]: parentId }, q, ids, actor);
    }
  }

  async #rewrite(
    kind: Kind,
    id: number,
    options: WriteOptions,
    operation: 'Updated' | 'Replaced',
    request: ApiObject,
    change: (existing: ApiObject) => ApiObject,
    /** A nested child of it changed: a change of desired state even though its own fields did not. */
    childChanged = false,
  ): Promise<ApiObject> {
    const table = this.table(kind);
    const children = nestedChildren(kind, request);
    for (let attempt = 0; ; attempt++) {
      const existing = await this.mustGet(kind, id);
      const version = Number(existing.Version);
      if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
        throw staleVersion(id, options.expectedVersion, version);
      }
      const merged = change(existing);
      checkAndDerive(kind, table, merged, existing);
      const { object, notify } = rewrittenState(kind, table, this.#cipher, existing, merged, request, children.length > 0 || childChanged);
      const stored = protectedObject(table, this.#cipher, object, existing);
      const now = this.#now().toISOString();
      const wire: ApiObject = { ID: id, CreatedAt: existing.CreatedAt, UpdatedAt: now, ...stored, Version: version + 1 };
      const entry = notify ? writeNotification(kind, 'Updated', wire, this.#now()) : undefined;
      const references = changedReferences(this.registry, table, stored, existing);
      const childIds = await this.#ids.reserve(childIdsNeeded(this.registry, children));

      const write = async (q: Queryable): Promise<boolean> => {
        for (const reference of references) await requireLive(q, this.table(reference.target), reference);
        const written = await updateRow(q, table, wire, version, operation, now, entry, options.actor);
        if (written) await this.#insertChildren(q, id, children, childIds, options.actor);
        return written;
      };
      const written = options.dryRun
        ? await this.#rolledBack(kind, write)
        : await this.#translate(kind, () =>
            children.length > 0 ? this.#db.transaction(write) : updateRow(this.#db, table, wire, version, operation, now, entry, options.actor, this.#guards(references)),
          );
      // Nothing written: a reference is gone (a 400 naming it), or else the version moved on
      // (retried below, like an unguarded write).
      if (!written) await this.#refuseMissingReference(references);
      if (written) {
        if (options.dryRun) return wire;
        if (entry) this.#onOutboxWrite();
        this.#remember(kind, wire);
        return wire;
      }
      // Someone wrote in between: the client named no version, so merge onto the newer one.
      if (options.expectedVersion !== undefined) {
        const current = await this.mustGet(kind, id);
        throw staleVersion(id, options.expectedVersion, Number(current.Version));
      }
      if (attempt >= MAX_OPTIMISTIC_RETRIES) throw conflict(`object with ID ${id} is being changed concurrently; retry`, 'Contended');
    }
  }

  /** Runs `work` in a transaction that is rolled back whatever happens; returns what it returned (database errors as 4xx). */
  async #rolledBack<T>(kind: Kind, work: (tx: Queryable) => Promise<T>): Promise<T> {
    const rollback = new Error('dry run: rolled back');
    let result: { value: T } | undefined;
    try {
      await this.#translate(kind, () =>
        this.#db.transaction(async (tx) => {
          result = { value: await work(tx) };
          throw rollback;
        }),
      );
    } catch (error) {
      if (error !== rollback) throw error;
    }
    return result!.value;
  }

  #guards(references: readonly Reference[]): Guard[] {
    return references.map((reference) => ({ table: reference.target.table, id: reference.id }));
  }

  /** A guarded write wrote nothing: if a reference is gone, the 400 that names it; otherwise returns. */
  async #refuseMissingReference(references: readonly Reference[]): Promise<void> {
    for (const reference of references) await requireLive(this.#db, this.table(reference.target), reference, { lock: false });
  }

  /** Keeps what a committed read or write saw (no-op without a cache); `deleted` leaves a tombstone. */
  #remember(kind: Kind, object: ApiObject, deleted = false): void {
    this.#cache?.put(kind.name, Number(object.ID), Number(object.Version), deleted ? undefined : object);
  }

  #forgetRemoved(removed: readonly RemovedRow[]): void {
    for (const row of removed) this.#cache?.put(row.kind.name, row.id, row.version);
  }

  /** Maps database errors a user can cause to 4xx answers. */
  async #translate<T>(kind: Kind, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isDatabaseError(error) && error.code === UNIQUE_VIOLATION) {
        const constraint = error.constraint ?? '';
        if (constraint.endsWith('_name_live')) throw conflict('object with provided name already exists', 'NameTaken');
        const flag = kind.exclusiveFlags.find((field) => constraint.includes(`_${kind.column(field)}_exclusive`));
        if (flag) throw conflict(`another ${humanize(kind.name)} already has ${flag} set; set it to false there first`, 'AlreadyExists');
        const fields = kind.uniqueTogether.find((set) => constraint.includes(set.map((f) => kind.column(f)).join('_')));
        throw conflict(`a ${humanize(kind.name)} with the same ${fields ? fields.join(', ') : 'values'} already exists`, 'AlreadyExists');
      }
      throw error;
    }
  }
}

export type { Notification };
