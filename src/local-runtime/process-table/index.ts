import { existsSync } from 'node:fs';
import { procTable } from './proc-table.ts';
import { psTable } from './ps-table.ts';
import type { ProcessTable } from './table.ts';

export type { ProcessEntry, ProcessTable } from './table.ts';

let hasProc: boolean | undefined;
const procAvailable = (): boolean => (hasProc ??= existsSync('/proc/self/stat'));

/**
 * /proc where the system has it (Linux: fast, no process started), ps elsewhere (macOS, BSD).
 * THREEPORT_PROCESS_TABLE=ps forces the portable one, to try it on Linux.
 */
export function processTable(): ProcessTable {
  return process.env.THREEPORT_PROCESS_TABLE !== 'ps' && procAvailable() ? procTable : psTable;
}

/** The table a recorded start time came from, so an identity is checked the way it was made. */
export function tableOfStartTime(startTime: string): ProcessTable {
  return !startTime.startsWith('ps:') && procAvailable() ? procTable : psTable;
}
