/**
 * `tptctl apply`: creates or updates each object of the files by name, in dependency order, and
 * says what happened to each (created / updated / unchanged). Only the fields a file sets are
 * managed: fields it leaves out keep their value. `dryRun` reports the same without writing.
 */
import { isStaleVersion, type ApiClient } from '../../client/api-client.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import { CliError, messageOf } from '../errors.ts';
import { humanName } from '../kind-names.ts';
import type { ObjectSpec } from '../documents/object-spec.ts';
import type { Terminal } from '../output/terminal.ts';
import type { CreatedObject } from './create.ts';
import { changedFields } from './diff.ts';
import { PLANNED_ID, Resolver } from './resolve.ts';

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  spec: ObjectSpec;
  outcome: ApplyOutcome;
  changed: string[];
  object?: CreatedObject;
  /** What was (or in a dry run, would be) written, references resolved. */
  payload?: ApiObject;
}

const depths = new Map<string, number>();
/** How many references deep a kind sits: a kind comes after every kind it references. */
export function kindDepth(kind: Kind, seen: Set<string> = new Set()): number {
  const known = depths.get(kind.name);
  if (known !== undefined) return known;
  seen.add(kind.name);
  let depth = 0;
  for (const field of Object.values(kind.fields)) {
    if (field.kind !== 'scalar' || !field.references || seen.has(field.references)) continue;
    depth = Math.max(depth, 1 + kindDepth(registry.get(field.references), seen));
  }
  seen.delete(kind.name);
  depths.set(kind.name, depth);
  return depth;
}

/** Dependency order: stable, so objects of one kind keep the files' order. */
export function dependencyOrder(specs: ObjectSpec[]): ObjectSpec[] {
  return specs.map((spec, index) => ({ spec, index })).sort((a, b) => kindDepth(a.spec.kind) - kindDepth(b.spec.kind) || a.index - b.index).map(({ spec }) => spec);
}

const refersToPlanned = (payload: ApiObject): boolean => Object.values(payload).includes(PLANNED_ID);

export async function applyAll(client: ApiClient, specs: ObjectSpec[], options: { dryRun: boolean; cipher?: FieldCipher; terminal: Terminal }): Promise<ApplyResult[]> {
  const seen = new Set<string>();
  for (const spec of specs) {
    const key = `${spec.kind.name}/${spec.name}`;
    if (seen.has(key)) throw new CliError(`${spec.source.locate(spec.path)}: ${humanName(spec.kind.name)} ${spec.name} appears more than once in the files`);
    seen.add(key);
  }
  const resolver = new Resolver(client);
  const results: ApplyResult[] = [];
  const suffix = options.dryRun ? ' (dry run)' : '';
  for (const spec of dependencyOrder(specs)) {
    const label = `${humanName(spec.kind.name)} ${spec.name}`;
    const kindClient = client.kind(spec.kind.name);
    try {
      const payload = await resolver.payload(spec);
      const existing = await resolver.find(spec.kind.name, spec.name);
      if (!existing) {
        if (options.dryRun) {
          // The API checks it as it would a real create, unless it names objects the dry run only plans.
          if (!refersToPlanned(payload)) await kindClient.create(payload, { dryRun: true });
          resolver.planned.add(`${spec.kind.name}/${spec.name}`);
        }
        const object = options.dryRun ? undefined : await kindClient.create(payload);
        if (object) resolver.remember(spec.kind.name, object);
        options.terminal.print(`${label} created${suffix}`);
        results.push({ spec, outcome: 'created', changed: [], payload, ...(object && { object: { kind: spec.kind.name, object } }) });
        continue;
      }
      if (existing.DeletionScheduled) throw new CliError('it is being deleted; wait until it is gone, then apply again');
      let current = existing;
      let changed = changedFields(spec.kind, payload, current, options.cipher);
      let object: ApiObject | undefined;
      for (let attempt = 1; changed.length > 0 && !object; attempt++) {
        const patch = Object.fromEntries(changed.map((key) => [key, payload[key]]));
        // A controller only hears about an update of an unreconciled object.
        if (spec.kind.controller) patch.Reconciled = false;
        if (options.dryRun && !refersToPlanned(patch)) await kindClient.update(current.ID as number, patch, { version: current.Version as number, dryRun: true });
        try {
          object = options.dryRun ? current : await kindClient.update(current.ID as number, patch, { version: current.Version as number });
        } catch (error) {
          // Written meanwhile (a controller's status): what to change is worked out again on the fresh object.
          if (!isStaleVersion(error) || attempt >= 3) throw error;
          current = await kindClient.get(current.ID as number);
          if (current.DeletionScheduled) throw new CliError('it is being deleted; wait until it is gone, then apply again');
          changed = changedFields(spec.kind, payload, current, options.cipher);
        }
      }
      if (!object) {
        options.terminal.print(`${label} unchanged${suffix}`);
        results.push({ spec, outcome: 'unchanged', changed, object: { kind: spec.kind.name, object: current } });
        continue;
      }
      resolver.remember(spec.kind.name, object);
      options.terminal.print(`${label} updated (${changed.join(', ')})${suffix}`);
      results.push({ spec, outcome: 'updated', changed, payload, object: { kind: spec.kind.name, object } });
    } catch (error) {
      const done = results.filter((result) => result.outcome !== 'unchanged').length;
      throw new CliError(`failed to apply ${label}: ${messageOf(error)}${done ? ` (${done} object(s) before it were already ${options.dryRun ? 'planned' : 'applied'}; apply again once fixed)` : ''}`, { cause: error });
    }
  }
  return results;
}
