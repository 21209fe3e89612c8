/**
 * Where threeport is installed (the repository, or the npm package): the nearest folder above
 * this module holding bin/threeport.js. Files that run or are read at run time (helm's
 * post-renderer, kwok's stages, the storage provisioner) are found from it, so they are the same
 * whether this code runs from the sources or from a bundle in dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined;

export function installRoot(): string {
  if (root) return root;
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'threeport.js'))) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`cannot find bin/threeport.js above ${import.meta.dirname}`);
  }
}

/** A file of the sources, e.g. `platform/helm/post-render.ts`. */
export const sourcePath = (relative: string): string => join(installRoot(), 'src', relative);
