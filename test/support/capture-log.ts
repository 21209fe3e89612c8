/** A logger whose lines a test can read back (pino JSON, parsed), for assertions on what was logged. */
import { pino } from 'pino';
import type { Logger } from '../../src/log.ts';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export const WARN = 40;

export function captureLogger(level: 'debug' | 'info' | 'warn' = 'debug'): { logger: Logger; lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines, text: () => lines.map((line) => JSON.stringify(line)).join('\n') };
}
