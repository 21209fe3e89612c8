/**
 * Who is calling: the holder of a client certificate this control plane issued and still records,
 * or the bearer of a token it knows, with the roles bound to them. Lookups are remembered for a few
 * seconds (a revocation reaches every API replica within that time; this replica forgets at once
 * when it writes users, certificates, bindings or tokens itself).
 */
import { createHash, randomBytes } from 'node:crypto';
import { unauthenticated } from '../errors.ts';
import type { ApiObject } from '../model/kind.ts';
import { namesIn } from '../model/kinds/access.ts';
import { isRoleName, type RoleName } from '../model/roles.ts';
import type { ObjectStore } from '../store/object-store.ts';

export interface Identity {
  /** `user:alice`, `token:ci`, `controllers`, `anonymous`: what revisions record as the writer. */
  name: string;
  roles: readonly RoleName[];
  /** Roles given only for some runtimes: the names of those runtimes (RoleBinding.Runtimes). */
  runtimeScopes?: Partial<Record<RoleName, readonly string[]>>;
  /** The user's name, for their own certificate requests. */
  user?: string;
}

/** Members of this group are admins without a binding (the first user, made by `tptctl up`). */
export const ADMINS_GROUP = 'threeport:admins';

/** Every caller when auth is off. */
export const ANONYMOUS_ADMIN: Identity = { name: 'anonymous', roles: ['admin'] };

const TOKEN_PREFIX = 'tpt_';

/** A new bearer token and the hash the API keeps of it. */
export function newToken(): { token: string; hash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: tokenHash(token) };
}

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** What newToken makes; anything else is refused without a lookup. */
const TOKEN_FORMAT = new RegExp(`^${TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`);

const CACHE_MS = 5_000;
/** Lookups remembered at most; the oldest go first. */
const CACHE_ENTRIES = 10_000;

interface Remembered {
  identity: Identity | string;
  until: number;
}

export class IdentityResolver {
  readonly #store: ObjectStore;
  readonly #known = new Map<string, Remembered>();
  readonly #internal = new Map<string, Identity>();
  #bindings: { objects: ApiObject[]; until: number } | undefined;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  /** A token for a process of this control plane (the all-in-one's controllers), never stored. */
  internalToken(identity: Identity): string {
    const { token, hash } = newToken();
    this.#internal.set(hash, identity);
    return token;
  }

  /** Forgets what was looked up: users, certificates, bindings or tokens were written. */
  forget(): void {
    this.#known.clear();
    this.#bindings = undefined;
  }

  async fromCertificate(serialNumber: string): Promise<Identity> {
    return this.#remembered(`certificate:${serialNumber}`, async () => {
      const [certificate] = (await this.#store.list(this.#store.registry.get('UserCertificate'), { filters: new Map([['SerialNumber', serialNumber]]), page: 1, size: 1 })).objects;
      if (!certificate) return 'this client certificate was revoked (or issued to a user who was removed): ask an admin for a new one';
      if (Date.parse(String(certificate.NotAfter)) <= Date.now()) return 'this client certificate has expired: run tptctl credentials rotate, or ask an admin for a new one';
      const user = await this.#store.get(this.#store.registry.get('User'), Number(certificate.UserID));
      if (!user) return 'the user of this client certificate was removed';
      const name = String(user.Name);
      const groups = namesIn(user.Groups);
      const { roles, runtimeScopes } = await this.#rolesOf([`user:${name}`, ...groups.map((group) => `group:${group}`)]);
      if (groups.includes(ADMINS_GROUP) && !roles.includes('admin')) roles.push('admin');
      return { name: `user:${name}`, roles, user: name, ...(Object.keys(runtimeScopes).length > 0 && { runtimeScopes }) };
    });
  }

  async fromToken(token: string): Promise<Identity> {
    if (!TOKEN_FORMAT.test(token)) throw unauthenticated('the bearer token is not a threeport token (tpt_…, from tptctl token create)');
    const hash = tokenHash(token);
    const internal = this.#internal.get(hash);
    if (internal) return internal;
    return this.#remembered(`token:${hash}`, async () => {
      const [stored] = (await this.#store.list(this.#store.registry.get('ApiToken'), { filters: new Map([['TokenHash', hash]]), page: 1, size: 1 })).objects;
      if (!stored) return 'the bearer token is not known to this control plane (revoked, or made for another)';
      if (Date.parse(String(stored.ExpiresAt)) <= Date.now()) return `the bearer token ${String(stored.Name)} has expired: create a new one with tptctl token create`;
      const role = String(stored.Role);
      if (!isRoleName(role)) return { name: `token:${String(stored.Name)}`, roles: [] };
      const runtimes = namesIn(stored.Runtimes);
      return { name: `token:${String(stored.Name)}`, roles: [role], ...(runtimes.length > 0 && { runtimeScopes: { [role]: runtimes } }) };
    });
  }

  async #remembered(key: string, look: () => Promise<Identity | string>): Promise<Identity> {
    let entry = this.#known.get(key);
    if (!entry || entry.until < Date.now()) {
      entry = { identity: await look(), until: Date.now() + CACHE_MS };
      this.#known.delete(key);
      if (this.#known.size >= CACHE_ENTRIES) this.#known.delete(this.#known.keys().next().value!);
      this.#known.set(key, entry);
    }
    if (typeof entry.identity === 'string') throw unauthenticated(entry.identity);
    return entry.identity;
  }

  /** The roles bound to any of `subjects`; a role bound only with Runtimes is limited to those runtimes. */
  async #rolesOf(subjects: readonly string[]): Promise<{ roles: RoleName[]; runtimeScopes: Partial<Record<RoleName, string[]>> }> {
    if (!this.#bindings || this.#bindings.until < Date.now()) {
      const kind = this.#store.registry.get('RoleBinding');
      const objects: ApiObject[] = [];
      for (let page = 1; ; page++) {
        const { objects: batch, total } = await this.#store.list(kind, { filters: new Map(), page, size: 1000 });
        objects.push(...batch);
        if (objects.length >= total || batch.length === 0) break;
      }
      this.#bindings = { objects, until: Date.now() + CACHE_MS };
    }
    const everywhere = new Set<RoleName>();
    const scoped = new Map<RoleName, Set<string>>();
    for (const binding of this.#bindings.objects) {
      const role = String(binding.Role);
      if (!subjects.includes(String(binding.Subject)) || !isRoleName(role)) continue;
      const runtimes = namesIn(binding.Runtimes);
      if (runtimes.length === 0) everywhere.add(role);
      else scoped.set(role, new Set([...(scoped.get(role) ?? []), ...runtimes]));
    }
    const runtimeScopes: Partial<Record<RoleName, string[]>> = {};
    for (const [role, runtimes] of scoped) if (!everywhere.has(role)) runtimeScopes[role] = [...runtimes];
    return { roles: [...new Set([...everywhere, ...scoped.keys()])], runtimeScopes };
  }
}
