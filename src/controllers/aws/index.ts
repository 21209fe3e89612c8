/** The AWS controller: accounts, EKS runtimes, and the databases and buckets of workloads. */
import type { Reconciler } from '../../controller/reconciler.ts';
import { awsAccountReconciler, type AwsAccountSettings } from './aws-account.ts';
import { eksRuntimeInstanceReconciler, type EksSettings } from './eks-runtime-instance.ts';
import { objectStorageBucketInstanceReconciler } from './object-storage-bucket-instance.ts';
import type { ManagedServiceSettings } from './managed-services.ts';
import { relationalDatabaseInstanceReconciler } from './relational-database-instance.ts';

export interface AwsSettings {
  account?: AwsAccountSettings;
  eks?: EksSettings;
  /** Databases and buckets. */
  services?: ManagedServiceSettings;
}

export function awsReconcilers(settings: AwsSettings = {}): Reconciler[] {
  return [
    awsAccountReconciler(settings.account),
    eksRuntimeInstanceReconciler(settings.eks),
    relationalDatabaseInstanceReconciler(settings.services),
    objectStorageBucketInstanceReconciler(settings.services),
  ] as Reconciler[];
}
