/**
 * `tptctl delete`: by name, or every object a config file stands for (an abstraction's objects in
 * reverse creation order, going on past errors and reporting them all, as the original did).
 * Reconcilable kinds are deleted in two phases: the first DELETE schedules the deletion and a
 * controller removes the object once it has cleaned up.
 */
import { isNotFound, type ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import { CliError, messageOf } from '../errors.ts';
import { humanName } from '../kind-names.ts';
import type { Terminal } from '../output/terminal.ts';
import { waitFor } from './wait.ts';

export interface DeleteTarget {
  kind: string;
  name: string;
}

export type DeleteOutcome = 'deleted' | 'scheduled' | 'missing';

export async function deleteOne(client: ApiClient, target: DeleteTarget): Promise<{ outcome: DeleteOutcome; object?: ApiObject }> {
  const kindClient = client.kind(target.kind);
  const existing = await kindClient.findByName(target.name);
  if (!existing) return { outcome: 'missing' };
  if (existing.DeletionScheduled) return { outcome: 'scheduled', object: existing };
  const result = await kindClient.delete(existing.ID as number);
  if (!kindClient.kind.controller) return { outcome: 'deleted', object: result };
  try {
    await kindClient.get(existing.ID as number);
    return { outcome: 'scheduled', object: result };
  } catch (error) {
    if (isNotFound(error)) return { outcome: 'deleted', object: result };
    throw error;
  }
}

export interface DeleteOptions {
  terminal: Terminal;
  /** Wait until each object is gone; otherwise only the last step waits for what blocks it. */
  wait: boolean;
  timeoutMs: number;
  /** Print an Info line per object (abstractions), else only the Complete line. */
  announce: boolean;
  /** Before each Info line, e.g. "rolled back: ". */
  prefix?: string;
}

/** Deletes the targets in the given order; returns the problems (empty when all went well). */
export async function deleteAll(client: ApiClient, targets: DeleteTarget[], options: DeleteOptions): Promise<string[]> {
  const problems: string[] = [];
  let deletedAny = false;
  for (const [index, target] of targets.entries()) {
    const label = `${humanName(target.kind)} ${target.name}`;
    try {
      const { outcome, object } = await deleteOne(client, target);
      if (outcome === 'missing') {
        // Deleting an earlier part may take this one with it (an EKS runtime instance its runtime instance).
        if (deletedAny && options.announce) options.terminal.info(`${options.prefix ?? ''}${label} already gone`);
        else problems.push(`${label} not found`);
        continue;
      }
      deletedAny = true;
      // Later objects (a definition) can only go once this one (its instance) is gone.
      const mustWait = outcome === 'scheduled' && (options.wait || index < targets.length - 1);
      if (mustWait) await waitFor(client, [{ kind: target.kind, id: object!.ID as number, name: target.name }], { until: 'gone', timeoutMs: options.timeoutMs, terminal: options.terminal });
      const done = outcome === 'deleted' || mustWait ? 'deleted' : 'scheduled for deletion';
      if (options.announce) options.terminal.info(`${options.prefix ?? ''}${label} ${done}`);
      else options.terminal.complete(`${label} ${done}`);
    } catch (error) {
      problems.push(`${label}: ${messageOf(error)}`);
    }
  }
  return problems;
}

export function deletionError(what: string, problems: string[]): CliError {
  return new CliError(`failed to delete ${what}:\n  ${problems.join('\n  ')}`);
}
