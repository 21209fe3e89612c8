import { processTable, tableOfStartTime } from './process-table/index.ts';

/**
 * A process as the operating system knows it: its pid and when it started. The start time tells
 * a recorded process apart from an unrelated one that later got the same pid.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

export function identify(pid: number): ProcessIdentity | undefined {
  const entry = processTable().read(pid);
  if (!entry || entry.state === 'Z') return undefined; // a zombie is as good as gone
  return { pid, startTime: entry.startTime };
}

export function isRunning(process: ProcessIdentity): boolean {
  const entry = tableOfStartTime(process.startTime).read(process.pid);
  return entry !== undefined && entry.state !== 'Z' && entry.startTime === process.startTime;
}

/** The process group of a running process, or undefined if it is gone. */
export function processGroupOf(pid: number): number | undefined {
  return processTable().read(pid)?.processGroup;
}

/** Its parent's pid, or undefined if it is gone. */
export function parentOf(pid: number): number | undefined {
  return processTable().read(pid)?.parent;
}

export function commandLineOf(pid: number): string[] {
  return processTable().commandLine(pid);
}
