/**
 * What makes one instance's resources differ from its definition's: its Overrides (a JSON merge
 * patch per resource) and its Images (repositories pinned to a delivered build).
 */
import { TerminalError } from '../../controller/errors.ts';
import { withPinnedImages } from '../../model/container-images.ts';
import { canonicalPins } from '../../model/image-pins.ts';
import type { Manifest } from '../../model/manifest.ts';
import { applyMergePatch } from '../../model/merge-patch.ts';
import { parseResourceKey, resourceKeyOf } from '../../model/resource-key.ts';

interface Customizable {
  Overrides?: unknown;
  Images?: unknown;
}

/** The definition's manifests as this instance runs them; an override that matches no resource, or more than one, is a TerminalError. */
export function customizedManifests(manifests: readonly Manifest[], instance: Customizable): Manifest[] {
  const overrides = Object.entries((instance.Overrides ?? {}) as Record<string, unknown>);
  const keys = manifests.map((manifest) => String(resourceKeyOf(manifest)));
  const patches = new Map<number, unknown[]>();
  for (const [target, patch] of overrides) {
    const matches = keys.flatMap((key, index) => (overrideMatches(target, key) ? [index] : []));
    if (matches.length === 0) throw new TerminalError(`Overrides names ${target}, which the definition does not have (it has ${keys.map(shortName).join(', ')})`);
    if (matches.length > 1) throw new TerminalError(`Overrides names ${target}, which matches ${matches.length} resources: use group/Kind/namespace/name (${matches.map((index) => keys[index]).join(', ')})`);
    patches.set(matches[0]!, [...(patches.get(matches[0]!) ?? []), patch]);
  }
  const pins = canonicalPins(instance.Images);
  return manifests.map((manifest, index) => {
    const patched = (patches.get(index) ?? []).reduce<unknown>((current, patch) => applyMergePatch(current, patch), manifest) as Manifest;
    return withPinnedImages(patched, pins);
  });
}

const shortName = (key: string): string => {
  const { kind, name } = parseResourceKey(key);
  return `${kind}/${name}`;
};

const overrideMatches = (target: string, key: string): boolean => (target.split('/').length === 2 ? shortName(key) === target : key === target);
