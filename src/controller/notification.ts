import { API_VERSION } from '../model/kind.ts';
import type { Operation } from './reconciler.ts';

/**
 * What the runtime takes from a notification: which object, which operation, which version. The
 * object's copy in the payload is never trusted; the reconcile re-reads it.
 */
export interface Hint {
  operation: Operation;
  id: number;
  /** The object's version the write produced (absent from the original's payloads). */
  version?: number;
}

const operations: readonly string[] = ['Created', 'Updated', 'Deleted'];

/** Decodes a notification payload; throws with the reason when it is not one. */
export function decodeNotification(payload: string): Hint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new Error('payload is not JSON');
  }
  const body = parsed as { Operation?: unknown; Object?: { ID?: unknown; Version?: unknown }; ObjectVersion?: unknown };
  if (typeof body !== 'object' || body === null) throw new Error('payload is not an object');
  if (typeof body.Operation !== 'string' || !operations.includes(body.Operation)) throw new Error(`unknown Operation ${JSON.stringify(body.Operation)}`);
  if (body.ObjectVersion !== undefined && body.ObjectVersion !== API_VERSION) throw new Error(`unsupported ObjectVersion ${JSON.stringify(body.ObjectVersion)}`);
  const id = body.Object?.ID;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new Error('Object.ID is missing or not a positive integer');
  const version = body.Object?.Version;
  return { operation: body.Operation as Operation, id, ...(typeof version === 'number' && { version }) };
}

/** A notification for `object`, in the API's wire format (what resync publishes). */
export function encodeNotification(operation: Operation, object: Record<string, unknown>): string {
  return JSON.stringify({ Operation: operation, CreationTime: Math.floor(Date.now() / 1000), Object: object, ObjectVersion: API_VERSION });
}

export const subjectSuffix: Readonly<Record<Operation, string>> = { Created: 'create', Updated: 'update', Deleted: 'delete' };
