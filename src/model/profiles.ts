/**
 * Profiles: operations' defaults for what applications get made. A section's values fill what an
 * application leaves out; a value the application sets differently is refused unless the profile
 * lists it in Overridable, so a profile can both suggest and fix. The Runtime and Observability
 * sections apply to every application of the profile (where it runs, whether it is observed); the
 * others to the parts an application declares.
 */
import { isDeepStrictEqual } from 'node:util';
import { certificateIssuerHint, certificateIssuerNamed } from './certificate-issuer.ts';
import { reconciliationMixin, type ApiObject, type Kind } from './kind.ts';

export const profileSections = ['Runtime', 'AwsRelationalDatabase', 'AwsObjectStorageBucket', 'Gateway', 'DomainName', 'Observability'] as const;
export type ProfileSection = (typeof profileSections)[number];

type Values = Record<string, unknown>;
const isRecord = (value: unknown): value is Values => typeof value === 'object' && value !== null && !Array.isArray(value);

export function profileProblem(profile: ApiObject): string | undefined {
  for (const section of profileSections) {
    const value = profile[section];
    if (value != null && !isRecord(value)) return `${section} must be a mapping of field to value`;
  }
  const issuer = (profile.Gateway as Values | undefined)?.CertificateIssuer;
  if (issuer !== undefined && (typeof issuer !== 'string' || !certificateIssuerNamed(issuer))) return `Gateway.CertificateIssuer ${JSON.stringify(issuer)} names no issuer: ${certificateIssuerHint}`;
  const overridable = profile.Overridable;
  if (overridable == null) return undefined;
  if (!Array.isArray(overridable) || overridable.some((entry) => typeof entry !== 'string')) return 'Overridable must be a list of Section.Field names';
  const bad = (overridable as string[]).find((entry) => !profileSections.some((section) => entry.startsWith(`${section}.`) && entry.length > section.length + 1));
  return bad === undefined ? undefined : `Overridable: "${bad}" is not Section.Field with a section of ${profileSections.join(', ')}`;
}

export class ProfileViolation extends Error {}

/**
 * The section as the application gets it: the profile's values, then the application's. Throws a
 * ProfileViolation naming the field when the application changes one the profile fixes.
 */
export function withProfile(section: ProfileSection, declared: Values | undefined, profile: ApiObject | undefined, who = 'applications'): Values | undefined {
  const defaults = profile && isRecord(profile[section]) ? (profile[section]) : undefined;
  if (!defaults) return declared;
  const overridable = Array.isArray(profile?.Overridable) ? (profile.Overridable as string[]) : [];
  for (const [key, value] of Object.entries(declared ?? {})) {
    if (key === 'Name' || !(key in defaults) || isDeepStrictEqual(defaults[key], value) || overridable.includes(`${section}.${key}`)) continue;
    throw new ProfileViolation(`profile ${String(profile?.Name)} sets ${section}.${key} to ${JSON.stringify(defaults[key])} and does not let ${who} change it (its Overridable lists what they may): remove ${section}.${key} or ask for the profile to allow it`);
  }
  return { ...defaults, ...declared };
}

/** Whether a profile may set the kind's field: what a client writes as desired state, never a name, nor what controllers or the API own. */
export function profileMaySet(kind: Kind, key: string): boolean {
  const field = kind.fields[key];
  return key !== 'Name' && field !== undefined && !(key in reconciliationMixin) && !(field.kind === 'scalar' && (field.owner === 'controller' || field.owner === 'server'));
}

/**
 * A definition written with a ProfileID: the profile's values for the kind's own fields fill what
 * it leaves out (`fill`: a create or a replace; a PATCH changes only what it names) and a value
 * it sets differently is a ProfileViolation unless Overridable.
 */
export function definitionWithProfile(kind: Kind, written: Values, profile: ApiObject, fill: boolean): Values {
  const section = kind.profileSection;
  const values = section && isRecord(profile[section]) ? profile[section] : undefined;
  if (!section || !values) return written;
  const own = Object.fromEntries(Object.entries(values).filter(([key]) => profileMaySet(kind, key)));
  const checked = withProfile(section, written, { ...profile, [section]: own }, 'definitions') ?? written;
  return fill ? checked : written;
}
