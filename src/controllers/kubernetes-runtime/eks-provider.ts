/**
 * EKS as a runtime's provider. A definition gets its AwsEksKubernetesRuntimeDefinition (the
 * account, zones and node group its NodeProfile, NodeSize and NodeMaximum stand for) unless one
 * was written for it already; a runtime without connection details gets its
 * AwsEksKubernetesRuntimeInstance, which the AWS controller provisions and then connects the
 * runtime to. Deleting a runtime deletes its EKS instance and waits until the cluster is gone.
 * Only the API is used here: the AWS controller is the one that talks to AWS.
 */
import { isBeingDeleted, isConflict, isNotFound } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext } from '../../controller/reconciler.ts';
import { locations } from '../../model/kinds/kubernetes-runtime.ts';
import { nodeInstanceTypes } from '../../model/machine-sizes.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import type { RuntimeInstance } from '../shared/runtime-cluster.ts';
import type { RuntimeProvider } from './providers.ts';

type EksInstance = ObjectOf<'AwsEksKubernetesRuntimeInstance'>;

/** How soon a runtime whose cluster is being made looks again (the AWS controller's writes wake it sooner). */
const PROVISIONING_CHECK_MS = 60_000;
const FIRST_CHECK_MS = 10_000;
/** A token with less than this left has the AWS controller make a new one now. */
const TOKEN_DUE_MS = 120_000;

export const eksProvider: RuntimeProvider = {
  async definition(context) {
    const { client: api } = context;
    const definition = context.object;
    const existing = await api.kind('AwsEksKubernetesRuntimeDefinition').listAll({ kubernetesruntimedefinitionid: definition.ID });
    if (existing.length > 0) return undefined;
    const named = definition.InfraProviderAccountName;
    const account = named ? await api.kind('AwsAccount').findByName(named) : (await api.kind('AwsAccount').list({ defaultaccount: true }, { size: 1 })).objects[0];
    if (!account) {
      return { waiting: named ? `AWS account ${named} (its InfraProviderAccountName) does not exist: create it` : 'no AWS account to make its clusters in: create an AwsAccount with DefaultAccount true, or name one in InfraProviderAccountName' };
    }
    const instanceType = nodeInstanceTypes[definition.NodeProfile]?.[definition.NodeSize];
    if (!instanceType) throw new TerminalError(`no EC2 instance type for NodeProfile ${definition.NodeProfile} and NodeSize ${definition.NodeSize}`);
    await api.kind('AwsEksKubernetesRuntimeDefinition').apply(
      { kubernetesruntimedefinitionid: definition.ID },
      {
        Name: definition.Name,
        AWSAccountID: account.ID,
        ZoneCount: definition.HighAvailability ? 3 : 2,
        DefaultNodeGroupInstanceType: instanceType,
        DefaultNodeGroupInitialSize: 2,
        DefaultNodeGroupMinimumSize: 1,
        DefaultNodeGroupMaximumSize: Math.max(2, definition.NodeMaximum),
        KubernetesRuntimeDefinitionID: definition.ID,
      },
    );
    // Its runtime instances may be waiting for these settings to make their clusters.
    for (const runtime of await api.referrers('KubernetesRuntimeDefinition', definition.ID, 'KubernetesRuntimeInstance')) {
      await context.requestReconcile('KubernetesRuntimeInstance', Number(runtime.ID), `runtime definition ${definition.Name} has its EKS settings`);
    }
    return undefined;
  },

  async removeDefinition(context) {
    for (const eks of await context.client.kind('AwsEksKubernetesRuntimeDefinition').listAll({ kubernetesruntimedefinitionid: context.object.ID })) {
      try {
        await context.client.kind('AwsEksKubernetesRuntimeDefinition').delete(eks.ID);
      } catch (error) {
        if (isNotFound(error)) continue;
        // Its instances (clusters being torn down) still refer to it.
        if (isConflict(error)) return { waiting: `its EKS definition ${eks.Name} still has clusters being removed`, requeueAfterMs: 10_000 };
        throw error;
      }
    }
    return undefined;
  },

  async provision(context) {
    const eks = (await eksInstanceOf(context)) ?? (await makeEksInstance(context));
    if ('waiting' in eks) return eks;
    // Its first outcome (often a problem with the account) comes within seconds: say it soon.
    return { waiting: `its EKS cluster is being made by the AWS controller (AwsEksKubernetesRuntimeInstance ${eks.Name}: ${eks.Status ?? 'not started yet'})`, requeueAfterMs: eks.Status ? PROVISIONING_CHECK_MS : FIRST_CHECK_MS };
  },

  async refresh(context) {
    const expiresAt = Date.parse(String(context.object.ConnectionTokenExpiration ?? ''));
    if (!Number.isFinite(expiresAt) || expiresAt - Date.now() > TOKEN_DUE_MS) return;
    const eks = await eksInstanceOf(context);
    if (eks) await context.requestReconcile('AwsEksKubernetesRuntimeInstance', eks.ID, 'the runtime’s token expires soon');
  },

  async clusterGoing(context) {
    const eks = await eksInstanceOf(context);
    return !eks || Boolean(eks.DeletionScheduled);
  },

  async deprovision(context) {
    const eks = await eksInstanceOf(context);
    if (!eks) return undefined;
    if (!eks.DeletionScheduled) {
      await context.client
        .kind('AwsEksKubernetesRuntimeInstance')
        .delete(eks.ID)
        .catch((error: unknown) => (isNotFound(error) || isBeingDeleted(error) ? undefined : Promise.reject(error)));
    }
    return { waiting: `its EKS cluster is being removed (AwsEksKubernetesRuntimeInstance ${eks.Name}: ${eks.Status ?? 'starting'})`, requeueAfterMs: 15_000 };
  },
};

async function eksInstanceOf(context: ReconcileContext<RuntimeInstance>): Promise<EksInstance | undefined> {
  const found = await context.client.kind('AwsEksKubernetesRuntimeInstance').listAll({ kubernetesruntimeinstanceid: context.object.ID });
  return found[0];
}

async function makeEksInstance(context: ReconcileContext<RuntimeInstance>): Promise<EksInstance | { waiting: string; requeueAfterMs?: number }> {
  const runtime = context.object;
  const region = locations[runtime.Location];
  if (!region) throw new TerminalError(`an EKS runtime needs a Location in an AWS region, not ${runtime.Location}: use e.g. NorthAmerica:NewYork (us-east-1)`);
  const definitionId = runtime.KubernetesRuntimeDefinitionID;
  const [eksDefinition] = await context.client.kind('AwsEksKubernetesRuntimeDefinition').listAll({ kubernetesruntimedefinitionid: definitionId });
  if (!eksDefinition) {
    const definition = await context.client.kind('KubernetesRuntimeDefinition').get(definitionId);
    return { waiting: `runtime definition ${definition.Name} is getting its EKS settings (${definition.Status ?? 'not reconciled yet'})`, requeueAfterMs: 5_000 };
  }
  const { object } = await context.client.kind('AwsEksKubernetesRuntimeInstance').apply(
    { kubernetesruntimeinstanceid: runtime.ID },
    { Name: runtime.Name, Region: region, AwsEksKubernetesRuntimeDefinitionID: eksDefinition.ID, KubernetesRuntimeInstanceID: runtime.ID },
  );
  return object;
}

