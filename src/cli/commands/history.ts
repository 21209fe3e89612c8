/**
 * What git gave GitOps users, from the revisions the API keeps of every write: `tptctl history`
 * lists an object's revisions (who, when, what changed), `tptctl diff` shows what changed between
 * two of them (YAML documents line by line), `tptctl rollback` writes an earlier revision's
 * desired state as a new revision — history is never rewritten. Only desired state is compared
 * and restored: what controllers report, and encrypted values (never returned), are left out.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Command } from 'commander';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { commandName, humanName, kindNamed } from '../kind-names.ts';
import { unifiedDiff } from '../operations/line-diff.ts';
import { formatAge, renderTable } from '../output/table.ts';
import { action, examples } from './run.ts';

interface Revision {
  Version: number;
  Operation: string;
  RecordedAt: string;
  Actor?: string;
  Object: ApiObject;
}

/** The fields a user writes: what a revision's desired state is. */
function desiredFields(kind: Kind): string[] {
  return Object.entries(kind.fields)
    .filter(([name, field]) => field.kind === 'scalar' && field.owner === undefined && !field.encrypted && name !== 'Reconciled')
    .map(([name]) => kind.jsonKey(name));
}

async function objectAndRevisions(context: CliContext, kindName: string, name: string): Promise<{ kind: Kind; object: ApiObject; revisions: Revision[] }> {
  const kind = kindNamed(kindName);
  const client = context.client().kind(kind.name);
  const object = await client.findByName(name);
  if (!object) throw new CliError(`no ${humanName(kind.name)} named ${name}`);
  const revisions: Revision[] = [];
  for (let page = 1; ; page++) {
    const batch = (await client.revisions(Number(object.ID), { page, size: 500 })) as Revision[];
    revisions.push(...batch);
    if (batch.length < 500) break;
  }
  return { kind, object, revisions: revisions.sort((a, b) => a.Version - b.Version) };
}

const changedKeys = (keys: readonly string[], before: ApiObject | undefined, after: ApiObject): string[] => keys.filter((key) => !isDeepStrictEqual(before?.[key] ?? null, after[key] ?? null));

function revisionNumbered(revisions: readonly Revision[], version: number, kind: Kind, name: string): Revision {
  const revision = revisions.find((candidate) => candidate.Version === version);
  if (!revision) throw new CliError(`${humanName(kind.name)} ${name} has no revision ${version}: its revisions are ${revisions[0]?.Version ?? '?'} to ${revisions.at(-1)?.Version ?? '?'} (tptctl history ${commandName(kind.name)} ${name})`);
  return revision;
}

const parseRevision = (text: string, flag: string): number => {
  if (!/^\d+$/.test(text)) throw new CliError(`${flag} takes a revision number (see tptctl history), not "${text}"`);
  return Number(text);
};

async function history(kindName: string, name: string, options: { all?: boolean }, context: CliContext): Promise<void> {
  const { kind, revisions } = await objectAndRevisions(context, kindName, name);
  const keys = desiredFields(kind);
  const rows = revisions.map((revision, index) => {
    const previous = index > 0 ? revisions[index - 1]!.Object : undefined;
    const changed = revision.Operation === 'Created' ? ['created'] : changedKeys(keys, previous, revision.Object);
    return { revision, changed };
  });
  // What controllers report (Status, conditions) is a revision too: shown only when asked for.
  const shown = options.all ? rows : rows.filter(({ revision, changed }) => changed.length > 0 || revision.Operation !== 'Updated');
  context.terminal.print(
    renderTable(
      ['REVISION', 'OPERATION', 'AGE', 'WHO', 'DESIRED STATE CHANGED'],
      shown.map(({ revision, changed }) => [String(revision.Version), revision.Operation, formatAge(revision.RecordedAt), revision.Actor ?? '-', changed.join(', ') || '(status only)']),
    ),
  );
  const hidden = rows.length - shown.length;
  if (hidden > 0) context.terminal.info(`${hidden} revision(s) that changed only what controllers report are not shown (--all shows them)`);
}

/** A field's change: YAML documents (several lines) as a line diff, other values as before → after. */
function fieldDiff(key: string, before: unknown, after: unknown): string[] {
  const multiline = (value: unknown): value is string => typeof value === 'string' && value.includes('\n');
  if (multiline(before) || multiline(after)) return [`${key}:`, ...unifiedDiff(typeof before === 'string' ? before : '', typeof after === 'string' ? after : '').map((line) => `  ${line}`)];
  return [`${key}: ${JSON.stringify(before ?? null)} → ${JSON.stringify(after ?? null)}`];
}

async function diff(kindName: string, name: string, options: { revision?: string; to?: string }, context: CliContext): Promise<void> {
  const { kind, revisions } = await objectAndRevisions(context, kindName, name);
  const latest = revisions.at(-1);
  if (!latest) throw new CliError(`${humanName(kind.name)} ${name} has no revisions`);
  const to = options.to ? revisionNumbered(revisions, parseRevision(options.to, '--to'), kind, name) : latest;
  // By default, the last revision before `to` with another desired state: what the latest change was.
  const keys = desiredFields(kind);
  const fromVersion = options.revision
    ? parseRevision(options.revision, '--revision')
    : revisions.slice(0, revisions.indexOf(to)).reverse().find((revision) => changedKeys(keys, revision.Object, to.Object).length > 0)?.Version;
  if (fromVersion === undefined) {
    context.terminal.info(`the desired state of ${humanName(kind.name)} ${name} has not changed since it was created (revision ${revisions[0]!.Version}); tptctl history ${commandName(kind.name)} ${name} lists its revisions`);
    return;
  }
  const from = revisionNumbered(revisions, fromVersion, kind, name);
  const changed = changedKeys(keys, from.Object, to.Object);
  if (changed.length === 0) {
    context.terminal.info(`the desired state of ${humanName(kind.name)} ${name} is the same at revisions ${from.Version} and ${to.Version}`);
    return;
  }
  const lines = [`${humanName(kind.name)} ${name}: revision ${from.Version} → ${to.Version}`];
  for (const key of changed) lines.push(...fieldDiff(key, from.Object[key], to.Object[key]));
  context.terminal.print(lines.join('\n'));
}

async function rollback(kindName: string, name: string, options: { to: string }, context: CliContext): Promise<void> {
  const { kind, object, revisions } = await objectAndRevisions(context, kindName, name);
  const target = revisionNumbered(revisions, parseRevision(options.to, '--to'), kind, name);
  const changed = changedKeys(desiredFields(kind), target.Object, object);
  if (changed.length === 0) {
    context.terminal.info(`${humanName(kind.name)} ${name} already has revision ${target.Version}'s desired state`);
    return;
  }
  const patch = Object.fromEntries(changed.map((key) => [key, target.Object[key] ?? null]));
  // With the version read: a change made since is a conflict, not overwritten.
  const updated = await context.client().kind(kind.name).update(Number(object.ID), patch, { version: Number(object.Version) });
  context.terminal.complete(`${humanName(kind.name)} ${name} rolled back to revision ${target.Version}'s desired state (${changed.join(', ')}), as revision ${String(updated.Version)}`);
}

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description("List an object's revisions: who changed its desired state, when, and which fields")
    .argument('<kind>', 'kind of the object, e.g. workload-definition')
    .argument('<name>', 'name of the object')
    .option('--all', 'also the revisions that changed only what controllers report (Status, conditions)')
    .addHelpText('after', examples(['tptctl history workload-definition wordpress', 'tptctl history helm-workload-instance wordpress-prod --all']))
    .action(action<{ all?: boolean }>((options, context, args) => history(args[0]!, args[1]!, options, context)));
  program
    .command('diff')
    .description("Show what changed in an object's desired state between two revisions (YAML documents line by line)")
    .argument('<kind>', 'kind of the object, e.g. workload-definition')
    .argument('<name>', 'name of the object')
    .option('--revision <n>', 'the revision to compare from (default: the last one before --to with another desired state)')
    .option('--to <m>', 'the revision to compare to (default: the latest)')
    .addHelpText('after', examples(['tptctl diff workload-definition wordpress', 'tptctl diff workload-definition wordpress --revision 2 --to 5']))
    .action(action<{ revision?: string; to?: string }>((options, context, args) => diff(args[0]!, args[1]!, options, context)));
  program
    .command('rollback')
    .description("Write an earlier revision's desired state as a new revision (history is never rewritten); encrypted values are not rolled back")
    .argument('<kind>', 'kind of the object, e.g. workload-definition')
    .argument('<name>', 'name of the object')
    .requiredOption('--to <n>', 'the revision whose desired state to go back to (see tptctl history)')
    .addHelpText('after', examples(['tptctl rollback workload-definition wordpress --to 3']))
    .action(action<{ to: string }>((options, context, args) => rollback(args[0]!, args[1]!, options, context)));
}
