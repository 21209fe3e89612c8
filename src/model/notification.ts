/**
 * The notification wire format, the original's (reference §2.2), written by the API's outbox, by
 * resync and by reconcile requests, and read by the controller runtime: one codec for all of them.
 *
 *   {"Operation":"Created|Updated|Deleted","CreationTime":<unix s>,"Object":{…},"ObjectVersion":"v0"}
 *
 * Our additions ride beside the original's keys, which its controllers ignore: `Requested` marks a
 * reconcile someone asked for (the object may already be Reconciled), with the reason why.
 */
import { createHash } from 'node:crypto';
import { API_VERSION, type ApiObject, type Kind } from './kind.ts';

export type NotificationOperation = 'Created' | 'Updated' | 'Deleted';

const suffixes: Readonly<Record<NotificationOperation, string>> = { Created: 'create', Updated: 'update', Deleted: 'delete' };
const operations: readonly string[] = Object.keys(suffixes);

export interface Notification {
  subject: string;
  /** The broker drops a second message with the same ID within its duplicate window. */
  messageId: string;
  payload: string;
}

/** `workloadInstance.update` */
export const subjectOf = (kind: Kind, operation: NotificationOperation): string => `${kind.subjectPrefix}.${suffixes[operation]}`;

/** The notification of a committed write: `object` is the object as stored. */
export function writeNotification(kind: Kind, operation: NotificationOperation, object: ApiObject, now = new Date()): Notification {
  return {
    subject: subjectOf(kind, operation),
    // The same write re-published (after a crash, or by resync) is dropped by the duplicate window.
    messageId: `${kind.name}.${String(object.ID)}.${String(object.Version)}`,
    payload: encode(operation, object, now),
  };
}

/**
 * A request to reconcile an object whatever its state (drift seen by an agent, a related object
 * changed). The same request (same object, same `cause` — by default the reason) within one second
 * is one message; other requests are not folded into it, since each may come after a change the
 * other missed.
 */
export function requestNotification(kind: Kind, id: number, reason: string, now = new Date(), cause = reason): Notification {
  const digest = createHash('sha1').update(cause).digest('base64url').slice(0, 12);
  return {
    subject: subjectOf(kind, 'Updated'),
    messageId: `request.${kind.name}.${id}.${digest}.${Math.floor(now.getTime() / 1000)}`,
    payload: encode('Updated', { ID: id }, now, { Requested: reason || 'requested' }),
  };
}

function encode(operation: NotificationOperation, object: ApiObject, now: Date, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ Operation: operation, CreationTime: Math.floor(now.getTime() / 1000), Object: object, ObjectVersion: API_VERSION, ...extra });
}

/**
 * What a controller takes from a notification: which object, which operation, which version. The
 * object's copy is never trusted; the reconcile re-reads it.
 */
export interface NotificationHint {
  operation: NotificationOperation;
  id: number;
  /** The object's version the write produced (absent from the original's payloads and from requests). */
  version?: number;
  /** Someone asked for this reconcile: run it even if the object is Reconciled. */
  requested?: string;
}

/** Decodes a notification payload; throws with the reason when it is not one. */
export function decodeNotification(payload: string): NotificationHint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new Error('payload is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('payload is not an object');
  const body = parsed as { Operation?: unknown; Object?: Record<string, unknown>; ObjectVersion?: unknown; Requested?: unknown };
  if (typeof body.Operation !== 'string' || !operations.includes(body.Operation)) throw new Error(`unknown Operation ${JSON.stringify(body.Operation)}`);
  if (body.ObjectVersion !== undefined && body.ObjectVersion !== API_VERSION) throw new Error(`unsupported ObjectVersion ${JSON.stringify(body.ObjectVersion)}`);
  const id = body.Object?.ID;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new Error('Object.ID is missing or not a positive integer');
  const version = body.Object?.Version;
  const hint: NotificationHint = { operation: body.Operation as NotificationOperation, id };
  if (typeof version === 'number') hint.version = version;
  if (typeof body.Requested === 'string' && body.Requested) hint.requested = body.Requested;
  return hint;
}
