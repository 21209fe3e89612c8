/**
 * TerraformInstance: the real terraform applies its definition's configuration with its variables
 * and its AWS account's credentials, one run at a time per instance (the instance's lock). The
 * state and outputs are kept in the instance, encrypted by the API — never on a disk the runs
 * share — including the state of an apply that failed half-way, so nothing it made is forgotten.
 * A change of the variables or of the configuration applies again (the original ignored both).
 * With a workload instance, the outputs go to the workload as a Secret (WorkloadSecretName, else
 * named after the instance), one key per output (the original left users to copy them by hand). Deleting destroys what the
 * state holds and removes the Secret.
 */
import { isNotFound } from '../../client/api-client.ts';
import { RetryableError, TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { TerraformError, type ApplyResult, type Terraform, type TerraformOutput } from '../../platform/terraform/index.ts';
import { accessOf } from '../shared/aws-account.ts';
import { deliverSecret, withdrawSecret, type Deliverer } from '../shared/delivered-secret.ts';
import { controlPlaneIdOf, readyRuntime } from '../shared/runtime-cluster.ts';
import { workloadNamespaceOf } from '../shared/workload-namespace.ts';

export type TerraformInstance = ObjectOf<'TerraformInstance'>;

export const APPLIED = 'Applied';
export const TERRAFORM_LABEL = 'control-plane.threeport.io/terraform-instance';

export interface TerraformSettings {
  /** The terraform the controller runs (found or installed on first use). */
  terraform: () => Promise<Terraform>;
}

interface DeliveredTo {
  KubernetesRuntimeInstanceID: number;
  Namespace: string;
  Name: string;
}

export function terraformInstanceReconciler(settings: TerraformSettings): Reconciler<TerraformInstance> {
  return {
    kind: 'TerraformInstance',
    statusCondition: APPLIED,
    // One apply can take long (a database, a cluster): its lock and its worker are held meanwhile.
    timeoutMs: 1_800_000,
    maxRetryDelayMs: 300_000,
    async reconcile(context) {
      return context.operation === 'Deleted' ? destroy(context, settings) : apply(context, settings);
    },
  };
}

/** The account's credentials and region for the AWS provider, as its standard environment variables. */
async function awsEnvironment(context: ReconcileContext<TerraformInstance>): Promise<Record<string, string>> {
  const account = await context.client.kind('AwsAccount').get(context.object.AwsAccountID);
  const { resolveCredentials } = await import('../../platform/aws/credentials.ts'); // with STS's client: loaded on use
  const credentials = await resolveCredentials(accessOf(account, (value) => context.decrypt(value)));
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken && { AWS_SESSION_TOKEN: credentials.sessionToken }),
    AWS_REGION: account.DefaultRegion,
    AWS_DEFAULT_REGION: account.DefaultRegion,
  };
}

const decrypted = (context: ReconcileContext<TerraformInstance>, value: unknown): string | undefined => (typeof value === 'string' && value ? String(context.decrypt(value)) : undefined);

async function apply(context: ReconcileContext<TerraformInstance>, settings: TerraformSettings): Promise<ReconcileOutcome> {
  const instance = context.object;
  const definition = await context.client.kind('TerraformDefinition').get(instance.TerraformDefinitionID);
  const terraform = await settings.terraform().catch((error: unknown) => {
    throw new RetryableError(`no terraform to run: ${(error as Error).message}`);
  });
  let result: ApplyResult;
  try {
    result = await terraform.apply({
      configuration: definition.ConfigDir,
      variables: decrypted(context, instance.VarsDocument),
      state: decrypted(context, instance.StateDocument),
      env: await awsEnvironment(context),
      signal: context.signal,
    });
  } catch (error) {
    if (!(error instanceof TerraformError)) throw error;
    // What a failed apply made is in its state: kept, so the next apply or the destroy knows of it.
    if (error.state) await context.update({ StateDocument: error.state });
    throw isConfigurationError(error.message) ? new TerminalError(error.message) : new RetryableError(error.message);
  }
  await context.update({ StateDocument: result.state, Outputs: JSON.stringify(result.outputs) });
  const delivered = await deliverOutputs(context, result.outputs);
  const names = Object.keys(result.outputs);
  await context.setCondition({
    Type: APPLIED,
    Status: 'True',
    Reason: APPLIED,
    Message: `${result.resources} resource(s) in its state${names.length ? `; outputs ${names.join(', ')}` : ''}${delivered ? `; delivered as Secret ${delivered.Namespace}/${delivered.Name}` : ''}`,
  });
  return undefined;
}

/** Mistakes in the configuration or the variables: applying again without a change cannot help. */
const isConfigurationError = (message: string): boolean =>
  /Unsupported (argument|block type|attribute)|Missing required (argument|provider)|Invalid (reference|expression|value for (input )?variable)|Reference to undeclared|No value for required variable|Argument or block definition required|Unclosed configuration block|Incompatible provider version/.test(message);

/** The outputs as a Secret of the workload's, where the instance says; the one delivered before elsewhere is removed. */
async function deliverOutputs(context: ReconcileContext<TerraformInstance>, outputs: Record<string, TerraformOutput>): Promise<DeliveredTo | undefined> {
  const instance = context.object;
  const previous = instance.OutputsSecret as DeliveredTo | undefined;
  let target: DeliveredTo | undefined;
  if (instance.WorkloadInstanceID !== undefined) {
    const workload = await context.client.kind('WorkloadInstance').get(instance.WorkloadInstanceID);
    const namespace = await workloadNamespaceOf(context.client, workload);
    if (!namespace) throw new RetryableError(`workload instance ${workload.Name} is not deployed yet: the outputs go into its namespace`);
    target = { KubernetesRuntimeInstanceID: workload.KubernetesRuntimeInstanceID, Namespace: namespace, Name: instance.WorkloadSecretName || secretNameOf(instance.Name) };
  }
  const controlPlaneId = await controlPlaneIdOf(context.client);
  if (previous && JSON.stringify(previous) !== JSON.stringify(target)) await withdraw(context, previous, controlPlaneId);
  if (target) {
    const runtime = await readyRuntime(context.client, target.KubernetesRuntimeInstanceID, (value) => context.decrypt(value));
    if ('waiting' in runtime) throw new RetryableError(`the outputs wait for the workload's runtime: ${runtime.waiting}`);
    const data = Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, typeof output.value === 'string' ? output.value : JSON.stringify(output.value)]));
    await deliverSecret(runtime.cluster, { namespace: target.Namespace, name: target.Name, data }, deliverer(instance, controlPlaneId), context.signal);
  }
  if (JSON.stringify(previous) !== JSON.stringify(target)) await context.update({ OutputsSecret: target ?? null });
  return target;
}

/** The instance's name as a Secret's: lower case, only letters, digits, - and . */
const secretNameOf = (name: string): string => name.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, 253) || 'terraform-outputs';

const deliverer = (instance: TerraformInstance, controlPlaneId: string): Deliverer => ({ label: TERRAFORM_LABEL, value: String(instance.ID), description: `terraform instance ${instance.Name}`, controlPlaneId });

async function withdraw(context: ReconcileContext<TerraformInstance>, delivered: DeliveredTo, controlPlaneId: string): Promise<void> {
  const runtime = await readyRuntime(context.client, delivered.KubernetesRuntimeInstanceID, (value) => context.decrypt(value)).catch((error: unknown) => {
    if (isNotFound(error) || error instanceof TerminalError) return undefined; // the runtime, and the Secret with it, is going
    throw error;
  });
  if (!runtime) return;
  if ('waiting' in runtime) throw new RetryableError(`cannot reach the runtime to remove the outputs' Secret ${delivered.Namespace}/${delivered.Name}: ${runtime.waiting}`);
  await withdrawSecret(runtime.cluster, { namespace: delivered.Namespace, name: delivered.Name }, deliverer(context.object, controlPlaneId), context.signal);
}

async function destroy(context: ReconcileContext<TerraformInstance>, settings: TerraformSettings): Promise<ReconcileOutcome> {
  const instance = context.object;
  const delivered = instance.OutputsSecret as DeliveredTo | undefined;
  if (delivered) await withdraw(context, delivered, await controlPlaneIdOf(context.client));
  const state = decrypted(context, instance.StateDocument);
  if (!state) return undefined;
  const definition = await context.client.kind('TerraformDefinition').get(instance.TerraformDefinitionID);
  const terraform = await settings.terraform();
  try {
    const left = await terraform.destroy({ configuration: definition.ConfigDir, variables: decrypted(context, instance.VarsDocument), state, env: await awsEnvironment(context), signal: context.signal });
    if (left !== undefined) await context.update({ StateDocument: left });
  } catch (error) {
    if (!(error instanceof TerraformError)) throw error;
    if (error.state) await context.update({ StateDocument: error.state });
    throw new RetryableError(error.message);
  }
  return undefined;
}
