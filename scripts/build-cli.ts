/** Bundles tptctl into dist/tptctl.js (one file, fast to start); bin/tptctl.js prefers it. */
import { readFileSync } from 'node:fs';
import { build, type Plugin } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

/**
 * Node built-ins through require() instead of import: an ESM import builds a facade that
 * evaluates every lazy getter of the module (node:fs loads its streams, node:http loads undici),
 * which costs more than the rest of a cold start. child_process and net, which only `up` needs
 * but commander imports at the top, load on first use.
 */
const lazyBuiltins: Record<string, string[]> = {
  'node:child_process': ['spawn'],
  'node:net': ['connect'],
  'node:crypto': ['createCipheriv', 'createDecipheriv', 'randomBytes', 'randomUUID'],
};

function lazyModule(name: string, exports: string[]): string {
  const load = `(loaded ??= require(${JSON.stringify(name)}))`;
  return [
    'let loaded;',
    `export default new Proxy({}, { get: (_, key) => ${load}[key] });`,
    ...exports.map((key) => `export const ${key} = (...args) => ${load}.${key}(...args);`),
  ].join('\n');
}
const builtinsViaRequire: Plugin = {
  name: 'builtins-via-require',
  setup(builder) {
    builder.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'dynamic-import' || args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' },
    );
    builder.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      loader: 'js',
      contents: lazyBuiltins[args.path] ? lazyModule(args.path, lazyBuiltins[args.path]!) : `module.exports = require(${JSON.stringify(args.path)});`,
    }));
  },
};

await build({
  plugins: [builtinsViaRequire],
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${root}dist/tptctl.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: !process.env.TPTCTL_BUILD_READABLE,
  sourcemap: false,
  legalComments: 'none',
  define: { TPTCTL_VERSION: JSON.stringify(`v${version}`) },
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __tptctlRequire } from 'node:module'; const require = __tptctlRequire(import.meta.url);" },
  logLevel: 'warning',
});
