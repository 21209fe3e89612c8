/**
 * What each role may do, decided from the kinds' owner families and the controller groups alone:
 * adding a kind or a group adds its permissions, with no list of routes to keep in step.
 */
import { controllerGroups, type ControllerGroupName } from '../model/controller-groups.ts';
import type { Kind, OwnerFamily } from '../model/kind.ts';
import { personRoles, type RoleName } from '../model/roles.ts';

export type Verb = 'read' | 'create' | 'update' | 'delete';

interface Grant {
  /** Families whose objects it reads (every verb needs read but delivery's create). */
  reads: readonly OwnerFamily[];
  /** Families it writes (create, update, delete). */
  writes: readonly OwnerFamily[];
  /** Families it may only create in. */
  creates?: readonly OwnerFamily[];
  /** Sees encrypted fields' ciphertext, not the redaction placeholder. */
  secrets: boolean;
  /** Writes what controllers own: Status, Conditions, Creation*, Deletion*, Reconciled=true. */
  controllerFields: boolean;
}

const ALL_BUT_ACCESS: readonly OwnerFamily[] = ['platform', 'developer', 'report', 'delivery'];

const grants: Record<Exclude<RoleName, `controller:${string}`>, Grant> = {
  admin: { reads: [...ALL_BUT_ACCESS, 'access'], writes: [...ALL_BUT_ACCESS, 'access'], secrets: true, controllerFields: true },
  platform: { reads: ALL_BUT_ACCESS, writes: ['platform', 'developer'], secrets: true, controllerFields: false },
  developer: { reads: ALL_BUT_ACCESS, writes: ['developer'], secrets: false, controllerFields: false },
  viewer: { reads: ALL_BUT_ACCESS, writes: [], secrets: false, controllerFields: false },
  delivery: { reads: [], writes: [], creates: ['delivery'], secrets: false, controllerFields: false },
  agent: { reads: ALL_BUT_ACCESS, writes: ['report'], secrets: false, controllerFields: true },
  controller: { reads: ALL_BUT_ACCESS, writes: ['platform', 'developer', 'report'], secrets: true, controllerFields: true },
};

/** A controller group's identity: the kinds it reconciles, what it writes of others', what controllers report. */
function groupWrites(group: ControllerGroupName, kind: Kind): boolean {
  return kind.owners === 'report' || kind.controller?.name === group || controllerGroups[group].alsoWrites.includes(kind.name);
}

function allowedByRole(role: RoleName, kind: Kind, verb: Verb): boolean {
  if (role.startsWith('controller:')) {
    const group = role.slice('controller:'.length) as ControllerGroupName;
    return verb === 'read' ? kind.owners !== 'access' : groupWrites(group, kind);
  }
  const grant = grants[role as keyof typeof grants];
  if (verb === 'read') return grant.reads.includes(kind.owners);
  if (role === 'agent' && verb === 'update' && kind.reportedByAgents) return true;
  return grant.writes.includes(kind.owners) || (verb === 'create' && (grant.creates ?? []).includes(kind.owners));
}

const grantOf = (role: RoleName): Grant => grants[(role.startsWith('controller:') ? 'controller' : role) as keyof typeof grants];

export const allows = (roles: readonly RoleName[], kind: Kind, verb: Verb): boolean => roles.some((role) => allowedByRole(role, kind, verb));

/** Allowed only as an agent reporting live state: the write may touch controller-owned fields only. */
export const reportsOnly = (roles: readonly RoleName[], kind: Kind, verb: Verb): boolean =>
  verb === 'update' && kind.reportedByAgents && roles.includes('agent') && !allows(roles.filter((role) => role !== 'agent'), kind, verb);
export const seesSecrets = (roles: readonly RoleName[]): boolean => roles.some((role) => grantOf(role).secrets);
/** Whether the roles read a kind's hidden fields (their ciphertext): its controllers only. */
export const readsHiddenFields = (roles: readonly RoleName[], kind: Kind): boolean => roles.some((role) => role === 'controller' || (kind.controller !== undefined && role === `controller:${kind.controller.name}`));
export const writesControllerFields = (roles: readonly RoleName[]): boolean => roles.some((role) => grantOf(role).controllerFields);

/** The person roles that would allow it, for the message of a 403. */
export function rolesAllowing(kind: Kind, verb: Verb): RoleName[] {
  return personRoles.filter((role) => allowedByRole(role, kind, verb));
}
