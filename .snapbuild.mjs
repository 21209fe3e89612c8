import { build } from 'esbuild';
import { createRequire } from 'node:module';
const req = createRequire(import.meta.url);
const lazyNames = new Set(['node:http','node:https','node:child_process','node:net','node:tls','node:module','node:dns','node:zlib']);
const lazy = {
  name: 'lazy', setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (a) => { const n = a.path.startsWith('node:') ? a.path : `node:${a.path}`; return lazyNames.has(n) && a.kind !== 'dynamic-import' && a.namespace !== 'lazy' ? { path: n, namespace: 'lazy' } : undefined; });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (a) => ({ loader: 'js', contents: `
let loaded; const load = () => (loaded ??= process.getBuiltinModule(${JSON.stringify(a.path)}));
const keys = ${JSON.stringify(Object.getOwnPropertyNames(req(a.path)))};
module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => keys.includes(k), ownKeys: () => keys, getOwnPropertyDescriptor: (_, k) => keys.includes(k) ? { configurable: true, enumerable: true, writable: true, value: undefined } : undefined });` }));
  } };
await build({ plugins: [lazy], entryPoints: ['/tmp/snap/entry.ts'], outfile: '/tmp/snap/bundle.cjs', bundle: true, platform: 'node', format: 'cjs', target: 'node22', minify: true, define: { TPTCTL_VERSION: '"v0.1.0"' }, logLevel: 'error' });
