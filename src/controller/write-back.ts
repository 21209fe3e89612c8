import { isStaleVersion, isNotFound, type KindClient } from '../client/api-client.ts';
import type { ApiObject } from '../model/kind.ts';
import { StaleObjectError } from './errors.ts';

export type Patch<T extends ApiObject = ApiObject> = Partial<T> | ((current: T) => Partial<T> | undefined);

const MAX_RETRIES = 5;

/**
 * PATCHes `current` with its version. When someone else wrote first, the fresh object is read:
 * a function patch is recomputed on it; a plain patch is sent again if the desired state is the
 * same (only controller-owned fields moved, e.g. an agent's status), and otherwise throws
 * StaleObjectError, so nothing is written on a stale view of what the user wants. Returns the
 * stored object (`current` itself when there was nothing to write).
 */
export async function updateWithVersion<T extends ApiObject>(client: KindClient<T>, current: T, patch: Patch<T>): Promise<T> {
  let object = current;
  for (let attempt = 0; ; attempt++) {
    const body = defined(typeof patch === 'function' ? patch(object) : patch);
    if (body === undefined) return object;
    try {
      return await client.update(Number(object.ID), body, { version: Number(object.Version) });
    } catch (error) {
      if (!isStaleVersion(error) || attempt >= MAX_RETRIES) throw isStaleVersion(error) ? new StaleObjectError() : error;
      const fresh = await client.get(Number(object.ID));
      if (typeof patch !== 'function' && fresh.Generation !== object.Generation) throw new StaleObjectError();
      object = fresh;
    }
  }
}

/**
 * The patch without its undefined values (JSON drops them anyway), or undefined when nothing is
 * left: `{ Field: maybe }` with nothing in `maybe` is no write, not an empty PATCH the API refuses.
 */
function defined<T extends object>(patch: T | undefined): T | undefined {
  if (patch === undefined) return undefined;
  const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined;
}

/** A 404 from the API: the object is gone. */
export const isGone = isNotFound;
