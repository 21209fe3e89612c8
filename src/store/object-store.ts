import { badRequest, conflict, notFound, staleVersion } from '../errors.ts';
import type { NestedField } from '../model/fields.ts';
import { API_VERSION, type ApiObject, type Kind } from '../model/kind.ts';
import type { Registry } from '../model/registry.ts';
import { type Database, type Queryable, isDatabaseError, UNIQUE_VIOLATION } from './database.ts';
import { FieldCipher, REDACTED_PLACEHOLDER } from '../crypto/field-cipher.ts';
import { IdAllocator } from './id-allocator.ts';
import { kindTable, type Column, type KindTable } from './kind-table.ts';
import { ObjectCache } from './object-cache.ts';

/** What happened to an object, as recorded in its revision history. */
export type RevisionOperation = 'Created' | 'Updated' | 'Replaced' | 'DeletionScheduled' | 'Deleted';
/** The original's notification operations. */
export type NotificationOperation = 'Created' | 'Updated' | 'Deleted';

const subjectSuffix: Record<NotificationOperation, string> = { Created: 'create', Updated: 'update', Deleted: 'delete' };

export interface Revision {
  Version: number;
  Operation: RevisionOperation;
  RecordedAt: string;
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
}

export interface DeleteResult {
  object: ApiObject;
  /** `scheduled`: a controller must clean up first (two-phase delete); `deleted`: gone. */
  outcome: 'scheduled' | 'deleted';
}

interface OutboxEntry {
  subject: string;
  messageId: string;
  payload: string;
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

const humanize = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/**
 * Generic persistence for every kind: validation rules the model declares, encryption of marked
 * fields, optimistic concurrency, two-phase delete, and — in the same atomic statement as each
 * change — its immutable revision and, for reconcilable kinds, its notification in the outbox.
 */
export class ObjectStore {
  readonly registry: Registry;
  readonly #db: Database;
  readonly #cipher: FieldCipher;
  readonly #ids: IdAllocator;
  readonly #tables = new Map<string, KindTable>();
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
    for (const kind of options.registry.kinds) this.#tables.set(kind.name, kindTable(kind));
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

  /** Keeps what a committed read or write saw (no-op without a cache); `deleted` leaves a tombstone. */
  #remember(kind: Kind, object: ApiObject, deleted = false): void {
    this.#cache?.put(kind.name, Number(object.ID), Number(object.Version), deleted ? undefined : object);
  }

  async mustGet(kind: Kind, id: number): Promise<ApiObject> {
    const object = await this.get(kind, id);
    if (!object) throw notFound();
    return object;
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

  async create(kind: Kind, input: ApiObject): Promise<ApiObject> {
    const created = await this.#insert(kind, input, undefined, await this.#ids.reserve(this.#idsNeeded(kind, input)));
    if (created.notified) this.#onOutboxWrite();
    return created.object;
  }

  /** Creates every object or none (the original's batch was not atomic). */
  async createAll(kind: Kind, inputs: readonly ApiObject[]): Promise<ApiObject[]> {
    const ids = await this.#ids.reserve(inputs.reduce((sum, input) => sum + this.#idsNeeded(kind, input), 0));
    const results = await this.#translate(kind, () =>
      this.#db.transaction(async (tx) => {
        const created = [];
        for (const input of inputs) created.push(await this.#insert(kind, input, tx, ids));
        return created;
      }),
    );
    if (results.some((result) => result.notified)) this.#onOutboxWrite();
    return results.map((result) => result.object);
  }

  /** Deletes every live object of a non-reconcilable kind whose `key` equals `value`; returns them. */
  async deleteWhere(kind: Kind, key: string, value: unknown): Promise<ApiObject[]> {
    const table = this.table(kind);
    const column = table.byKey.get(key);
    if (!column || kind.controller) throw new Error(`cannot bulk-delete ${kind.name} by ${key}`);
    const deleted = await this.#db.transaction(async (tx) => {
      const rows = await tx.query(
        `SELECT ${table.selectList} FROM ${kind.table} WHERE ${column.column} = $1 AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
        [table.toParam(column, value)],
      );
      const now = this.#now().toISOString();
      const deleted: ApiObject[] = [];
      for (const row of rows) {
        const existing = table.toObject(row);
        const object = { ...existing, UpdatedAt: now, Version: Number(existing.Version) + 1 };
        await this.#softDelete(tx, kind, object, now);
        deleted.push(object);
      }
      return deleted;
    });
    for (const object of deleted) this.#remember(kind, object, true);
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

  /** PATCH: merges `patch` (null clears an optional field) into the stored object. */
  async update(kind: Kind, id: number, patch: ApiObject, options: WriteOptions = {}): Promise<ApiObject> {
    return this.#rewrite(kind, id, options, 'Updated', (existing) => this.#merge(kind, existing, patch));
  }

  /**
   * PUT: the body replaces every field a client may write. Omitted fields return to their default
   * (or empty); reconciliation state is kept unless sent, so a replace can't undo a scheduled delete.
   */
  async replace(kind: Kind, id: number, body: ApiObject, options: WriteOptions = {}): Promise<ApiObject> {
    return this.#rewrite(kind, id, options, 'Replaced', (existing) => {
      const table = this.table(kind);
      const replacement: ApiObject = {};
      for (const column of table.columns) {
        const keepState = column.field in reconciliationState && !(column.key in body);
        replacement[column.key] = keepState ? existing[column.key] : (body[column.key] ?? column.spec.default ?? null);
      }
      for (const [key, value] of Object.entries(body)) if (!(key in replacement)) replacement[key] = value;
      return this.#merge(kind, existing, replacement);
    });
  }

  /** DELETE with the original's semantics, including the two-phase delete of reconcilable kinds (§7.8). */
  async delete(kind: Kind, id: number, options: WriteOptions = {}): Promise<DeleteResult> {
    const table = this.table(kind);
    const result = await this.#translate(kind, () =>
      this.#db.transaction(async (tx) => {
        const [row] = await tx.query(`SELECT ${table.selectList} FROM ${kind.table} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
        if (!row) throw notFound();
        const existing = table.toObject(row);
        const version = Number(existing.Version);
        if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
          throw staleVersion(id, options.expectedVersion, version);
        }
        const now = this.#now().toISOString();
        if (kind.controller && existing.DeletionScheduled === undefined) {
          await this.#refuseIfReferenced(tx, kind, id);
          const scheduled = { ...existing, DeletionScheduled: now, Reconciled: false, UpdatedAt: now, Version: version + 1 };
          const entry = this.#outboxEntry(kind, 'Deleted', scheduled);
          await this.#writeUpdate(tx, table, scheduled, version, 'DeletionScheduled', now, entry);
          return { object: scheduled, outcome: 'scheduled' as const, notified: true };
        }
        if (kind.controller && existing.DeletionConfirmed === undefined) {
          throw conflict(`object with ID ${id} already being deleted`);
        }
        await this.#refuseIfReferenced(tx, kind, id);
        const deleted = { ...existing, UpdatedAt: now, Version: version + 1 };
        await this.#softDelete(tx, kind, deleted, now);
        return { object: deleted, outcome: 'deleted' as const, notified: false };
      }),
    );
    if (result.notified) this.#onOutboxWrite();
    this.#remember(kind, result.object, result.outcome === 'deleted');
    return { object: result.object, outcome: result.outcome };
  }

  async revisions(kind: Kind, id: number, page: number, size: number): Promise<{ revisions: Revision[]; total: number }> {
    const [rows, counted] = await Promise.all([
      this.#db.query<{ version: number; operation: RevisionOperation; recorded_at: Date; snapshot: ApiObject }>(
        `SELECT version, operation, recorded_at, snapshot FROM threeport_revisions WHERE object_id = $1 AND kind = $2
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
        Object: row.snapshot,
      })),
    };
  }

  // ── writes ──────────────────────────────────────────────────────────────────────────────────

  /** `ids`: reserved beforehand (see #idsNeeded); this object takes the first, its children the next. */
  async #insert(kind: Kind, input: ApiObject, tx: Queryable | undefined, ids: number[]): Promise<{ object: ApiObject; notified: boolean }> {
    const table = this.table(kind);
    const object: ApiObject = {};
    for (const column of table.columns) {
      const value = input[column.key] ?? column.spec.default;
      if (value !== undefined && value !== null) object[column.key] = value;
    }
    kind.rules.onCreate?.(object);
    this.#checkRules(kind, object, undefined);

    const transient = this.#transientValues(kind, input);
    const stored = this.#protect(table, object, undefined);
    const children = this.#nestedChildren(kind, input);
    const id = ids.shift();
    if (id === undefined) throw new Error('not enough object IDs reserved');
    const now = this.#now().toISOString();
    const wire: ApiObject = { ID: id, CreatedAt: now, UpdatedAt: now, ...stored, Version: 1 };
    const entry = kind.controller && wire.Reconciled !== true ? this.#outboxEntry(kind, 'Created', { ...wire, ...transient }) : undefined;
    const references = this.#references(table, stored, undefined);

    const write = async (q: Queryable): Promise<void> => {
      for (const reference of references) await this.#requireLive(q, reference);
      await this.#writeInsert(q, table, wire, now, entry);
      await this.#insertChildren(q, id, children, ids);
    };
    if (tx) await write(tx);
    else if (references.length > 0 || children.length > 0) await this.#translate(kind, () => this.#db.transaction(write));
    else await this.#translate(kind, () => write(this.#db));
    return { object: { ...wire, ...transient }, notified: entry !== undefined };
  }

  /** IDs an insert of `input` takes: its own and those of its nested children, recursively. */
  #idsNeeded(kind: Kind, input: ApiObject): number {
    return 1 + this.#childIdsNeeded(this.#nestedChildren(kind, input));
  }

  #childIdsNeeded(children: { field: NestedField; values: ApiObject[] }[]): number {
    let count = 0;
    for (const { field, values } of children) {
      const childKind = this.registry.get(field.childKind);
      for (const child of values) count += this.#idsNeeded(childKind, child);
    }
    return count;
  }

  async #insertChildren(q: Queryable, parentId: number, children: { field: NestedField; values: ApiObject[] }[], ids: number[]): Promise<void> {
    for (const { field, values } of children) {
      const childKind = this.registry.get(field.childKind);
      for (const child of values) await this.#insert(childKind, { ...child, [childKind.jsonKey(field.foreignKey)]: parentId }, q, ids);
    }
  }

  async #rewrite(
    kind: Kind,
    id: number,
    options: WriteOptions,
    operation: 'Updated' | 'Replaced',
    change: (existing: ApiObject) => { merged: ApiObject; transient: ApiObject; children: { field: NestedField; values: ApiObject[] }[] },
  ): Promise<ApiObject> {
    const table = this.table(kind);
    for (let attempt = 0; ; attempt++) {
      const existing = await this.mustGet(kind, id);
      const version = Number(existing.Version);
      if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
        throw staleVersion(id, options.expectedVersion, version);
      }
      const { merged, transient, children } = change(existing);
      this.#checkRules(kind, merged, existing);
      const stored = this.#protect(table, merged, existing);
      const now = this.#now().toISOString();
      const wire: ApiObject = { ID: id, CreatedAt: existing.CreatedAt, UpdatedAt: now, ...stored, Version: version + 1 };
      const entry = kind.controller && wire.Reconciled !== true ? this.#outboxEntry(kind, 'Updated', { ...wire, ...transient }) : undefined;
      const references = this.#references(table, stored, existing);
      const childIds = await this.#ids.reserve(this.#childIdsNeeded(children));

      const write = async (q: Queryable): Promise<boolean> => {
        for (const reference of references) await this.#requireLive(q, reference);
        const written = await this.#writeUpdate(q, table, wire, version, operation, now, entry);
        if (written) await this.#insertChildren(q, id, children, childIds);
        return written;
      };
      const needsTransaction = references.length > 0 || children.length > 0;
      const written = await this.#translate(kind, () => (needsTransaction ? this.#db.transaction(write) : write(this.#db)));
      if (written) {
        if (entry) this.#onOutboxWrite();
        this.#remember(kind, wire);
        return { ...wire, ...transient };
      }
      // Someone wrote in between: the client named no version, so merge onto the newer one.
      if (options.expectedVersion !== undefined) {
        const current = await this.mustGet(kind, id);
        throw staleVersion(id, options.expectedVersion, Number(current.Version));
      }
      if (attempt >= MAX_OPTIMISTIC_RETRIES) throw conflict(`object with ID ${id} is being changed concurrently; retry`);
    }
  }

  #merge(kind: Kind, existing: ApiObject, patch: ApiObject) {
    const table = this.table(kind);
    const merged: ApiObject = {};
    for (const column of table.columns) {
      const value = column.key in patch ? patch[column.key] : existing[column.key];
      if (value === null || value === undefined) {
        if (column.spec.required) throw badRequest(`${column.key} is required and cannot be cleared`);
        continue;
      }
      if (column.spec.immutable && existing[column.key] !== undefined && value !== existing[column.key]) {
        throw badRequest(`${column.key} cannot be changed once set (was "${String(existing[column.key])}")`);
      }
      merged[column.key] = value;
    }
    return { merged, transient: this.#transientValues(kind, patch), children: this.#nestedChildren(kind, patch) };
  }

  async #writeInsert(q: Queryable, table: KindTable, wire: ApiObject, now: string, entry: OutboxEntry | undefined): Promise<void> {
    const params = [wire.ID, now, table.kind.name, JSON.stringify(wire), ...table.columns.map((c) => table.toParam(c, wire[c.key]))];
    if (entry) params.push(entry.subject, entry.messageId, entry.payload);
    await q.query(table.statements.insert[entry ? 'notify' : 'plain'], params, true);
  }

  /** Marks the row deleted (soft delete, as the original) and records the final revision. */
  async #softDelete(q: Queryable, kind: Kind, deleted: ApiObject, now: string): Promise<void> {
    await q.query(this.table(kind).statements.softDelete, [deleted.ID, deleted.Version, now, kind.name, JSON.stringify(deleted)], true);
  }

  /** Writes `wire` over the stored row if it is still at `version`; false when it moved on. */
  async #writeUpdate(
    q: Queryable,
    table: KindTable,
    wire: ApiObject,
    version: number,
    operation: RevisionOperation,
    now: string,
    entry: OutboxEntry | undefined,
  ): Promise<boolean> {
    const params = [wire.ID, version, version + 1, now, table.kind.name, operation, JSON.stringify(wire), ...table.columns.map((c) => table.toParam(c, wire[c.key]))];
    if (entry) params.push(entry.subject, entry.messageId, entry.payload);
    const rows = await q.query(table.statements.update[entry ? 'notify' : 'plain'], params, true);
    return rows.length === 1;
  }

  // ── rules, protection, references ──────────────────────────────────────────────────────────

  #checkRules(kind: Kind, object: ApiObject, previous: ApiObject | undefined): void {
    const table = this.table(kind);
    for (const column of table.columns) {
      const allowed = column.spec.oneOf;
      const value = object[column.key];
      if (allowed && value !== undefined && !allowed.includes(String(value))) {
        throw badRequest(`${column.key} "${String(value)}" is not supported; valid values: ${allowed.join(', ')}`);
      }
    }
    const message = kind.rules.validate?.(object, previous);
    if (message) throw badRequest(message);
  }

  /** Encrypts changed encrypted fields; an unchanged ciphertext or the redaction placeholder keeps the stored value. */
  #protect(table: KindTable, object: ApiObject, existing: ApiObject | undefined): ApiObject {
    const stored: ApiObject = {};
    for (const column of table.columns) {
      let value = object[column.key];
      if (value === undefined) continue;
      if (column.spec.encrypted) {
        const previous = existing?.[column.key];
        if (value === REDACTED_PLACEHOLDER) {
          if (previous === undefined) throw badRequest(`${column.key} holds the redaction placeholder; send the real value`);
          value = previous;
        } else if (value !== previous) {
          value = this.#cipher.encryptValue(value);
        }
      }
      stored[column.key] = value;
    }
    return stored;
  }

  /** Transient fields (SecretDefinition.Data): encrypted, handed to controllers, never stored. */
  #transientValues(kind: Kind, input: ApiObject): ApiObject {
    const values: ApiObject = {};
    for (const [name, field] of Object.entries(kind.fields)) {
      const key = kind.jsonKey(name);
      if (field.kind !== 'scalar' || !field.transient || input[key] == null) continue;
      values[key] = field.encrypted ? this.#cipher.encryptValue(input[key]) : input[key];
    }
    return values;
  }

  #nestedChildren(kind: Kind, input: ApiObject): { field: NestedField; values: ApiObject[] }[] {
    const found: { field: NestedField; values: ApiObject[] }[] = [];
    for (const [name, field] of Object.entries(kind.fields)) {
      const values = input[kind.jsonKey(name)];
      if (field.kind === 'nested' && Array.isArray(values) && values.length > 0) found.push({ field, values: values as ApiObject[] });
    }
    return found;
  }

  /** Reference fields whose value is new or changed, so the target must be checked. */
  #references(table: KindTable, stored: ApiObject, existing: ApiObject | undefined): { column: Column; target: Kind; id: number }[] {
    const found: { column: Column; target: Kind; id: number }[] = [];
    for (const column of table.columns) {
      const targetName = column.spec.references;
      const value = stored[column.key];
      if (!targetName || value === undefined || value === existing?.[column.key]) continue;
      found.push({ column, target: this.registry.get(targetName), id: Number(value) });
    }
    return found;
  }

  /** The referenced object must exist; FOR SHARE holds off its deletion until this write commits. */
  async #requireLive(q: Queryable, reference: { column: Column; target: Kind; id: number }): Promise<void> {
    const rows = await q.query(this.table(reference.target).statements.lockLive, [reference.id], true);
    if (rows.length === 0) {
      throw badRequest(`${reference.column.key}: ${humanize(reference.target.name)} with ID ${reference.id} does not exist`);
    }
  }

  async #refuseIfReferenced(tx: Queryable, kind: Kind, id: number): Promise<void> {
    for (const { kind: child, field } of this.registry.blockingReferencesTo(kind)) {
      const rows = await tx.query(`SELECT 1 FROM ${child.table} WHERE ${child.column(field)} = $1 AND deleted_at IS NULL LIMIT 1`, [id]);
      if (rows.length > 0) throw conflict(`${humanize(kind.name)} has related ${humanize(child.name)}s - cannot be deleted`);
    }
  }

  #outboxEntry(kind: Kind, operation: NotificationOperation, object: ApiObject): OutboxEntry {
    const payload = JSON.stringify({
      Operation: operation,
      CreationTime: Math.floor(this.#now().getTime() / 1000),
      Object: object,
      ObjectVersion: API_VERSION,
    });
    return {
      subject: `${kind.subjectPrefix}.${subjectSuffix[operation]}`,
      // The same write re-published after a crash is dropped by JetStream's duplicate window.
      messageId: `${kind.name}.${String(object.ID)}.${String(object.Version)}`,
      payload,
    };
  }

  /** Maps database errors a user can cause to 4xx answers. */
  async #translate<T>(kind: Kind, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isDatabaseError(error) && error.code === UNIQUE_VIOLATION) {
        if (error.constraint?.endsWith('_name_live')) throw conflict('object with provided name already exists');
        const fields = kind.uniqueTogether.find((set) => error.constraint?.includes(set.map((f) => kind.column(f)).join('_')));
        throw conflict(`a ${humanize(kind.name)} with the same ${fields ? fields.join(', ') : 'values'} already exists`);
      }
      throw error;
    }
  }
}

/** Reconciliation state a PUT keeps unless the body sets it. */
const reconciliationState: Record<string, true> = {
  Reconciled: true,
  CreationAcknowledged: true,
  CreationConfirmed: true,
  CreationFailed: true,
  DeletionScheduled: true,
  DeletionAcknowledged: true,
  DeletionConfirmed: true,
  InterruptReconciliation: true,
};
