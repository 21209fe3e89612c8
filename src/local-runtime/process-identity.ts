import { readFileSync } from 'node:fs';

/**
 * A process as the kernel knows it: its pid and the clock tick it started at. The start time
 * tells a recorded process apart from an unrelated one that later got the same pid.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

export function identify(pid: number): ProcessIdentity | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie is as good as gone
    const startTime = fields[19];
    return startTime ? { pid, startTime } : undefined;
  } catch {
    return undefined;
  }
}

export function isRunning(process: ProcessIdentity): boolean {
  return identify(process.pid)?.startTime === process.startTime;
}

/** The process group of a running process, or undefined if it is gone. */
export function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]);
  } catch {
    return undefined;
  }
}

export function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}
