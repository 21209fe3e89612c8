/**
 * Bundles tptctl into dist/tptctl.js and its chunks in dist/tptctl-chunks/ (split at dynamic
 * imports, so a command loads only what it uses); bin/tptctl.js prefers the bundle.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { renderRootHelp } from '../src/cli/program.ts';

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
  'node:net': ['connect', 'isIP'],
  'node:crypto': ['createCipheriv', 'createDecipheriv', 'randomBytes', 'randomUUID', 'createHash', 'createPrivateKey', 'createPublicKey', 'generateKeyPairSync', 'sign'],
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

const chunksDir = `${root}dist/tptctl-chunks`;
const result = await build({
  plugins: [builtinsViaRequire],
  entryPoints: { tptctl: `${root}src/cli/main.ts` },
  outdir: `${root}dist`,
  chunkNames: 'tptctl-chunks/[name]-[hash]',
  splitting: true,
  metafile: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: !process.env.TPTCTL_BUILD_READABLE,
  sourcemap: false,
  legalComments: 'none',
  // `tptctl --help` prints this without loading the command tree.
  define: { TPTCTL_VERSION: JSON.stringify(`v${version}`), TPTCTL_ROOT_HELP: JSON.stringify(renderRootHelp()) },
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __tptctlRequire } from 'node:module'; const require = __tptctlRequire(import.meta.url);" },
  logLevel: 'warning',
});

// Chunks of earlier builds, once the new ones are in place (a tptctl starting meanwhile finds its own).
const written = new Set(Object.keys(result.metafile.outputs).map((path) => relative(`${root}dist`, `${process.cwd()}/${path}`)));
for (const file of readdirSync(chunksDir)) {
  if (!written.has(`tptctl-chunks/${file}`)) rmSync(`${chunksDir}/${file}`, { force: true });
}
