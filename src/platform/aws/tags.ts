/**
 * How threeport marks what it makes in AWS: every resource carries its owner (the object it was
 * made for, in one control plane) and its place in that object's stack. A retry, a new replica or a
 * resumed create finds its resources by these tags, and never takes anyone else's for its own.
 */
import { createHash } from 'node:crypto';

export interface Tag {
  Key: string;
  Value: string;
}

export const TAG_KEYS = {
  controlPlane: 'threeport.io/control-plane',
  owner: 'threeport.io/owner',
  resource: 'threeport.io/resource',
  /** The original's tag, kept so its users' cost reports and cleanup scripts still find ours. */
  provisionedBy: 'ProvisionedBy',
} as const;

/** Who a resource is made for: e.g. `AwsEksKubernetesRuntimeInstance/12` in control plane `<uuid>`. */
export interface Owner {
  controlPlaneId: string;
  /** `<Kind>/<ID>` of the threeport object. */
  object: string;
}

/** The tags of the resource `key` of `owner`'s stack (plus a Name, which the console shows). */
export function tagsFor(owner: Owner, key: string, name?: string): Tag[] {
  return [
    { Key: TAG_KEYS.controlPlane, Value: owner.controlPlaneId },
    { Key: TAG_KEYS.owner, Value: owner.object },
    { Key: TAG_KEYS.resource, Value: key },
    { Key: TAG_KEYS.provisionedBy, Value: 'threeport' },
    ...(name ? [{ Key: 'Name', Value: name }] : []),
  ];
}

/** The same as a map (EKS, and S3's tagging, take them so). */
export const tagMap = (tags: readonly Tag[]): Record<string, string> => Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));

/** Whether `tags` say the resource is `owner`'s (and, given `key`, that resource of its stack). */
export function isOwnedBy(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | Record<string, string> | undefined, owner: Owner, key?: string): boolean {
  const map = Array.isArray(tags) ? Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value])) : (tags ?? {});
  return map[TAG_KEYS.controlPlane] === owner.controlPlaneId && map[TAG_KEYS.owner] === owner.object && (key === undefined || map[TAG_KEYS.resource] === key);
}

/** EC2 describe filters for `owner`'s resource `key`. */
export const ownerFilters = (owner: Owner, key: string): { Name: string; Values: string[] }[] => [
  { Name: `tag:${TAG_KEYS.controlPlane}`, Values: [owner.controlPlaneId] },
  { Name: `tag:${TAG_KEYS.owner}`, Values: [owner.object] },
  { Name: `tag:${TAG_KEYS.resource}`, Values: [key] },
];

/**
 * A name AWS accepts for something named after `parts` (joined by '-'): lower-cased where asked,
 * only the characters `allowed`, at most `max` long — shortened with a digest of the whole, so two
 * long names that differ only at the end stay different.
 */
export function awsName(parts: readonly (string | number)[], options: { max: number; lower?: boolean; allowed?: RegExp }): string {
  const allowed = options.allowed ?? /[^A-Za-z0-9-]/g;
  let name = parts.map(String).join('-');
  if (options.lower) name = name.toLowerCase();
  name = name.replace(allowed, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  if (name.length <= options.max) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, options.max - 9).replace(/-$/, '')}-${digest}`;
}
