import type { Reconciler } from '../controller/reconciler.ts';
import { controllerGroups, type ControllerGroupName } from '../model/controller-groups.ts';

/**
 * The reconcilers of each controller group. Each domain's folder (src/controllers/<group>/) adds
 * its reconcilers here as they are written; a group without any runs no consumers.
 */
const reconcilers: Readonly<Record<ControllerGroupName, readonly Reconciler[]>> = {
  workload: [],
  'helm-workload': [],
  'kubernetes-runtime': [],
  aws: [],
  gateway: [],
  terraform: [],
  observability: [],
  secret: [],
  'control-plane': [],
};

export const groupNames = Object.keys(controllerGroups) as ControllerGroupName[];

export const isGroupName = (name: string): name is ControllerGroupName => name in controllerGroups;

export function reconcilersOf(groups: readonly ControllerGroupName[]): Reconciler[] {
  return groups.flatMap((group) => reconcilers[group]);
}
