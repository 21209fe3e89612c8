/**
 * A reconciler whose behaviour each test writes per object: a step (any function of the context)
 * bound to the object's name before it is created. Every call is recorded with what the runtime
 * handed over (operation, attempt, generation, signal).
 */
import { performance } from 'node:perf_hooks';
import { defineReconciler, type LevelReconciler, type ReconcileContext, type ReconcileOutcome } from '../../../src/controller/reconciler.ts';
import type { ApiObject } from '../../../src/model/kind.ts';

export interface ScriptedCall {
  id: number;
  name: string;
  operation: string;
  attempt: number;
  /** 1 for the first call on this object, counting every call (requeues and retries too). */
  call: number;
  version: number;
  generation: number | undefined;
  observedGeneration: number | undefined;
  /** ms, this process's monotonic clock */
  at: number;
  signal: AbortSignal;
}

export type Step = (context: ReconcileContext, call: ScriptedCall) => Promise<ReconcileOutcome> | ReconcileOutcome;

export interface Scripted {
  reconciler: LevelReconciler;
  calls: ScriptedCall[];
  /** What the reconciler does for the object named `name` (bound to its ID at the first call). */
  script(name: string, step: Step): void;
  callsOf(id: number | unknown): ScriptedCall[];
}

export interface ScriptedOptions {
  name?: string;
  timeoutMs?: number;
  resyncIntervalMs?: number;
  maxRetryDelayMs?: number;
}

export function scriptedReconciler(kind: string, options: ScriptedOptions = {}): Scripted {
  const byName = new Map<string, Step>();
  const byId = new Map<number, Step>();
  const calls: ScriptedCall[] = [];
  const reconciler = defineReconciler<ApiObject, LevelReconciler>({
    kind,
    ...(options.name && { name: options.name }),
    ...(options.timeoutMs && { timeoutMs: options.timeoutMs }),
    ...(options.resyncIntervalMs && { resyncIntervalMs: options.resyncIntervalMs }),
    ...(options.maxRetryDelayMs && { maxRetryDelayMs: options.maxRetryDelayMs }),
    async reconcile(context) {
      const object = context.object;
      const id = Number(object.ID);
      let step = byId.get(id);
      if (!step) {
        step = byName.get(String(object.Name)) ?? (() => undefined);
        byId.set(id, step);
      }
      const call: ScriptedCall = {
        id,
        name: String(object.Name),
        operation: context.operation,
        attempt: context.attempt,
        call: calls.filter((c) => c.id === id).length + 1,
        version: Number(object.Version),
        generation: object.Generation as number | undefined,
        observedGeneration: object.ObservedGeneration as number | undefined,
        at: performance.now(),
        signal: context.signal,
      };
      calls.push(call);
      return step(context, call);
    },
  });
  return {
    reconciler,
    calls,
    script: (name, step) => void byName.set(name, step),
    callsOf: (id) => calls.filter((call) => call.id === Number(id)),
  };
}

/** A promise the test resolves when it wants: `await gate.opened` in a step, `gate.open()` in the test. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Never settles, whatever the signal says: a reconciler that ignores its signal. */
export const hang = (): Promise<never> => new Promise<never>(() => {});

/** Settles when `signal` aborts, with its reason. */
export const untilAborted = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));
