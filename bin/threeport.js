#!/usr/bin/env node
// Entry point of the threeport control plane processes. Checked before any TypeScript is loaded,
// because older Node.js versions cannot run the sources.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`threeport needs Node.js 22.18 or newer (this is ${process.version}); scripts/run.sh brings one.\n`);
  process.exit(1);
}
await import('../src/control-plane/main.ts');
