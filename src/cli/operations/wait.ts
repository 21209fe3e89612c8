/**
 * `--wait`: polls until objects are reconciled (or gone), with a spinner on a terminal and plain
 * progress lines otherwise. A controller reporting CreationFailed ends the wait with its status.
 */
import { isNotFound, type ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import { CliError } from '../errors.ts';
import { humanName } from '../kind-names.ts';
import type { Terminal } from '../output/terminal.ts';

export interface WaitTarget {
  kind: string;
  id: number;
  name: string;
}

export type WaitFor = 'reconciled' | 'gone';

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Parses "90s", "5m", "1h" or a number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new CliError(`invalid duration "${text}": use e.g. 90s, 5m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  return Number(match[1]) * unit;
}

/** Why the object is not there yet, or undefined when it is. */
async function pending(client: ApiClient, target: WaitTarget, until: WaitFor): Promise<string | undefined> {
  let object: ApiObject;
  try {
    object = await client.kind(target.kind).get(target.id);
  } catch (error) {
    if (isNotFound(error)) return until === 'gone' ? undefined : 'deleted while waiting';
    throw error;
  }
  if (until === 'gone') return object.DeletionScheduled ? 'deletion scheduled, waiting for a controller to clean up' : 'not deleted';
  if (object.CreationFailed) throw new CliError(`${humanName(target.kind)} ${target.name} failed: ${String(object.Status ?? 'a controller reported CreationFailed')}`);
  if (object.Reconciled === true) return undefined;
  return object.Status ? String(object.Status) : 'waiting for a controller to reconcile';
}

export interface WaitOptions {
  until: WaitFor;
  timeoutMs: number;
  terminal: Terminal;
  /** Print an Info line as each object gets there. */
  announce?: boolean;
  intervalMs?: number;
}

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
      const states = await Promise.all(remaining.map(async (target) => ({ target, reason: await pending(client, target, until) })));
      for (const { target, reason } of states) {
        const label = `${humanName(target.kind)} ${target.name}`;
        if (reason === undefined) {
          if (tty) terminal.err.write('\r\x1b[K');
          if (options.announce) terminal.info(`${label} ${until === 'gone' ? 'deleted' : 'reconciled'}`);
        } else if (!tty && reported.get(label) !== reason) {
          terminal.err.write(`waiting: ${label}: ${reason}\n`);
          reported.set(label, reason);
        }
      }
      remaining = states.filter((state) => state.reason !== undefined).map((state) => state.target);
      if (remaining.length === 0) break;
      if (Date.now() > deadline) {
        const list = states.filter((s) => s.reason).map((s) => `${humanName(s.target.kind)} ${s.target.name} (${s.reason})`).join(', ');
        throw new CliError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for: ${list}`);
      }
      if (tty) {
        const first = states.find((s) => s.reason)!;
        terminal.err.write(`\r\x1b[K${frames[frame++ % frames.length]} waiting for ${remaining.length} object(s): ${humanName(first.target.kind)} ${first.target.name}: ${first.reason}`);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    if (tty) terminal.err.write('\r\x1b[K');
  }
}
