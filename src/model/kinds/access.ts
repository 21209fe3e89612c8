import { json, integer, ref, string, time } from '../fields.ts';
import { defineKind, type ApiObject } from '../kind.ts';
import { profileProblem } from '../profiles.ts';
import { roleNames } from '../roles.ts';

export const Profile = defineKind({
  name: 'Profile',
  domain: 'access',
  owners: 'platform',
  description:
    'Operations’ defaults for what applications get made: the runtime (InfraProvider, Location, NodeSize, NodeProfile, NodeMaximum), the managed database and bucket, and the support services (the gateway’s certificate issuer, the domain’s settings, observability on or off). An application naming the profile (or a tier that selects it) gets these values; it may set other values only for the fields listed in Overridable.',
  shape: 'plain',
  fields: {
    Name: string({ required: true }),
    Runtime: json({ description: 'Runtime requirements and the settings a runtime provisioned for them gets: {InfraProvider, Location, NodeSize, NodeProfile, NodeMaximum (the node group’s upper bound), HighAvailability (three zones, not two)}.' }),
    AwsRelationalDatabase: json({ description: 'Database defaults: {Engine, EngineVersion, MachineSize, StorageGb, BackupDays, AwsAccountName}.' }),
    AwsObjectStorageBucket: json({ description: 'Bucket defaults: {PublicReadAccess, AwsAccountName}.' }),
    Gateway: json({ description: 'Gateway defaults: {CertificateIssuer (letsencrypt, letsencrypt-staging, self-signed or an ACME directory URL), HttpPorts, SubDomain…}.' }),
    DomainName: json({ description: 'Domain name defaults: {Domain, Zone, AdminEmail}.' }),
    Observability: json({ description: 'Observability on or off for the profile’s applications: {Enabled, MetricsEnabled, LoggingEnabled}. Enabled: each application’s runtime gets an observability stack (made when it has none; the profile is the consent to make one).' }),
    Overridable: json({ description: 'Fields an application may set to another value than the profile’s, as Section.Field (e.g. ["Runtime.NodeSize", "AwsRelationalDatabase.StorageGb"]). Fields the profile leaves unset are always the application’s.' }),
  },
  rules: { validate: (profile) => profileProblem(profile) },
});

export const Tier = defineKind({
  name: 'Tier',
  domain: 'access',
  owners: 'platform',
  description: 'A criticality level, e.g. dev 10, prod 100, and the profile applications of the tier get.',
  shape: 'plain',
  fields: {
    Name: string({ required: true }),
    Criticality: integer({ required: true }),
    Profile: string({ description: 'The Profile (by name) of applications naming this tier and no profile of their own.' }),
  },
});

/** A stored list of names (a user's Groups, a binding's or token's Runtimes); absent or malformed is none. */
export const namesIn = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

const NAME = /^[a-z0-9]([-a-z0-9._@:]{0,62}[a-z0-9])?$/;
const nameProblem = (what: string, name: unknown): string | undefined =>
  typeof name === 'string' && NAME.test(name) ? undefined : `${what} "${String(name)}" is not a valid name: 1 to 64 lowercase letters, digits, '-', '.', '_', '@' or ':', starting and ending with a letter or digit`;

export const User = defineKind({
  name: 'User',
  domain: 'access',
  owners: 'access',
  description: 'A person (or a service outside the control plane) who holds client certificates of this control plane; named as the certificates’ CN.',
  shape: 'plain',
  fields: {
    Name: string({ required: true, immutable: true, description: 'The CN of the user’s certificates; RoleBindings name it as user:<Name>.' }),
    Groups: json({ description: 'Group names (the certificates’ O); RoleBindings name them as group:<name>.' }),
  },
  rules: {
    validate(user) {
      const groups = user.Groups ?? [];
      if (!Array.isArray(groups)) return 'Groups must be a list of group names';
      return nameProblem('user name', user.Name) ?? groups.map((group) => nameProblem('group', group)).find(Boolean);
    },
  },
});

export const UserCertificate = defineKind({
  name: 'UserCertificate',
  domain: 'access',
  owners: 'access',
  issuedBy: 'POST /v0/users/{id}/certificates',
  description: 'A client certificate issued to a user. Only certificates recorded here are accepted: deleting one revokes it.',
  shape: 'plain',
  uniqueTogether: [['SerialNumber']],
  fields: {
    UserID: ref('User', { required: true, cascade: true, immutable: true }),
    SerialNumber: string({ required: true, immutable: true, indexed: true, description: 'Upper-case hex.' }),
    NotAfter: time({ required: true, immutable: true }),
  },
});

const SUBJECT = /^(user|group):(.+)$/;

/** Names of the Kubernetes runtime instances a role applies to (absent: all). */
const runtimes = () => json({ description: 'Names of the Kubernetes runtime instances the role applies to when it changes objects that run on a runtime (absent: all).' });
const runtimesProblem = (object: ApiObject): string | undefined => {
  const names = object.Runtimes ?? [];
  return Array.isArray(names) && names.every((name) => typeof name === 'string' && name) ? undefined : 'Runtimes must be a list of Kubernetes runtime instance names';
};

export const RoleBinding = defineKind({
  name: 'RoleBinding',
  domain: 'access',
  owners: 'access',
  description: 'Gives a role to a user or to every member of a group.',
  shape: 'plain',
  fields: {
    Name: string({ required: true }),
    Role: string({ required: true, oneOf: roleNames }),
    Subject: string({ required: true, description: 'user:<user name> or group:<group name>.' }),
    Runtimes: runtimes(),
  },
  rules: {
    validate(binding) {
      const match = SUBJECT.exec(String(binding.Subject));
      if (!match) return `Subject "${String(binding.Subject)}" must be user:<name> or group:<name>`;
      return runtimesProblem(binding) ?? nameProblem(match[1]!, match[2]);
    },
  },
});

const HASH = /^[0-9a-f]{64}$/;

export const ApiToken = defineKind({
  name: 'ApiToken',
  domain: 'access',
  owners: 'access',
  description: 'A bearer token for CI and automation, with one role. Only its SHA-256 is kept: the client makes the token and sends the hash.',
  shape: 'plain',
  uniqueTogether: [['TokenHash']],
  fields: {
    Name: string({ required: true }),
    Role: string({ required: true, oneOf: roleNames }),
    TokenHash: string({ required: true, immutable: true, indexed: true, description: 'Hex SHA-256 of the token.' }),
    ExpiresAt: time({ required: true }),
    Runtimes: runtimes(),
  },
  rules: {
    validate(token: ApiObject, previous) {
      if (!HASH.test(String(token.TokenHash))) return 'TokenHash must be the hex SHA-256 of the token (64 lowercase hex digits)';
      const runtimeProblem = runtimesProblem(token);
      if (runtimeProblem) return runtimeProblem;
      const expires = Date.parse(String(token.ExpiresAt));
      if (!previous && !(expires > Date.now())) return 'ExpiresAt must be in the future';
      return nameProblem('token name', token.Name);
    },
  },
});
