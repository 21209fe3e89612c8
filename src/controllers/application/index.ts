/** The application controller's reconcilers. */
import type { Reconciler } from '../../controller/reconciler.ts';
import { applicationReconciler, type ApplicationSettings } from './application.ts';

export function applicationReconcilers(settings: ApplicationSettings = {}): Reconciler[] {
  return [applicationReconciler(settings)] as Reconciler[];
}

export type { ApplicationSettings } from './application.ts';
