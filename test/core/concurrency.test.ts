import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { pause, scopedSignal, SharedLoads } from '../../src/concurrency.ts';

/** A load the test finishes by hand. */
function manualLoad<V>(): { load: () => Promise<V>; started: () => number; finish: (value: V) => void; fail: (error: Error) => void } {
  let starts = 0;
  let settle: { resolve: (value: V) => void; reject: (error: Error) => void } | undefined;
  return {
    load: () => {
      starts++;
      return new Promise<V>((resolve, reject) => (settle = { resolve, reject }));
    },
    started: () => starts,
    finish: (value) => settle!.resolve(value),
    fail: (error) => settle!.reject(error),
  };
}

describe('shared loads', () => {
  it('one caller that stops waiting does not fail the others, and the load runs once', async () => {
    const loads = new SharedLoads<string>({ keep: true });
    const manual = manualLoad<string>();
    const first = new AbortController();
    const firstCall = loads.get('k', manual.load, first.signal);
    const secondCall = loads.get('k', manual.load, new AbortController().signal);
    first.abort(new Error('the first reconcile timed out'));
    await expect(firstCall).rejects.toThrow('the first reconcile timed out');
    manual.finish('value');
    await expect(secondCall).resolves.toBe('value');
    // Kept: a later caller gets it without a new load.
    await expect(loads.get('k', manual.load)).resolves.toBe('value');
    expect(manual.started()).toBe(1);
  });

  it('a failed load is forgotten, so the next caller loads again; without keep, a finished one too', async () => {
    const kept = new SharedLoads<string>({ keep: true });
    const failing = manualLoad<string>();
    const call = kept.get('k', failing.load);
    failing.fail(new Error('the API did not answer'));
    await expect(call).rejects.toThrow('the API did not answer');
    const retried = kept.get('k', failing.load);
    failing.finish('second');
    await expect(retried).resolves.toBe('second');
    expect(failing.started()).toBe(2);

    const once = new SharedLoads<string>({ keep: false });
    const manual = manualLoad<string>();
    const a = once.get('k', manual.load);
    manual.finish('a');
    await a;
    const b = once.get('k', manual.load);
    manual.finish('b');
    await expect(b).resolves.toBe('b');
    expect(manual.started()).toBe(2);
  });
});

describe('pause', () => {
  it('is true once the time passed and false at once when aborted, leaving no listener behind', async () => {
    expect(await pause(1)).toBe(true);
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(await pause(10, controller.signal)).toBe(false);
    // Many pauses on one long-lived signal: each removes its listener when it ends.
    const longLived = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    for (let i = 0; i < 20; i++) await pause(0, longLived.signal);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('scopedSignal', () => {
  it('aborts with a source or when its time runs out, and once disposed holds nothing of its sources', async () => {
    const source = new AbortController();
    const fromSource = scopedSignal([source.signal], 60_000);
    source.abort(new Error('shutting down'));
    expect(fromSource.signal.aborted).toBe(true);
    expect((fromSource.signal.reason as Error).message).toBe('shutting down');
    expect(fromSource.timedOut()).toBe(false);
    fromSource.dispose();

    const timed = scopedSignal([], 5);
    await new Promise((resolve) => timed.signal.addEventListener('abort', resolve, { once: true }));
    expect(timed.timedOut()).toBe(true);
    expect((timed.signal.reason as DOMException).name).toBe('TimeoutError');

    expect(scopedSignal([source.signal]).signal.aborted).toBe(true); // a source already aborted

    const disposed = scopedSignal([], 5);
    disposed.dispose();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(disposed.signal.aborted).toBe(false); // its timer stopped

    // A lifelong source: every scope removes its listener when disposed.
    const lifelong = new AbortController();
    const listeners = getEventListeners(lifelong.signal, 'abort').length;
    const scopes = Array.from({ length: 50 }, () => scopedSignal([lifelong.signal], 60_000));
    expect(getEventListeners(lifelong.signal, 'abort').length).toBe(listeners + 50);
    for (const scope of scopes) scope.dispose();
    expect(getEventListeners(lifelong.signal, 'abort').length).toBe(listeners);
    lifelong.abort();
    expect(scopes.some((scope) => scope.signal.aborted)).toBe(false);
  });
});
