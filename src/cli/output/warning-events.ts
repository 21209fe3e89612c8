/**
 * The warning events of an object for `tptctl describe`: what its controller reported (Events
 * attached to it, e.g. DriftDetected, FailedCreate) and, for workload instances, what the cluster
 * said about its resources (WorkloadEvents, e.g. FailedScheduling). Repeats are shown once with
 * their count, newest first, and only the latest few.
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject } from '../../model/kind.ts';

export interface WarningEvent {
  type: string;
  reason: string;
  message: string;
  time?: string;
  count: number;
}

export interface WarningDigest {
  events: WarningEvent[];
  /** Distinct warnings left out (older than those shown). */
  omitted: number;
}

export const MAX_WARNINGS = 10;

const timeOf = (event: WarningEvent): number => (event.time ? Date.parse(event.time) || 0 : 0);

/** Deduplicated by type, reason and message (counts added up, the latest time kept), newest first, at most `limit`. */
export function warningDigest(events: readonly WarningEvent[], limit = MAX_WARNINGS): WarningDigest {
  const byKey = new Map<string, WarningEvent>();
  for (const event of events) {
    const key = `${event.type}\u0000${event.reason}\u0000${event.message}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...event });
    else byKey.set(key, { ...(timeOf(event) > timeOf(seen) ? event : seen), count: seen.count + event.count });
  }
  const sorted = [...byKey.values()].sort((a, b) => timeOf(b) - timeOf(a));
  return { events: sorted.slice(0, limit), omitted: Math.max(0, sorted.length - limit) };
}

const count = (value: unknown): number => (typeof value === 'number' && value > 0 ? value : 1);
const isWarning = (event: ApiObject): boolean => event.Type !== 'Normal';

export async function warningEvents(client: ApiClient, kind: string, id: number): Promise<WarningDigest> {
  const events: WarningEvent[] = [];
  for (const event of await client.eventsOf(id)) {
    if (!isWarning(event)) continue;
    events.push({ type: String(event.Type), reason: String(event.Reason), message: String(event.Note ?? ''), time: String(event.LastObservedTime), count: count(event.Count) });
  }
  const owner = kind === 'WorkloadInstance' ? 'workloadinstanceid' : kind === 'HelmWorkloadInstance' ? 'helmworkloadinstanceid' : undefined;
  if (owner) {
    for (const event of await client.kind('WorkloadEvent').listAll({ [owner]: id })) {
      if (!isWarning(event)) continue;
      events.push({ type: String(event.Type), reason: String(event.Reason), message: String(event.Message), time: String(event.Timestamp), count: count(event.Count) });
    }
  }
  return warningDigest(events);
}
