import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Set by the bundler (scripts/build-cli.ts); absent when running from the sources.
declare const TPTCTL_VERSION: string | undefined;

/** The repository (or install) root: the nearest folder above this file holding bin/threeport.js. */
export function installRoot(): string {
  let dir = import.meta.dirname;
  for (;;) {
    if (existsSync(join(dir, 'bin', 'threeport.js'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find bin/threeport.js above the tptctl installation');
    dir = parent;
  }
}

export const CLIENT_VERSION: string =
  typeof TPTCTL_VERSION === 'string' ? TPTCTL_VERSION : `v${(JSON.parse(readFileSync(join(installRoot(), 'package.json'), 'utf8')) as { version: string }).version}`;
