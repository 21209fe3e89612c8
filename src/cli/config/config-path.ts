import { homedir } from 'node:os';
import { join } from 'node:path';

/** The config file to use: the flag, else $THREEPORT_CONFIG, else ~/.threeport/config.yaml. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.THREEPORT_CONFIG || join(homedir(), '.threeport', 'config.yaml');
}
