import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntimeError } from './errors.ts';
import { cacheRoot } from './cache.ts';

let found: string | undefined;

/**
 * A Node.js that runs TypeScript directly (22.18+), for the background processes of the local runtime and the test bed.
 * This process's Node may be older: vitest, for one, transforms TypeScript itself and runs on
 * Node 20. Then `node` on PATH, then the Node.js that scripts/toolchain.sh put in the cache.
 */
export function typeScriptNode(): string {
  if (found) return found;
  const candidates = [process.execPath, 'node', ...cachedNodes()];
  found = candidates.find(stripsTypes);
  if (!found) {
    throw new LocalRuntimeError(
      `the test bed's background processes need Node.js 22.18 or newer (it runs TypeScript directly); this is ${process.version}. ` +
        'Use scripts/run.sh, which brings its own, or put a newer node first on PATH.',
    );
  }
  return found;
}

function stripsTypes(node: string): boolean {
  if (node === process.execPath && process.features.typescript) return true;
  const probe = spawnSync(node, ['-p', 'Boolean(process.features.typescript)'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === 'true';
}

function cachedNodes(): string[] {
  try {
    return readdirSync(cacheRoot())
      .filter((entry) => entry.startsWith('node-'))
      .sort()
      .reverse()
      .map((entry) => join(cacheRoot(), entry, 'bin', 'node'))
      .filter((path) => existsSync(path));
  } catch {
    return [];
  }
}
