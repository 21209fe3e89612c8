import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where built tools live, outside the repository: `$THREEPORT_CACHE`, default ~/.cache/threeport. */
export function cacheRoot(): string {
  return resolve(process.env.THREEPORT_CACHE || join(homedir(), '.cache', 'threeport'));
}
