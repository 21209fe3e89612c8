/**
 * What threeport last saw of each resource it applied: its UID, resourceVersion and the manifest
 * it was applied from. A re-verification finding the same UID and version, for the same manifest,
 * knows nobody changed it since — one GET, no apply. Kept in memory: after a restart the first
 * re-verification applies everything once (a no-op where nothing changed) and fills it again.
 */
import { createHash } from 'node:crypto';
import type { Manifest } from '../../model/manifest.ts';

interface Seen {
  uid: string | undefined;
  resourceVersion: string | undefined;
  manifest: string;
}

const digest = (manifest: Manifest): string => createHash('sha1').update(JSON.stringify(manifest)).digest('base64');

export class VerifiedResources {
  readonly #seen = new Map<string, Seen>();
  readonly #capacity: number;

  constructor(capacity = 200_000) {
    this.#capacity = capacity;
  }

  remember(instanceId: number, key: string, manifest: Manifest, live: Manifest): void {
    const id = `${instanceId}|${key}`;
    this.#seen.delete(id);
    this.#seen.set(id, { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion, manifest: digest(manifest) });
    if (this.#seen.size > this.#capacity) this.#seen.delete(this.#seen.keys().next().value!);
  }

  /**
   * `current`: `live` is what threeport last saw, applied from this same manifest. `desired`:
   * nobody touched it, but the manifest is another now (a change to apply, not drift). `unknown`:
   * changed in the cluster since — or threeport has not seen it since it started.
   */
  compare(instanceId: number, key: string, manifest: Manifest, live: Manifest): 'current' | 'desired' | 'unknown' {
    const seen = this.#seen.get(`${instanceId}|${key}`);
    if (!seen || seen.uid !== live.metadata.uid || seen.resourceVersion !== live.metadata.resourceVersion) return 'unknown';
    return seen.manifest === digest(manifest) ? 'current' : 'desired';
  }

  forget(instanceId: number): void {
    const prefix = `${instanceId}|`;
    for (const id of this.#seen.keys()) if (id.startsWith(prefix)) this.#seen.delete(id);
  }
}
