import { isConflict, isNotFound, type KindClient } from '../client/api-client.ts';
import type { ApiObject } from '../model/kind.ts';
import { StaleObjectError } from './errors.ts';

export type Patch = ApiObject | ((current: ApiObject) => ApiObject | undefined);

const MAX_RETRIES = 5;

/**
 * PATCHes `current` with its version. When someone else wrote first (409 and a newer version on
 * re-read), a function patch is recomputed on the fresh object and tried again; a plain patch
 * throws StaleObjectError, so nothing is overwritten on a stale view. Returns the stored object.
 */
export async function updateWithVersion(client: KindClient, current: ApiObject, patch: Patch): Promise<ApiObject> {
  let object = current;
  for (let attempt = 0; ; attempt++) {
    const body = typeof patch === 'function' ? patch(object) : patch;
    if (body === undefined || Object.keys(body).length === 0) return object;
    try {
      return await client.update(Number(object.ID), body, { version: Number(object.Version) });
    } catch (error) {
      if (!isConflict(error)) throw error;
      const fresh = await client.get(Number(object.ID));
      // Same version: the 409 was about the content (e.g. a duplicate name), not staleness.
      if (fresh.Version === object.Version) throw error;
      if (typeof patch !== 'function' || attempt >= MAX_RETRIES) throw new StaleObjectError();
      object = fresh;
    }
  }
}

/** A 404 from the API: the object is gone. */
export const isGone = isNotFound;
