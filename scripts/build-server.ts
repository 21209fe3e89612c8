/**
 * Bundles the control plane (`threeport server|controller|all-in-one|agent`) into dist/threeport.js
 * and its chunks in dist/threeport-chunks/ (split at dynamic imports, so what a process never
 * meets is never loaded), npm packages left as imports. Run from the bundle, a process needs no
 * TypeScript stripper: ~18 MB less each (docs/footprint.md). bin/threeport.js prefers the bundle
 * while every source file it was built from is older than it (dist/threeport.inputs.json).
 */
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const chunksDir = `${root}dist/threeport-chunks`;
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

// Chunks of earlier builds, a day on: a control plane started from one may still load its chunks on first use.
const written = new Set(Object.keys(result.metafile.outputs).map((path) => relative(`${root}dist`, `${process.cwd()}/${path}`)));
for (const file of readdirSync(chunksDir)) {
  const path = `${chunksDir}/${file}`;
  if (!written.has(`threeport-chunks/${file}`) && statSync(path).mtimeMs < Date.now() - 86_400_000) rmSync(path, { force: true });
}
