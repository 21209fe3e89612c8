/**
 * AwsEksKubernetesRuntimeInstance: an EKS cluster and everything it needs, made in AWS with its
 * definition's account. Each reconcile makes what is missing and returns while AWS works (a cluster
 * takes minutes): no worker waits on the cloud. Every resource is recorded in the instance's
 * ResourceInventory as soon as it exists, and looked for by its tags before it is made, so a crash
 * or a second replica at any point resumes without making anything twice.
 *
 * Once the cluster is ACTIVE its endpoint, CA and a bearer token (EKS's format, valid 15 minutes)
 * go to the instance's KubernetesRuntimeInstance, from where the runtime controller takes over;
 * the token is made again before it expires. Endpoint and CA are written when EKS reports them
 * first or reports new ones, never otherwise. Deleting removes everything, last made first — once
 * no workload runs on the cluster — and, once the cluster is gone, what it made in the VPC on its
 * own (its Services' load balancers), before the network goes.
 */
import { isBeingDeleted, isNotFound } from '../../client/api-client.ts';
import type { ReconcileContext, ReconcileOutcome } from '../../controller/reconciler.ts';
import { updateWithVersion } from '../../controller/write-back.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { availableZones, awsName, clusterConnection, eksToken, networkKeys, provision, removeClusterLeftovers, resizeNodeGroup, teardown, type AwsClients, type ClusterConnection, type Owner } from '../../platform/aws/index.ts';
import { awsClientsOf } from './account-clients.ts';
import { asReconcileError } from '../shared/aws-account.ts';
import { controlPlaneIdOf } from '../shared/runtime-cluster.ts';
import { eksKeys, eksSteps, type EksPlan } from './eks-stack.ts';
import { READY } from './names.ts';
import type { EksSettings } from './settings.ts';
import { decideOnce, inventoryOf, progressLine, recordingProgress, resourcesOf } from './inventory.ts';

export type EksRuntimeInstance = ObjectOf<'AwsEksKubernetesRuntimeInstance'>;
type RuntimeInstance = ObjectOf<'KubernetesRuntimeInstance'>;


/** What the instance decided once and keeps: the cluster's name, region and zones. */
interface Layout {
  clusterName: string;
  region: string;
  zones: string[];
}

export function reconcileEksRuntime(context: ReconcileContext<EksRuntimeInstance>, settings: EksSettings): Promise<ReconcileOutcome> {
  const pollMs = settings.pollIntervalMs ?? 15_000;
  return context.operation === 'Deleted' ? remove(context, pollMs) : make(context, pollMs, settings.tokenRefreshMarginMs ?? 300_000);
}

async function prerequisites(context: ReconcileContext<EksRuntimeInstance>) {
  const api = context.client;
  const definition = await api.kind('AwsEksKubernetesRuntimeDefinition').get(context.object.AwsEksKubernetesRuntimeDefinitionID);
  const account = await api.kind('AwsAccount').get(definition.AWSAccountID);
  const owner: Owner = { controlPlaneId: await controlPlaneIdOf(api), object: `AwsEksKubernetesRuntimeInstance/${context.object.ID}` };
  return { definition, account, owner, clients: awsClientsOf(account, (value) => context.decrypt(value)) };
}

function planOf(layout: Layout, definition: ObjectOf<'AwsEksKubernetesRuntimeDefinition'>): EksPlan {
  return {
    clusterName: layout.clusterName,
    region: layout.region,
    zones: layout.zones,
    nodeGroup: {
      instanceType: definition.DefaultNodeGroupInstanceType,
      initialSize: definition.DefaultNodeGroupInitialSize,
      minimumSize: definition.DefaultNodeGroupMinimumSize,
      maximumSize: definition.DefaultNodeGroupMaximumSize,
    },
  };
}

async function make(context: ReconcileContext<EksRuntimeInstance>, pollMs: number, tokenMarginMs: number): Promise<ReconcileOutcome> {
  const { definition, account, owner, clients } = await prerequisites(context);
  const instance = context.object;
  const region = await decideOnce(context, 'Region', async () => instance.Region || account.DefaultRegion);
  const clusterName = await decideOnce(context, 'ClusterName', async () => awsName([instance.Name], { max: 100 }));
  const zones = await decideOnce(context, 'Zones', () => availableZones(clients.ec2(region), account.Name, definition.ZoneCount, context.signal).catch(asReconcileError));
  const layout = { clusterName, region, zones };
  const stack = eksSteps(clients, account.Name, owner, planOf(layout, definition));
  const steps = [...stack.foundation, ...stack.cluster];
  if (!instance.CreationConfirmed) await context.acknowledgeCreation();
  // A cluster that serves its API keeps its runtime connected whatever the rest of the stack is doing.
  const connected = resourcesOf(context.object)[eksKeys.cluster] ? await connectIfServing(context, clients, layout, tokenMarginMs) : undefined;
  const outcome = await provision(steps, resourcesOf(context.object), recordingProgress(context, 'EKS runtime'), context.signal).catch(asReconcileError);
  if (!outcome.done) return { waiting: progressLine(outcome), requeueAfterMs: pollMs };
  const served = connected ?? (await connectIfServing(context, clients, layout, tokenMarginMs));
  if ('waiting' in served) return { waiting: served.waiting, requeueAfterMs: pollMs };
  const { runtime, connection } = served;
  // An edited definition's node group bounds are followed (its instance type would need a new node group).
  const nodes = { clusterName, name: String(resourcesOf(context.object)[eksKeys.nodeGroup]?.id), minimumSize: definition.DefaultNodeGroupMinimumSize, maximumSize: definition.DefaultNodeGroupMaximumSize };
  const resized = await resizeNodeGroup(clients.eks(region), account.Name, nodes, context.signal).catch(asReconcileError);
  if (resized.length > 0) await context.recordEvent({ reason: 'Resized', note: `node group ${nodes.name} follows its definition: ${resized.join(', ')}` });
  await context.setCondition({
    Type: READY,
    Status: 'True',
    Reason: READY,
    Message: `EKS cluster ${clusterName} in ${region} (${zones.join(', ')}; nodes ${definition.DefaultNodeGroupInstanceType}, ${definition.DefaultNodeGroupMinimumSize}–${definition.DefaultNodeGroupMaximumSize}) at ${connection.endpoint}, serving Kubernetes runtime ${runtime.Name}`,
  });
  return undefined;
}

/** Connects the runtime when the cluster serves its API (ACTIVE, or UPDATING). */
async function connectIfServing(context: ReconcileContext<EksRuntimeInstance>, clients: AwsClients, layout: Layout, tokenMarginMs: number): Promise<{ runtime: RuntimeInstance; connection: ClusterConnection } | { waiting: string }> {
  const connection = await clusterConnection(clients.eks(layout.region), clients.access.name, layout.clusterName, context.signal).catch(asReconcileError);
  if ('waiting' in connection) return connection;
  return { runtime: await connect(context, clients, layout, connection, tokenMarginMs), connection };
}

/**
 * Gives the runtime instance what it needs to reach the cluster: endpoint and CA when EKS reports
 * them first or reports new ones (an operator's own, e.g. a private endpoint through a proxy, is
 * left alone otherwise), and a token whenever the one it has is due.
 */
async function connect(context: ReconcileContext<EksRuntimeInstance>, clients: AwsClients, layout: Layout, connection: ClusterConnection, tokenMarginMs: number): Promise<RuntimeInstance> {
  const runtimes = context.client.kind('KubernetesRuntimeInstance');
  const runtime = await runtimes.get(context.object.KubernetesRuntimeInstanceID);
  const reported = inventoryOf(context.object).Reported as { Endpoint?: string; CACertificate?: string } | undefined;
  const fresh = reported?.Endpoint !== connection.endpoint || reported.CACertificate !== connection.caCertificate;
  const expiresAt = Date.parse(String(runtime.ConnectionTokenExpiration ?? ''));
  const tokenDue = fresh || !runtime.ConnectionToken || !(expiresAt - Date.now() > tokenMarginMs);
  if (!fresh && !tokenDue) return runtime;
  const token = tokenDue ? await eksToken(clients, layout.clusterName, layout.region) : undefined;
  const updated = await updateWithVersion(runtimes, runtime, () => ({
    ...(fresh && { APIEndpoint: connection.endpoint, CACertificate: connection.caCertificate }),
    ...(token && { ConnectionToken: token.token, ConnectionTokenExpiration: token.expiresAt.toISOString() }),
  }));
  if (fresh) {
    await context.update((current) => ({ ResourceInventory: { ...inventoryOf(current), Reported: { Endpoint: connection.endpoint, CACertificate: connection.caCertificate } } }));
  }
  if (token) context.logger.debug({ runtime: runtime.Name, expiresAt: token.expiresAt }, 'gave the runtime a new EKS token');
  return updated;
}

async function remove(context: ReconcileContext<EksRuntimeInstance>, pollMs: number): Promise<ReconcileOutcome> {
  const api = context.client;
  const runtime = await api.kind('KubernetesRuntimeInstance').get(context.object.KubernetesRuntimeInstanceID).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  if (runtime && !runtime.DeletionScheduled) {
    const workloads = [...(await api.referrers('KubernetesRuntimeInstance', runtime.ID, 'WorkloadInstance')), ...(await api.referrers('KubernetesRuntimeInstance', runtime.ID, 'HelmWorkloadInstance'))];
    if (workloads.length > 0) {
      return {
        waiting: `${workloads.length} workload instance(s) still run on Kubernetes runtime ${runtime.Name}: delete them first, or delete the runtime instance with ForceDelete true (it deletes them, then this cluster)`,
        requeueAfterMs: pollMs,
      };
    }
  }
  // Databases live in the cluster's VPC: it goes after them (they go with their workloads).
  const databases = (await api.kind('AwsRelationalDatabaseInstance').listAll()).filter((database) => inventoryOf(database).KubernetesRuntimeInstanceID === String(context.object.KubernetesRuntimeInstanceID));
  if (databases.length > 0) return { waiting: `database instance(s) ${databases.map((database) => database.Name).join(', ')} are still in the cluster's VPC`, requeueAfterMs: pollMs };
  const inventory = inventoryOf(context.object);
  const { ClusterName: clusterName, Region: region, Zones: zones } = inventory as { ClusterName?: string; Region?: string; Zones?: string[] };
  if (clusterName && region && zones) {
    const { definition, account, owner, clients } = await prerequisites(context);
    const stack = eksSteps(clients, account.Name, owner, planOf({ clusterName, region, zones }, definition));
    const progress = recordingProgress(context, 'EKS runtime');
    const total = stack.foundation.length + stack.cluster.length;
    const cluster = await teardown(stack.cluster, inventory.Resources, progress, context.signal).catch(asReconcileError);
    if (!cluster.done) return { waiting: `removing: ${cluster.waiting} (${total - cluster.ready} of ${total} left)`, requeueAfterMs: pollMs };
    const vpc = inventoryOf(context.object).Resources[networkKeys.vpc];
    if (vpc) {
      const leftovers = await removeClusterLeftovers({ elb: clients.elb(region), elbv2: clients.elbv2(region), ec2: clients.ec2(region), account: account.Name, clusterName, vpcId: vpc.id, owner }, context.signal).catch(asReconcileError);
      if (leftovers) return { waiting: leftovers, requeueAfterMs: pollMs };
    }
    const foundation = await teardown(stack.foundation, inventoryOf(context.object).Resources, progress, context.signal).catch(asReconcileError);
    if (!foundation.done) return { waiting: `removing: ${foundation.waiting} (${stack.foundation.length - foundation.ready} of ${total} left)`, requeueAfterMs: pollMs };
  }
  // The cluster is gone, and so is what the runtime instance stood for.
  if (runtime && !runtime.DeletionScheduled) {
    await api.kind('KubernetesRuntimeInstance').delete(runtime.ID).catch((error: unknown) => (isNotFound(error) || isBeingDeleted(error) ? undefined : Promise.reject(error)));
  }
  return undefined;
}
