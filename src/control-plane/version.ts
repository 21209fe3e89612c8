import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** This build's version, as reported by /version and `tptctl version`. */
export const VERSION = `v${packageJson.version}`;
