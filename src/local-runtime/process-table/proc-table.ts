import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessEntry, ProcessTable } from './table.ts';

/** Linux's /proc: a file read per question, no process started. */
export const procTable: ProcessTable = {
  name: 'proc',

  read(pid) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, parent, processGroup] = fields;
    const startTime = fields[19]; // clock ticks since boot
    if (!state || !startTime) return undefined;
    return { state, startTime, processGroup: Number(processGroup), parent: Number(parent) } satisfies ProcessEntry;
  },

  commandLine(pid) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return [];
    }
  },

  withEnvironment(variable, matches) {
    const prefix = `${variable}=`;
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      let environment: string;
      try {
        environment = readFileSync(`/proc/${pid}/environ`, 'latin1');
      } catch {
        continue;
      }
      const setting = environment.split('\0').find((line) => line.startsWith(prefix));
      if (setting !== undefined && matches(setting.slice(prefix.length))) found.push(pid);
    }
    return found;
  },
};
