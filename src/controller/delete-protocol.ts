import { isConflict, isNotFound, type ApiClient, type KindClient } from '../client/api-client.ts';
import type { ApiObject } from '../model/kind.ts';
import { StaleObjectError } from './errors.ts';
import { updateWithVersion } from './write-back.ts';

/**
 * Step 1 of the two-phase delete seen from a controller: tells users teardown has started
 * (DeletionAcknowledged). Returns the updated object.
 */
export async function acknowledgeDeletion(client: KindClient, object: ApiObject): Promise<ApiObject> {
  if (object.DeletionAcknowledged) return object;
  return updateWithVersion(client, object, (current) => (current.DeletionAcknowledged ? undefined : { DeletionAcknowledged: new Date().toISOString() }));
}

/**
 * The last steps, after cleanup succeeded: confirm the deletion (DeletionConfirmed, Reconciled=true,
 * with the version cleanup saw) and send the final DELETE that removes the object. An object
 * already gone is fine. If it changed since cleanup read it, throws StaleObjectError so cleanup
 * runs again on the current state.
 */
export async function confirmDeletion(client: KindClient, object: ApiObject): Promise<void> {
  let confirmed = object;
  if (!object.DeletionConfirmed) {
    const now = new Date().toISOString();
    try {
      confirmed = await updateWithVersion(client, object, { DeletionAcknowledged: object.DeletionAcknowledged ?? now, DeletionConfirmed: now, Reconciled: true });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }
  await finalDelete(client, confirmed);
}

/** The final DELETE of a confirmed object; 404 means someone else finished it. */
export async function finalDelete(client: KindClient, object: ApiObject): Promise<void> {
  const id = Number(object.ID);
  try {
    await client.delete(id, { version: Number(object.Version) });
  } catch (error) {
    if (isNotFound(error)) return;
    if (!isConflict(error)) throw error;
    // Stale version: whoever wrote may have finished the job, or changed it under us.
    const fresh = await client.get(id).catch((readError: unknown) => (isNotFound(readError) ? undefined : Promise.reject(readError)));
    if (!fresh) return;
    if (!fresh.DeletionConfirmed) throw new StaleObjectError();
    await client.delete(id, { version: Number(fresh.Version) }).catch((again: unknown) => (isNotFound(again) ? undefined : Promise.reject(again)));
  }
}

/**
 * Asks the API to delete another object (a child, an attached object) and does not wait for its
 * controller: 404 (already gone) and 409 (already being deleted) count as done.
 */
export async function requestDeletion(client: ApiClient, kind: string, id: number): Promise<'scheduled' | 'already'> {
  try {
    await client.kind(kind).delete(id);
    return 'scheduled';
  } catch (error) {
    if (isNotFound(error) || isConflict(error)) return 'already';
    throw error;
  }
}
