/** An instance's Images: the repositories it runs at a pinned reference (what deliveries write). */
import { canonicalRepository, parseImageReference } from './container-images.ts';
import { json } from './fields.ts';

export const imagePinsField = json({
  description:
    'Images pinned on this instance, by repository: {"ghcr.io/acme/shop": "ghcr.io/acme/shop:1.4@sha256:…"}. Every container of that repository runs the pinned reference. Written by deliveries (or by hand); removing a key returns to what the definition says.',
});

export function imagePinsProblem(images: unknown): string | undefined {
  if (images === undefined || images === null) return undefined;
  if (typeof images !== 'object' || Array.isArray(images)) return 'Images must be an object: {"repository": "repository:tag@digest"}';
  for (const [repository, reference] of Object.entries(images)) {
    if (typeof reference !== 'string' || reference === '') return `Images.${repository} must be an image reference`;
    if (canonicalRepository(parseImageReference(reference).repository) !== canonicalRepository(repository)) {
      return `Images.${repository} is ${reference}, an image of another repository: a pin keeps the repository and sets its tag or digest`;
    }
  }
  return undefined;
}

/** Images with canonical repository keys, as container-images.ts compares them. */
export function canonicalPins(images: unknown): Record<string, string> {
  if (typeof images !== 'object' || images === null) return {};
  return Object.fromEntries(Object.entries(images as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string').map(([repository, reference]) => [canonicalRepository(repository), reference]));
}
