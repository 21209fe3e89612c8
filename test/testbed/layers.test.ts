/**
 * The layer rule: tptctl (src/cli) and the local runtime (src/local-runtime) never import the
 * test bed (src/testbed); the test bed builds on the local runtime, not the other way round.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/testbed/paths.ts';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file names: static imports, re-exports, import() and import types. */
function importedModules(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => match[1]!);
  return specifiers.map((specifier) => relative(repoRoot, resolve(dirname(file), specifier)));
}

describe('layers', () => {
  it.each(['src/cli', 'src/local-runtime'])('%s imports nothing from src/testbed', (folder) => {
    const offending = sources(join(repoRoot, folder)).flatMap((file) =>
      importedModules(file)
        .filter((module) => module.startsWith('src/testbed/'))
        .map((module) => `${relative(repoRoot, file)} → ${module}`),
    );
    expect(offending).toEqual([]);
  });

  it('finds the imports it checks', () => {
    // Guards the check itself: the CLI's simulated runtime does import the local runtime.
    expect(importedModules(join(repoRoot, 'src/cli/providers/simulated-runtime.ts'))).toContain('src/local-runtime/index.ts');
  });
});
