/**
 * The AWS controller: accounts, EKS runtimes, and the databases and buckets of workloads. Each
 * reconciler's work is loaded on first use: the AWS SDK's clients cost ~150 MB of memory, paid only
 * by a process that meets an AWS object.
 */
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { CREDENTIALS, READY } from './names.ts';
import type { AwsSettings } from './settings.ts';

export type { AwsSettings } from './settings.ts';

/** A handler loaded the first time it is called. */
function onFirstUse<T extends ApiObject, M>(load: () => Promise<M>, handler: (module: M, context: ReconcileContext<T>) => Promise<ReconcileOutcome>): (context: ReconcileContext<T>) => Promise<ReconcileOutcome> {
  let loaded: Promise<M> | undefined;
  return async (context) => handler(await (loaded ??= load()), context);
}

export function awsReconcilers(settings: AwsSettings = {}): Reconciler[] {
  const { account = {}, eks = {}, services = {} } = settings;
  const reconcilers = [
    {
      kind: 'AwsAccount',
      statusCondition: CREDENTIALS,
      resyncIntervalMs: account.checkIntervalMs ?? 600_000,
      maxRetryDelayMs: 60_000,
      reconcile: onFirstUse(() => import('./aws-account.ts'), (module, context: ReconcileContext<ObjectOf<'AwsAccount'>>) => module.checkAccount(context)),
    },
    {
      kind: 'AwsEksKubernetesRuntimeInstance',
      statusCondition: READY,
      resyncIntervalMs: eks.checkIntervalMs ?? 60_000,
      maxRetryDelayMs: 120_000,
      timeoutMs: 240_000,
      reconcile: onFirstUse(() => import('./eks-runtime-instance.ts'), (module, context: ReconcileContext<ObjectOf<'AwsEksKubernetesRuntimeInstance'>>) => module.reconcileEksRuntime(context, eks)),
    },
    {
      kind: 'AwsRelationalDatabaseInstance',
      statusCondition: READY,
      resyncIntervalMs: services.checkIntervalMs ?? 300_000,
      maxRetryDelayMs: 120_000,
      reconcile: onFirstUse(() => import('./relational-database-instance.ts'), (module, context: ReconcileContext<ObjectOf<'AwsRelationalDatabaseInstance'>>) => module.reconcileDatabase(context, services)),
    },
    {
      kind: 'AwsObjectStorageBucketInstance',
      statusCondition: READY,
      resyncIntervalMs: services.checkIntervalMs ?? 300_000,
      maxRetryDelayMs: 120_000,
      reconcile: onFirstUse(() => import('./object-storage-bucket-instance.ts'), (module, context: ReconcileContext<ObjectOf<'AwsObjectStorageBucketInstance'>>) => module.reconcileBucket(context, services)),
    },
  ];
  return reconcilers;
}
