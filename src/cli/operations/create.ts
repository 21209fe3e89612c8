/**
 * `tptctl create`: creates the objects of a config in order. When a later object fails, the ones
 * already created are deleted again in reverse order (the original's operation list rollback).
 */
import { ApiRequestError, type ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import { CliError, messageOf } from '../errors.ts';
import { humanName } from '../kind-names.ts';
import type { ObjectSpec } from '../documents/object-spec.ts';
import type { Terminal } from '../output/terminal.ts';
import { deleteAll } from './delete.ts';
import { Resolver } from './resolve.ts';

/** How long a rollback waits for a scheduled deletion before deleting what it depends on. */
const ROLLBACK_TIMEOUT_MS = 60_000;

export interface CreatedObject {
  kind: string;
  object: ApiObject;
}

/** Creates every spec in order; `announce` prints an Info line per object (abstractions). */
export async function createAll(client: ApiClient, specs: ObjectSpec[], terminal: Terminal, announce: boolean): Promise<CreatedObject[]> {
  const resolver = new Resolver(client);
  const created: CreatedObject[] = [];
  for (const spec of specs) {
    const label = `${humanName(spec.kind.name)} ${spec.name}`;
    try {
      const object = await client.kind(spec.kind.name).create(await resolver.payload(spec));
      resolver.remember(spec.kind.name, object);
      created.push({ kind: spec.kind.name, object });
      if (announce) terminal.info(`${label} created`);
    } catch (error) {
      const reason = error instanceof ApiRequestError && error.status === 409 ? `${messageOf(error)} (it already exists; use tptctl apply to update it)` : messageOf(error);
      if (created.length === 0) throw new CliError(`failed to create ${label}: ${reason}`, { cause: error });
      terminal.info(`failed to create ${label}; rolling back the ${created.length} object(s) created before it`);
      const problems = await deleteAll(
        client,
        created.map(({ kind, object }) => ({ kind, name: String(object.Name) })).reverse(),
        { terminal, wait: false, timeoutMs: ROLLBACK_TIMEOUT_MS, announce: true, prefix: 'rolled back: ' },
      );
      const leftovers = problems.length ? `; rollback left these behind: ${problems.join('; ')}` : '';
      throw new CliError(`failed to create ${label}: ${reason}${leftovers}`, { cause: error });
    }
  }
  return created;
}
