/** Bundles tptctl into dist/tptctl.js (one file, fast to start); bin/tptctl.js prefers it. */
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

await build({
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${root}dist/tptctl.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  define: { TPTCTL_VERSION: JSON.stringify(`v${version}`) },
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __tptctlRequire } from 'node:module'; const require = __tptctlRequire(import.meta.url);" },
  logLevel: 'warning',
});
