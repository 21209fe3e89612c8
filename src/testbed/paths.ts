import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository this code is part of. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runtime state of test beds started from this checkout (gitignored). */
export const stateRoot = join(repoRoot, '.testbed');

/** The instance `npm run testbed -- up` manages unless told otherwise. */
export const defaultInstanceDir = join(stateRoot, 'default');

/** Private instances that test runs start for themselves. */
export const testRunsDir = join(stateRoot, 'runs');
