import type { Reconciler } from '../../controller/reconciler.ts';
import { deliveryReconciler, type DeliverySettings } from './delivery.ts';
import { imageBuildReconciler } from './image-build.ts';

export type { DeliverySettings } from './delivery.ts';

export const deliveryReconcilers = (settings: DeliverySettings = {}): Reconciler[] => [imageBuildReconciler(), deliveryReconciler(settings)] as Reconciler[];
