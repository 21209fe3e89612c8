/**
 * The cluster side of `apply --dry-run`: for each workload definition whose manifests would
 * change and each workload instance that would be created or changed, a WorkloadPlan asks the
 * workload controller what the clusters would do (a server-side apply dry run of the rendered
 * resources against the live ones). Prints each affected instance and a diff per resource, then
 * removes the plans.
 */
import { stringify } from 'yaml';
import { isNotFound, type ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import type { PlannedChange } from '../../model/kinds/workload.ts';
import { CliError } from '../errors.ts';
import type { Terminal } from '../output/terminal.ts';
import type { ApplyResult } from './apply.ts';
import { unifiedDiff } from './line-diff.ts';
import { PLANNED_ID } from './resolve.ts';

interface PlanRequest {
  Target: 'WorkloadDefinition' | 'WorkloadInstance';
  TargetName: string;
  Proposed: ApiObject;
}

/** The plans the apply's results call for. */
export function planRequests(results: readonly ApplyResult[]): PlanRequest[] {
  const definitionYaml = new Map(results.filter((result) => result.spec.kind.name === 'WorkloadDefinition').map((result) => [result.spec.name, result.payload?.YAMLDocument]));
  const requests: PlanRequest[] = [];
  for (const result of results) {
    const { kind, name } = result.spec;
    if (kind.name === 'WorkloadDefinition' && result.outcome === 'updated' && result.changed.includes('YAMLDocument')) {
      requests.push({ Target: 'WorkloadDefinition', TargetName: name, Proposed: { YAMLDocument: result.payload?.YAMLDocument } });
    }
    if (kind.name === 'WorkloadInstance' && result.outcome !== 'unchanged' && result.payload) {
      const { WorkloadDefinitionID, KubernetesRuntimeInstanceID, Overrides, Images } = result.payload;
      const definition = result.spec.references.find((reference) => reference.target === 'WorkloadDefinition')?.name;
      const yaml = definition !== undefined ? definitionYaml.get(definition) : undefined;
      requests.push({
        Target: 'WorkloadInstance',
        TargetName: name,
        Proposed: {
          ...(WorkloadDefinitionID !== PLANNED_ID && { WorkloadDefinitionID }),
          ...(KubernetesRuntimeInstanceID !== PLANNED_ID && { KubernetesRuntimeInstanceID }),
          ...(Overrides !== undefined && { Overrides }),
          ...(Images !== undefined && { Images }),
          ...(typeof yaml === 'string' && { YAMLDocument: yaml, DefinitionName: definition }),
        },
      });
    }
  }
  return requests;
}

export async function printPlans(client: ApiClient, requests: readonly PlanRequest[], terminal: Terminal, timeoutMs = 60_000): Promise<void> {
  const plans = client.kind('WorkloadPlan');
  for (const request of requests) {
    const created = await plans.create(request as never);
    try {
      const plan = await finished(client, Number(created.ID), timeoutMs);
      const label = request.Target === 'WorkloadDefinition' ? `workload definition ${request.TargetName}` : `workload instance ${request.TargetName}`;
      terminal.print(`\nIn the clusters, ${label}: ${String(plan.Summary)}`);
      for (const change of (plan.Changes ?? []) as PlannedChange[]) terminal.print(describeChange(change));
    } finally {
      await plans.delete(Number(created.ID)).catch(() => undefined);
    }
  }
}

async function finished(client: ApiClient, id: number, timeoutMs: number): Promise<ApiObject> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const plan = await client
      .kind('WorkloadPlan')
      .get(id)
      .catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (!plan) throw new CliError('the plan was deleted before the workload controller answered');
    if (plan.Summary !== undefined) return plan;
    if (/^Failed/.test(String(plan.Status ?? ''))) throw new CliError(`the workload controller could not plan it: ${String(plan.Status)}`);
    if (Date.now() > deadline) throw new CliError(`the workload controller did not answer the plan within ${timeoutMs / 1000}s (${String(plan.Status ?? 'is it running?')}); the API objects above were checked`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const MARKS: Record<string, string> = { create: '+', update: '~', delete: '-', unchanged: '=' };

function describeChange(change: PlannedChange): string {
  const where = `${change.Instance}${change.Runtime ? ` on ${change.Runtime}` : ''}`;
  if (!change.Resource) return `  ! ${where}: ${change.Problem ?? 'no plan'}`;
  const head = `  ${MARKS[change.Action ?? ''] ?? '!'} ${change.Resource} (${where}): ${change.Action ?? 'refused'}${change.Problem ? ` — ${change.Problem}` : ''}`;
  if (change.Action !== 'update') return head;
  const diff = unifiedDiff(stringify(change.Before ?? {}, { lineWidth: 0 }), stringify(change.After ?? {}, { lineWidth: 0 }));
  return [head, ...diff.map((line) => `      ${line}`)].join('\n');
}
