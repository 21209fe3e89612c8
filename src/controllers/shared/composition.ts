/**
 * Objects an observability object is made of (a stack's metrics, logging and dashboards; each of
 * those's Helm workloads): made and kept as they should be, their IDs recorded in the parent's
 * link fields, and removed when no longer wanted or when the parent goes. A child is found by its
 * recorded link; its name matters only when it is made, so renaming the parent moves nothing. One
 * made just before a crash (not linked yet) is found by name — and taken only if it was made
 * after the parent, so an object someone else made under that name is never adopted or removed.
 */
import { isDeepStrictEqual } from 'node:util';
import { isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import type { ApiObject } from '../../model/kind.ts';
import { suffixedName } from './kubernetes-helpers.ts';

export interface Child {
  kind: string;
  /** The parent's field that holds the child's ID. */
  link: string;
  /** The name it is made with. */
  name: string;
  /** The child as it should be (its Name aside). */
  fields: ApiObject;
}

/** A child that should not exist (a stack's logging, turned off). */
export type Unwanted = Pick<Child, 'kind' | 'link' | 'name'>;

type Parent = ApiObject & { ID: number; CreatedAt?: string };

const describeChild = (child: { kind: string; name: string }, object?: ApiObject): string => `${child.kind} ${String(object?.Name ?? child.name)}${object?.Status ? ` (${String(object.Status)})` : ''}`;

/**
 * The parent's child: by its link, else (made before a crash let it be linked) by name if it was
 * made after the parent. An older one of that name is someone else's: refused when the child is to
 * be made (`forMaking`), left alone (as absent) when it is to be removed.
 */
async function find<T extends Parent>(context: ReconcileContext<T>, child: Unwanted, forMaking: boolean): Promise<ApiObject | undefined> {
  const kind = context.client.kind(child.kind);
  const id = context.object[child.link];
  if (typeof id === 'number') {
    const linked = await kind.get(id).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (linked) return linked;
  }
  const named = await kind.findByName(child.name);
  if (!named || Date.parse(String(named.CreatedAt)) >= Date.parse(String(context.object.CreatedAt))) return named;
  if (!forMaking) return undefined;
  throw new TerminalError(`a ${child.kind} named ${child.name} exists already and was not made for this ${context.kind.name}: rename or remove it`);
}

const differs = (object: ApiObject, fields: ApiObject): boolean => Object.entries(fields).some(([key, value]) => !isDeepStrictEqual(object[key] ?? null, value ?? null));

/**
 * Makes each wanted child as it should be and removes the unwanted ones; records the links.
 * Resolves with what is still pending: children not yet reconciled at their generation, or still
 * being removed.
 */
export async function ensureChildren<T extends Parent>(context: ReconcileContext<T>, wanted: readonly Child[], unwanted: readonly Unwanted[] = []): Promise<string[]> {
  const pending: string[] = [];
  const links: ApiObject = {};
  for (const child of wanted) {
    const kind = context.client.kind(child.kind);
    const found = await find(context, child, true);
    // A field sent as null is one the child leaves to its default: not sent when it is made.
    let object = found ?? (await kind.create({ Name: child.name, ...Object.fromEntries(Object.entries(child.fields).filter(([, value]) => value !== null)) }));
    if (found && differs(found, child.fields)) object = await kind.update(Number(found.ID), child.fields, { version: Number(found.Version) });
    links[child.link] = object.ID;
    if (object.DeletionScheduled) pending.push(`${describeChild(child, object)} is being removed; it is made again after`);
    else if (object.Reconciled !== true || object.ObservedGeneration !== object.Generation) pending.push(describeChild(child, object));
  }
  for (const child of unwanted) {
    const object = await find(context, child, false);
    if (object) {
      if (!object.DeletionScheduled) await context.client.kind(child.kind).delete(Number(object.ID)).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
      pending.push(`${describeChild(child, object)} is being removed`);
    } else if (context.object[child.link] != null) links[child.link] = null;
  }
  await context.update((current) => (Object.entries(links).every(([link, id]) => (current[link] ?? null) === id) ? undefined : (links as Partial<T>)));
  return pending;
}

/** Removes every child; resolves with a waiting outcome until they are all gone. */
export async function removeChildren<T extends Parent>(context: ReconcileContext<T>, children: readonly Unwanted[]): Promise<ReconcileOutcome> {
  const pending = await ensureChildren(context, [], children);
  return pending.length > 0 ? { waiting: pending.join('; ') } : undefined;
}

/** What a parent waits for, said once. */
export const waitingFor = (pending: readonly string[], pollMs: number): ReconcileOutcome => (pending.length > 0 ? { waiting: `waiting for ${pending.join('; ')}`, requeueAfterMs: pollMs } : undefined);

/** `<parent>-<suffix>`, a valid Helm release and object name (at most 53 characters). */
export const childName = (parent: string, suffix: string): string => suffixedName(parent, suffix, 53);
