/**
 * A delivery policy's environments, in promotion order, and the gate each one's build must pass
 * before it goes to the next: healthy for a soak time, a person's approval, a time window (UTC).
 * Checked when the policy is written, so the controller only ever reads well-formed ones.
 */

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TimeWindow {
  /** Days the window is open (UTC); every day when left out. */
  Days?: Weekday[];
  /** `HH:MM`, UTC. */
  Start: string;
  /** `HH:MM`, UTC; before Start means the window runs past midnight. */
  End: string;
}

export interface Gate {
  /** Healthy for this long, without a break, before promotion. */
  SoakSeconds?: number;
  /** A person says go: `tptctl approve`. */
  Approval?: boolean;
  /** Promote only while this window is open. */
  Window?: TimeWindow;
}

export interface Environment {
  Name: string;
  /** Workload instances of this environment, by name. */
  WorkloadInstances?: string[];
  /** Helm workload instances of this environment, by name. */
  HelmWorkloadInstances?: string[];
  /** A tier: the workloads of the applications in it (nested ones included) are this environment's too. */
  Tier?: string;
  /** What a build must pass here before it goes to the next environment. */
  Gate?: Gate;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The environments, or what is wrong with them (a 400's message). */
export function parseEnvironments(value: unknown): Environment[] | { problem: string } {
  if (!Array.isArray(value) || value.length === 0) return { problem: 'Environments must be a non-empty list of {Name, WorkloadInstances, HelmWorkloadInstances, Tier, Gate}' };
  const names = new Set<string>();
  const instances = new Map<string, string>();
  for (const [index, environment] of value.entries()) {
    const where = `Environments[${index}]`;
    if (!isRecord(environment)) return { problem: `${where} must be an object` };
    const unknown = Object.keys(environment).filter((key) => !['Name', 'WorkloadInstances', 'HelmWorkloadInstances', 'Tier', 'Gate'].includes(key));
    if (unknown.length > 0) return { problem: `${where} has unknown field(s) ${unknown.join(', ')}; an environment has Name, WorkloadInstances, HelmWorkloadInstances, Tier and Gate` };
    if (environment.Tier !== undefined && (typeof environment.Tier !== 'string' || environment.Tier === '')) return { problem: `${where}.Tier must be the name of a tier` };
    const { Name: name } = environment;
    if (typeof name !== 'string' || !NAME.test(name)) return { problem: `${where}.Name must be a lowercase name like "staging"` };
    if (names.has(name)) return { problem: `environment ${name} is listed twice` };
    names.add(name);
    for (const key of ['WorkloadInstances', 'HelmWorkloadInstances'] as const) {
      const list = environment[key];
      if (list === undefined) continue;
      if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'string' && entry !== '')) return { problem: `${where}.${key} must be a list of instance names` };
      for (const instance of list as string[]) {
        const id = `${key}/${instance}`;
        const other = instances.get(id);
        if (other !== undefined) return { problem: `${key === 'WorkloadInstances' ? 'workload' : 'helm workload'} instance ${instance} is in environments ${other} and ${name}: an instance belongs to one environment` };
        instances.set(id, name);
      }
    }
    const gateProblem = environment.Gate === undefined ? undefined : gateProblemOf(environment.Gate, `${where}.Gate`);
    if (gateProblem) return { problem: gateProblem };
  }
  return value as Environment[];
}

function gateProblemOf(gate: unknown, where: string): string | undefined {
  if (!isRecord(gate)) return `${where} must be an object with SoakSeconds, Approval and/or Window`;
  const unknown = Object.keys(gate).filter((key) => !['SoakSeconds', 'Approval', 'Window'].includes(key));
  if (unknown.length > 0) return `${where} has unknown field(s) ${unknown.join(', ')}; a gate has SoakSeconds, Approval and Window`;
  if (gate.SoakSeconds !== undefined && !(Number.isSafeInteger(gate.SoakSeconds) && (gate.SoakSeconds as number) >= 0)) return `${where}.SoakSeconds must be a whole number of seconds`;
  if (gate.Approval !== undefined && typeof gate.Approval !== 'boolean') return `${where}.Approval must be true or false`;
  if (gate.Window === undefined) return undefined;
  const window = gate.Window;
  if (!isRecord(window)) return `${where}.Window must be {Days, Start, End}`;
  if (typeof window.Start !== 'string' || !CLOCK.test(window.Start)) return `${where}.Window.Start must be HH:MM (UTC)`;
  if (typeof window.End !== 'string' || !CLOCK.test(window.End)) return `${where}.Window.End must be HH:MM (UTC)`;
  if (window.Start === window.End) return `${where}.Window must not start and end at the same time`;
  if (window.Days !== undefined && !(Array.isArray(window.Days) && window.Days.every((day) => (WEEKDAYS as readonly unknown[]).includes(day)))) {
    return `${where}.Window.Days must list days among ${WEEKDAYS.join(', ')}`;
  }
  return undefined;
}

const minutesOf = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3));

/** Whether the window is open at `now`, and if not, when it next opens. */
export function windowState(window: TimeWindow, now: Date): { open: true } | { open: false; opensAt: Date } {
  const isOpenAt = (time: Date): boolean => {
    const minute = time.getUTCHours() * 60 + time.getUTCMinutes();
    const start = minutesOf(window.Start);
    const end = minutesOf(window.End);
    // A window past midnight belongs to the day it started on.
    const started = start < end ? minute >= start && minute < end : minute >= start || minute < end;
    if (!started) return false;
    const day = new Date(time.getTime() - (start > end && minute < end ? 86_400_000 : 0)).getUTCDay();
    return window.Days === undefined || window.Days.includes(WEEKDAYS[day]!);
  };
  if (isOpenAt(now)) return { open: true };
  const next = new Date(now);
  next.setUTCSeconds(0, 0);
  for (let step = 0; step < 8 * 24 * 60; step++) {
    next.setTime(next.getTime() + 60_000);
    if (isOpenAt(next)) return { open: false, opensAt: next };
  }
  return { open: false, opensAt: new Date(now.getTime() + 7 * 86_400_000) };
}
