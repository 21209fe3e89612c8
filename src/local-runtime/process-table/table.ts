/** What the operating system tells about a process, read through /proc or through ps. */
export interface ProcessEntry {
  /** A one-letter state; Z is a zombie (exited, not yet reaped). */
  state: string;
  /** When it started, in the table's own format; compared only with values from the same table. */
  startTime: string;
  processGroup: number;
  parent: number;
}

export interface ProcessTable {
  name: 'proc' | 'ps';
  read(pid: number): ProcessEntry | undefined;
  /** Its arguments; [] when it is gone. */
  commandLine(pid: number): string[];
  /** Processes whose environment sets `variable` to a value that `matches` accepts. */
  withEnvironment(variable: string, matches: (value: string) => boolean): number[];
}
