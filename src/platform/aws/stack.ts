/**
 * A stack of cloud resources made in order and removed in reverse, resumable at any point.
 *
 * Each step knows how to find its resource (by the owner's tags, or by a name only it uses), make
 * it, tell when it is usable, and remove it. What is made is recorded at once (the caller keeps the
 * inventory, e.g. in the object's ResourceInventory), and a step not in the inventory is looked for
 * before it is made: a crash between making and recording, a retry, or another replica finds the
 * resource instead of making a second. Nothing waits in here: a step that is not ready says what it
 * waits for, and the caller comes back later (a requeue), so no worker is held by a cloud that
 * takes minutes.
 */

import { AwsProblem } from './errors.ts';

/** The code of the problem a step's `find` reports for a resource of its name that is not the owner's. */
export const FOREIGN = 'ForeignResource';

/** What the inventory keeps of a resource: its ID and whatever later steps or teardown need. */
export type MadeResource = { readonly id: string } & Readonly<Record<string, string>>;

/** Made resources by step key. */
export type Inventory = Readonly<Record<string, MadeResource>>;

/** What a step can see while it runs: the resources of earlier steps. */
export interface StackRun {
  readonly signal: AbortSignal | undefined;
  /** An earlier step's resource; throws when it was not made (the order of the stack guarantees it is). */
  made(key: string): MadeResource;
  /** An earlier step's resource, if it was made. */
  find(key: string): MadeResource | undefined;
}

export interface StackStep {
  /** The step's key in the inventory and its tags, e.g. `subnet/private/us-east-1a`. */
  key: string;
  /** For progress and errors: "VPC", "NAT gateway in us-east-1a". */
  what: string;
  /** The resource if it exists already (made by an earlier try); never someone else's. */
  find(run: StackRun): Promise<MadeResource | undefined>;
  /** Makes the resource; or says what it must wait for first (an earlier resource becoming usable). */
  create(run: StackRun): Promise<MadeResource | { waiting: string }>;
  /**
   * Finishes a resource just made or found, before it is recorded (attachments, routes,
   * attributes): a resource found after a crash may lack them. Must be idempotent.
   */
  configure?(run: StackRun, made: MadeResource): Promise<void>;
  /** What the resource still waits for before it can be used; undefined once it can. */
  pending?(run: StackRun, made: MadeResource): Promise<string | undefined>;
  /** Starts removing the resource; does nothing when it is already gone or going. */
  remove(run: StackRun, made: MadeResource): Promise<void>;
  /** What its removal still waits for; undefined once it is gone. Default: gone when `find` finds nothing. */
  removing?(run: StackRun, made: MadeResource): Promise<string | undefined>;
}

export interface StackProgress {
  /** Records a step's resource as made (or, with undefined, as gone), before the stack goes on. */
  record(key: string, made: MadeResource | undefined): Promise<void>;
  /** Told when a step's resource was found rather than made (a resumed create). */
  adopted?(step: StackStep, made: MadeResource): void;
}

export type StackOutcome = { done: true; inventory: Inventory } | { done: false; waiting: string; inventory: Inventory; ready: number; total: number };

/** Marks a resource whose removal was asked, so a resumed teardown does not ask again. */
const REMOVING = 'removing';

class Run implements StackRun {
  readonly signal: AbortSignal | undefined;
  readonly inventory: Record<string, MadeResource>;

  constructor(inventory: Inventory, signal: AbortSignal | undefined) {
    this.inventory = { ...inventory };
    this.signal = signal;
  }

  made(key: string): MadeResource {
    const made = this.inventory[key];
    if (!made) throw new Error(`the stack has no ${key} yet`);
    return made;
  }

  find(key: string): MadeResource | undefined {
    return this.inventory[key];
  }
}

/** Makes what is missing, in order, until every resource is usable or one must be waited for. */
export async function provision(steps: readonly StackStep[], inventory: Inventory, progress: StackProgress, signal?: AbortSignal): Promise<StackOutcome> {
  const run = new Run(inventory, signal);
  for (const [index, step] of steps.entries()) {
    signal?.throwIfAborted();
    let made = run.inventory[step.key];
    if (!made) {
      const found = await step.find(run);
      if (found) progress.adopted?.(step, found);
      const result = found ?? (await step.create(run));
      if ('waiting' in result) return { done: false, waiting: result.waiting, inventory: run.inventory, ready: index, total: steps.length };
      made = result;
      await step.configure?.(run, made);
      run.inventory[step.key] = made;
      await progress.record(step.key, made);
    }
    const waiting = await step.pending?.(run, made);
    if (waiting) return { done: false, waiting, inventory: run.inventory, ready: index, total: steps.length };
  }
  return { done: true, inventory: run.inventory };
}

/**
 * Removes every resource in reverse order, each once the ones after it are gone. Resources made but
 * never recorded (a crash in between) are found by their tags and removed too.
 */
export async function teardown(steps: readonly StackStep[], inventory: Inventory, progress: StackProgress, signal?: AbortSignal): Promise<StackOutcome> {
  const run = new Run(inventory, signal);
  for (const step of steps) {
    if (run.inventory[step.key]) continue;
    // Someone else's resource under a name this stack would have used is theirs to keep: not removed, not in the way.
    const found = await step.find(run).catch((error: unknown) => {
      if (error instanceof AwsProblem && error.code === FOREIGN) return undefined;
      throw error;
    });
    if (!found) continue;
    run.inventory[step.key] = found;
    await progress.record(step.key, found);
  }
  const reversed = [...steps].reverse();
  for (const [index, step] of reversed.entries()) {
    signal?.throwIfAborted();
    let made = run.inventory[step.key];
    if (!made) continue;
    if (!made[REMOVING]) {
      await step.remove(run, made);
      made = { ...made, [REMOVING]: new Date().toISOString() };
      run.inventory[step.key] = made;
      await progress.record(step.key, made);
    }
    const waiting = step.removing ? await step.removing(run, made) : (await step.find(run)) ? `${step.what} is being removed` : undefined;
    if (waiting) return { done: false, waiting, inventory: run.inventory, ready: index, total: steps.length };
    delete run.inventory[step.key];
    await progress.record(step.key, undefined);
  }
  return { done: true, inventory: run.inventory };
}
