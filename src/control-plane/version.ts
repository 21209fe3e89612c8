import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installRoot } from '../install-root.ts';

const packageJson = JSON.parse(readFileSync(join(installRoot(), 'package.json'), 'utf8')) as { version: string };

/** This build's version, as reported by /version and `tptctl version`. */
export const VERSION = `v${packageJson.version}`;
