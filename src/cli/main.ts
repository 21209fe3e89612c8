/**
 * tptctl: the command line of threeport. `version --client`, the top-level `--help` and a plain
 * `version` take quick paths; everything else loads the command tree. The bundle splits at the
 * dynamic imports, so what a command does not use is not loaded.
 */
import { writeSync } from 'node:fs';
import { quickVersion } from './quick-version.ts';
import { CLIENT_VERSION } from './version.ts';

// The top-level help, rendered from the command tree by scripts/build-cli.ts; absent when running from the sources.
declare const TPTCTL_ROOT_HELP: string | undefined;

export async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  if (args.length === 2 && args[0] === 'version' && args[1] === '--client') return void writeSync(1, `Client: ${CLIENT_VERSION}\n`);
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h') && typeof TPTCTL_ROOT_HELP === 'string') return void writeSync(1, TPTCTL_ROOT_HELP);
  if (args.length === 1 && args[0] === 'version' && (await quickVersion())) return;
  const { runProgram } = await import('./program.ts');
  await runProgram(argv);
}
