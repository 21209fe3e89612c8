/**
 * tptctl: the command line of threeport. A plain `tptctl version` takes a quick path; everything
 * else loads the command tree. The bundle splits at the dynamic imports, so what a command does
 * not use is not loaded.
 */
import { quickVersion } from './quick-version.ts';

export async function main(argv: string[]): Promise<void> {
  if (argv.length === 3 && argv[2] === 'version' && (await quickVersion())) return;
  const { runProgram } = await import('./program.ts');
  await runProgram(argv);
}
