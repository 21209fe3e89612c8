/**
 * Objects an observability object is made of (a stack's metrics, logging and dashboards; each of
 * those's Helm workloads): made and kept as they should be, by name, their IDs recorded in the
 * parent's link fields, and removed when no longer wanted or when the parent goes. A child is
 * found by its recorded ID or by its name, so one made just before a crash is never orphaned.
 */
import { createHash } from 'node:crypto';
import { isNotFound } from '../../client/api-client.ts';
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import type { ApiObject } from '../../model/kind.ts';

export interface Child {
  kind: string;
  /** The parent's field that holds the child's ID. */
  link: string;
  name: string;
  /** The child as it should be (its Name aside). */
  fields: ApiObject;
}

/** A child that should not exist (a stack's logging, turned off). */
export type Unwanted = Pick<Child, 'kind' | 'link' | 'name'>;

type Parent = ApiObject & { ID: number; Name?: unknown };

const describeChild = (child: { kind: string; name: string }, object?: ApiObject): string => `${child.kind} ${child.name}${object?.Status ? ` (${String(object.Status)})` : ''}`;

async function find<T extends Parent>(context: ReconcileContext<T>, child: Unwanted): Promise<ApiObject | undefined> {
  const kind = context.client.kind(child.kind);
  const id = context.object[child.link];
  if (typeof id === 'number') {
    const linked = await kind.get(id).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (linked) return linked;
  }
  return kind.findByName(child.name);
}

/**
 * Makes each wanted child as it should be and removes the unwanted ones; records the links.
 * Resolves with what is still pending: children not yet reconciled at their generation, or still
 * being removed.
 */
export async function ensureChildren<T extends Parent>(context: ReconcileContext<T>, wanted: readonly Child[], unwanted: readonly Unwanted[] = []): Promise<string[]> {
  const pending: string[] = [];
  const links: ApiObject = {};
  for (const child of wanted) {
    const { object } = await context.client.kind(child.kind).apply({ name: child.name }, { Name: child.name, ...child.fields });
    links[child.link] = object.ID;
    if (object.DeletionScheduled) pending.push(`${describeChild(child)} is being removed; it is made again after`);
    else if (object.Reconciled !== true || object.ObservedGeneration !== object.Generation) pending.push(describeChild(child, object));
  }
  for (const child of unwanted) {
    const object = await find(context, child);
    if (object) {
      if (!object.DeletionScheduled) await context.client.kind(child.kind).delete(Number(object.ID)).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
      pending.push(`${describeChild(child)} is being removed`);
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

/** `<parent>-<suffix>`, a valid Helm release and object name (at most 53 characters; shortened with a digest when longer). */
export function childName(parent: string, suffix: string): string {
  const name = `${parent}-${suffix}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (name.length <= 53) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 53 - suffix.length - 10).replace(/-+$/, '')}-${digest}-${suffix}`;
}
