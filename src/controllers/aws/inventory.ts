/**
 * The ResourceInventory of an object threeport builds in AWS: what its stack made so far (each
 * resource recorded as soon as it exists, so a crash, a retry or another replica resumes without
 * making anything twice), plus what the object decided once and must keep (its zones, its names).
 */
import type { ReconcileContext } from '../../controller/reconciler.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { Inventory, MadeResource, StackProgress, StackStep } from '../../platform/aws/index.ts';

export interface ResourceInventory {
  /** Resources made, by stack step. */
  Resources: Record<string, MadeResource>;
  [decision: string]: unknown;
}

export function inventoryOf(object: ApiObject): ResourceInventory {
  const value = object.ResourceInventory;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { Resources: {} };
  const inventory = value as Partial<ResourceInventory>;
  return { ...inventory, Resources: { ...(inventory.Resources ?? {}) } };
}

export const resourcesOf = (object: ApiObject): Inventory => inventoryOf(object).Resources;

/** Writes one resource (or its removal) into the object's inventory, merged with whatever is there now. */
export function recordingProgress(context: ReconcileContext, what: string): StackProgress {
  return {
    async record(key, made) {
      await context.update((current) => {
        const inventory = inventoryOf(current);
        if (made) inventory.Resources[key] = made;
        else delete inventory.Resources[key];
        return { ResourceInventory: inventory };
      });
    },
    adopted(step: StackStep, made: MadeResource) {
      void context.recordEvent({ reason: 'Adopted', note: `${step.what} (${made.id}) was made for this ${what} by an earlier try: using it, nothing made twice` }).catch(() => undefined);
    },
  };
}

/** Keeps a decision (zones, names) in the inventory, unless one is there already; returns the one kept. */
export async function decideOnce<T>(context: ReconcileContext, key: string, decide: () => Promise<T>): Promise<T> {
  const existing = inventoryOf(context.object)[key];
  if (existing !== undefined) return existing as T;
  const value: T = await decide();
  let kept: T = value;
  await context.update((current) => {
    const inventory = inventoryOf(current);
    if (inventory[key] !== undefined) {
      kept = inventory[key] as T;
      return undefined;
    }
    return { ResourceInventory: { ...inventory, [key]: value } };
  });
  return kept;
}

/** "7 of 24 resources ready; waiting for …" */
export const progressLine = (outcome: { ready: number; total: number; waiting: string }): string => `${outcome.ready} of ${outcome.total} resources ready; ${outcome.waiting}`;
