/**
 * The roles users, groups and tokens are given. What each may do is decided in one place
 * (auth/permissions.ts) from the kinds' owner families; here only their names, which the model
 * checks RoleBindings and ApiTokens against.
 */
import { controllerGroups, type ControllerGroupName } from './controller-groups.ts';

export const personRoles = ['admin', 'platform', 'developer', 'viewer', 'delivery'] as const;

/** `controller` is every controller group at once (the all-in-one process); `controller:<group>` one group. */
export const serviceRoles = ['agent', 'controller', ...Object.keys(controllerGroups).map((group) => `controller:${group}`)] as const;

export const roleNames: readonly string[] = [...personRoles, ...serviceRoles];

export type RoleName = (typeof personRoles)[number] | 'agent' | 'controller' | `controller:${ControllerGroupName}`;

export const isRoleName = (value: string): value is RoleName => roleNames.includes(value);
