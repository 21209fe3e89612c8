#!/usr/bin/env node
// Entry point of the threeport control plane processes. Checked before any TypeScript is loaded,
// because older Node.js versions cannot run the sources.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`threeport needs Node.js 22.18 or newer (this is ${process.version}); scripts/run.sh brings one.\n`);
  process.exit(1);
}

// V8 flags that cost memory for speed these processes do not need (docs/footprint.md). The
// embedded database is PostgreSQL compiled to WebAssembly: V8's optimising tier compiles its hot
// functions a second time, ~100 MB more for a few percent of query speed, so only the baseline
// compiler is kept. A small young generation keeps the heap near what is live, where throughput
// matters less than memory: the embedded control plane, and the agent (one per cluster, its live
// heap ~27 MB of its ~125-195 MB). V8 reads them only at start, so the process executes itself
// again with them (process.execve: same PID), once. THREEPORT_V8_FLAGS replaces them ("" for none).
const [command, ...flags] = process.argv.slice(2);
const runsEmbeddedDatabase =
  (command === 'all-in-one' || command === 'server') && !flags.some((flag) => flag.startsWith('--database-url')) && !process.env.THREEPORT_DATABASE_URL;
const defaultFlags = runsEmbeddedDatabase ? '--liftoff-only --max-semi-space-size=2' : command === 'agent' ? '--max-semi-space-size=2' : '';
const v8Flags = (process.env.THREEPORT_V8_FLAGS ?? defaultFlags).split(/\s+/).filter(Boolean);
const missing = defaultFlags ? v8Flags.filter((flag) => !process.execArgv.includes(flag)) : [];
if (missing.length > 0 && !process.env.THREEPORT_V8_FLAGS_APPLIED && typeof process.execve === 'function') {
  const argv = [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)];
  process.execve(process.execPath, argv, { ...process.env, THREEPORT_V8_FLAGS_APPLIED: '1' });
}
delete process.env.THREEPORT_V8_FLAGS_APPLIED; // not inherited by the processes this one starts

// The bundle (scripts/build-server.ts) while it is current: no TypeScript to strip, ~18 MB less.
// Otherwise (a source edited since, THREEPORT_FROM_SOURCES set) the sources themselves.
function bundleIsCurrent() {
  const { readFileSync, statSync } = process.getBuiltinModule('node:fs');
  try {
    const built = statSync(new URL('../dist/threeport.js', import.meta.url)).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('../dist/threeport.inputs.json', import.meta.url), 'utf8'));
    return inputs.every((input) => statSync(new URL(`../${input}`, import.meta.url)).mtimeMs <= built);
  } catch {
    return false;
  }
}
await import(!process.env.THREEPORT_FROM_SOURCES && bundleIsCurrent() ? '../dist/threeport.js' : '../src/control-plane/main.ts');
