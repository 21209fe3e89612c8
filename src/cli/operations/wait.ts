/**
 * `--wait`: polls until objects get where progress.ts says they should (reconciled; a workload
 * instance Healthy, a runtime Ready), or are gone. It shows the Status line as it changes: a
 * spinner on a terminal, a line per change otherwise. A controller giving up (Failed) ends the
 * wait at once; the timeout names what is still pending and why.
 */
import { isNotFound, type ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import { CliError } from '../errors.ts';
import { commandName, humanName } from '../kind-names.ts';
import { formatDuration } from '../output/table.ts';
import type { Terminal } from '../output/terminal.ts';
import { progressOf, type Progress } from './progress.ts';

export interface WaitTarget {
  kind: string;
  id: number;
  name: string;
}

export type WaitFor = 'ready' | 'gone';

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Parses "90s", "5m", "1h" or a number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new CliError(`invalid duration "${text}": use e.g. 90s, 5m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  return Number(match[1]) * unit;
}

async function check(client: ApiClient, target: WaitTarget, until: WaitFor): Promise<Progress> {
  let object: ApiObject;
  try {
    object = await client.kind(target.kind).get(target.id);
  } catch (error) {
    if (isNotFound(error)) return until === 'gone' ? { state: 'done', summary: 'deleted' } : { state: 'failed', reason: 'it was deleted while waiting' };
    throw error;
  }
  if (until === 'gone') return { state: 'pending', reason: object.DeletionScheduled ? 'deletion scheduled, waiting for a controller to clean up' : 'not deleted' };
  return progressOf(target.kind, object);
}

export interface WaitOptions {
  until: WaitFor;
  timeoutMs: number;
  terminal: Terminal;
  /** Print an Info line as each object gets there. */
  announce?: boolean;
  intervalMs?: number;
}

const labelOf = (target: WaitTarget): string => `${humanName(target.kind)} ${target.name}`;

export async function waitFor(client: ApiClient, targets: WaitTarget[], options: WaitOptions): Promise<void> {
  const { until, timeoutMs, terminal, intervalMs = 500 } = options;
  // Kinds no controller reconciles are done as soon as they are written.
  let remaining = targets.filter((target) => until === 'gone' || registry.get(target.kind).controller !== undefined);
  const deadline = Date.now() + timeoutMs;
  const tty = Boolean(terminal.err.isTTY);
  const reported = new Map<string, string>();
  let frame = 0;
  try {
    while (remaining.length > 0) {
      const states = await Promise.all(remaining.map(async (target) => ({ target, progress: await check(client, target, until) })));
      for (const { target, progress } of states) {
        const label = labelOf(target);
        if (progress.state === 'failed') throw new CliError(`${label} failed: ${progress.reason.replace(/^Failed: /, '')}`, { hint: `see what happened with: tptctl describe ${commandName(target.kind)} --name ${target.name}` });
        if (progress.state === 'done') {
          if (tty) terminal.err.write('\r\x1b[K');
          if (options.announce) terminal.info(`${label} ${progress.summary}`);
        } else if (!tty && reported.get(label) !== progress.reason) {
          terminal.err.write(`waiting: ${label}: ${progress.reason}\n`);
          reported.set(label, progress.reason);
        }
      }
      const pending = states.flatMap(({ target, progress }) => (progress.state === 'pending' ? [{ target, reason: progress.reason }] : []));
      remaining = pending.map(({ target }) => target);
      if (remaining.length === 0) break;
      if (Date.now() > deadline) {
        const list = pending.map(({ target, reason }) => `${labelOf(target)} (${reason})`).join(', ');
        throw new CliError(`timed out after ${formatDuration(timeoutMs)} waiting for: ${list}`, { hint: 'wait longer with --timeout, e.g. --timeout 10m' });
      }
      if (tty) {
        const first = pending[0]!;
        const others = pending.length > 1 ? ` (and ${pending.length - 1} more)` : '';
        const line = `${frames[frame++ % frames.length]} ${labelOf(first.target)}: ${first.reason}${others}`;
        // A line longer than the terminal wraps, and \r would then clear only its last row.
        const width = terminal.err.columns || 80;
        terminal.err.write(`\r\x1b[K${line.length < width ? line : `${line.slice(0, Math.max(1, width - 2))}…`}`);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    if (tty) terminal.err.write('\r\x1b[K');
  }
}
