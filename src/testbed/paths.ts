import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where built tools live, outside the repository: `$THREEPORT_CACHE`, default ~/.cache/threeport. */
export function cacheRoot(): string {
  return resolve(process.env.THREEPORT_CACHE || join(homedir(), '.cache', 'threeport'));
}

/** The repository this code is part of. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runtime state of test beds started from this checkout (gitignored). */
export const stateRoot = join(repoRoot, '.testbed');

/** The instance `npm run testbed -- up` manages unless told otherwise. */
export const defaultInstanceDir = join(stateRoot, 'default');

/** Private instances that test runs start for themselves. */
export const testRunsDir = join(stateRoot, 'runs');
