import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installRoot } from '../install-root.ts';

// Set by the bundler (scripts/build-cli.ts); absent when running from the sources.
declare const TPTCTL_VERSION: string | undefined;

export const CLIENT_VERSION: string =
  typeof TPTCTL_VERSION === 'string' ? TPTCTL_VERSION : `v${(JSON.parse(readFileSync(join(installRoot(), 'package.json'), 'utf8')) as { version: string }).version}`;
