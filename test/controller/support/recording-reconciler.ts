/**
 * A reconciler for tests that records every call (start and end, with this process's id) and can
 * be told to be slow or to fail, by object name prefix.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineReconciler, type OperationReconciler, type ReconcileContext } from '../../../src/controller/reconciler.ts';

export interface CallRecord {
  event: 'start' | 'end';
  kind: string;
  id: number;
  name: string;
  operation: string;
  attempt: number;
  version: number;
  replica: string;
  /** ms since the epoch, sub-millisecond precision */
  at: number;
  /** on end: what the reconcile did */
  outcome?: 'done' | 'failed';
}

export interface Behaviour {
  /** Every reconcile takes this long. */
  delayMs?: number;
  /** Objects named with this prefix take `slowMs`. */
  slowPrefix?: string;
  slowMs?: number;
  /** Objects named with this prefix fail their first `failTimes` attempts. */
  failPrefix?: string;
  failTimes?: number;
}

export const now = (): number => performance.timeOrigin + performance.now();

/** Appends records to a JSONL file (synchronously, so a kill -9 loses nothing written). */
export const fileRecorder = (path: string) => (record: CallRecord): void => appendFileSync(path, `${JSON.stringify(record)}\n`);

export function recordingReconciler(kind: string, replica: string, record: (entry: CallRecord) => void, behaviour: Behaviour = {}): OperationReconciler {
  const handle = async (context: ReconcileContext) => {
    const object = context.object;
    const name = String(object.Name ?? '');
    const base = { kind, id: Number(object.ID), name, operation: context.operation, attempt: context.attempt, version: Number(object.Version), replica };
    record({ event: 'start', at: now(), ...base });
    try {
      if (behaviour.delayMs) await sleep(behaviour.delayMs);
      if (behaviour.slowPrefix && name.startsWith(behaviour.slowPrefix)) await sleep(behaviour.slowMs ?? 60_000);
      if (behaviour.failPrefix && name.startsWith(behaviour.failPrefix) && context.attempt <= (behaviour.failTimes ?? 0)) {
        throw new Error(`simulated failure (failing ${behaviour.failTimes} times)`);
      }
    } catch (error) {
      record({ event: 'end', at: now(), outcome: 'failed', ...base });
      throw error;
    }
    record({ event: 'end', at: now(), outcome: 'done', ...base });
  };
  return defineReconciler({ kind, created: handle, updated: handle, deleted: handle });
}

/** Object ids whose reconciles by different replicas overlapped in time. */
export function overlaps(records: CallRecord[]): string[] {
  const byObject = new Map<string, CallRecord[]>();
  for (const record of records) {
    const key = `${record.kind}.${record.id}`;
    const list = byObject.get(key) ?? [];
    list.push(record);
    byObject.set(key, list);
  }
  const found: string[] = [];
  for (const [key, list] of byObject) {
    list.sort((a, b) => a.at - b.at || (a.event === 'end' ? -1 : 1));
    let open = 0;
    for (const record of list) {
      open += record.event === 'start' ? 1 : -1;
      if (open > 1) {
        found.push(key);
        break;
      }
    }
  }
  return found;
}
