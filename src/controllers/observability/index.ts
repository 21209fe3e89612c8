/** The observability controller's reconcilers: stacks, and the parts they are made of. */
import type { Reconciler } from '../../controller/reconciler.ts';
import { partDefinitionReconciler, partInstanceReconciler, parts, type ControlPlaneAccess } from './components.ts';
import { stackDefinitionReconciler, stackInstanceReconciler } from './stack.ts';

export interface ObservabilitySettings {
  /** How often work waiting on releases looks again. @default 5000 */
  pollIntervalMs?: number;
  /** threeport's own processes, scraped by the stack on the runtime that hosts the control plane. */
  controlPlane?: ControlPlaneAccess;
}

export function observabilityReconcilers(settings: ObservabilitySettings = {}): Reconciler[] {
  const pollMs = settings.pollIntervalMs ?? 5000;
  return [
    stackDefinitionReconciler(pollMs),
    stackInstanceReconciler(pollMs),
    ...Object.values(parts).flatMap((part) => [partDefinitionReconciler(part, pollMs), partInstanceReconciler(part, { pollMs, ...(settings.controlPlane && { controlPlane: settings.controlPlane }) })]),
  ] as Reconciler[];
}

export type { ControlPlaneAccess } from './components.ts';
