/**
 * Bundles the control plane (`threeport server|controller|all-in-one|agent`) into dist/threeport.js
 * and its chunks in dist/threeport-chunks/ (split at dynamic imports, so what a process never
 * meets is never loaded), npm packages left as imports. Run from the bundle, a process needs no
 * TypeScript stripper: ~18 MB less each (docs/footprint.md). bin/threeport.js prefers the bundle
 * while every source file it was built from is older than it (dist/threeport.inputs.json).
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const result = await build({
  entryPoints: { threeport: `${root}src/control-plane/main.ts` },
  outdir: `${root}dist`,
  chunkNames: 'threeport-chunks/[name]-[hash]',
  splitting: true,
  metafile: true,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Readable: stack traces in logs stay useful.
  minify: false,
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs).map((path) => relative(root, `${process.cwd()}/${path}`));
writeFileSync(`${root}dist/threeport.inputs.json`, `${JSON.stringify(inputs)}\n`);

// Chunks of earlier builds are kept: a control plane started from one loads its chunks on first
// use, however long after (named by content, ~1 MB per build; `rm -r dist` when none runs).
