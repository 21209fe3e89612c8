/**
 * A workload instance's health from its resources' live state: Healthy when every one is ready,
 * Down when a workload has no ready replica, Unhealthy otherwise — with which resource is how.
 */
import type { ConditionUpdate } from '../model/conditions.ts';
import type { Manifest } from '../model/manifest.ts';
import { healthOf } from '../model/resource-health.ts';
import type { WatchedEntry } from './watch-plan.ts';

export const HEALTHY = 'Healthy';
const MAX_DETAILS = 4;

const nameOf = (entry: WatchedEntry): string => `${entry.kind} ${entry.name}`;

export function instanceHealth(entries: readonly WatchedEntry[], live: (entry: WatchedEntry) => Manifest | undefined): ConditionUpdate {
  const down: string[] = [];
  const unhealthy: string[] = [];
  for (const entry of entries) {
    const object = live(entry);
    if (!object) {
      unhealthy.push(`${nameOf(entry)}: missing`);
      continue;
    }
    const health = healthOf(object);
    if (health.readiness === 'Down') down.push(`${nameOf(entry)}: ${health.message}`);
    else if (health.readiness !== 'Ready') unhealthy.push(`${nameOf(entry)}: ${health.message}`);
  }
  const details = [...down, ...unhealthy];
  const message = details.slice(0, MAX_DETAILS).join('; ') + (details.length > MAX_DETAILS ? `; and ${details.length - MAX_DETAILS} more` : '');
  if (down.length > 0) return { Type: HEALTHY, Status: 'False', Reason: 'Down', Message: message };
  if (unhealthy.length > 0) return { Type: HEALTHY, Status: 'False', Reason: 'Unhealthy', Message: message };
  return { Type: HEALTHY, Status: 'True', Reason: 'Healthy', Message: `${entries.length} resource(s) ready` };
}
