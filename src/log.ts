import { pino, type Logger } from 'pino';

export type { Logger };

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** JSON logs on stderr. Secrets never reach here: nothing logs request bodies or object fields. */
export function createLogger(level: LogLevel = 'info', name = 'threeport'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false }));
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
