import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { identify, isRunning, type ProcessIdentity } from './process-identity.ts';
import { report } from './progress.ts';

/**
 * Runs `work` while holding an exclusive lock file, so two processes never build the same tool
 * at once. The lock names its holder; a lock whose holder died is taken over.
 */
export async function withFileLock<T>(path: string, what: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const me = identify(process.pid);
  if (!me) throw new Error('cannot find this process in the process table');
  let announced = false;
  let unreadableSince: number | undefined;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    // A lock nobody can read for long was left half-written by a process that died at once.
    unreadableSince = holder ? undefined : (unreadableSince ?? Date.now());
    const abandoned = unreadableSince !== undefined && Date.now() - unreadableSince > 5_000;
    if ((holder && !isRunning(holder)) || abandoned) {
      rmSync(path, { force: true });
      unreadableSince = undefined;
      continue;
    }
    if (!announced) {
      report(`waiting for process ${holder?.pid ?? '?'}, which is ${what}`);
      announced = true;
    }
    await sleep(500);
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}

function readHolder(path: string): ProcessIdentity | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ProcessIdentity;
  } catch {
    // Being written right now, or gone: look again shortly.
    return undefined;
  }
}
