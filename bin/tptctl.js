#!/usr/bin/env node
// Entry point of tptctl. Runs the esbuild bundle (dist/tptctl.js, built by `npm run build:cli`)
// when there is one, for a fast start; otherwise the TypeScript sources.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`tptctl needs Node.js 22.18 or newer (this is ${process.version}); scripts/run.sh brings one.\n`);
  process.exit(1);
}
// getBuiltinModule, not import(): an ESM import of node:fs evaluates its lazy getters (streams).
const { existsSync } = process.getBuiltinModule('node:fs');
// Caches compiled code between runs (in the OS temp dir): most of a cold start is compiling.
process.getBuiltinModule('node:module').enableCompileCache?.();
const bundle = new URL('../dist/tptctl.js', import.meta.url);
const { main } = existsSync(bundle) && !process.env.TPTCTL_FROM_SOURCES ? await import(bundle.href) : await import('../src/cli/main.ts');
await main(process.argv);
