/**
 * `tptctl version` without commander, the `yaml` package or the model registry, whose loading is
 * most of a cold start. It answers only when the config is in the plain form the quick parser
 * reads and names a current control plane; otherwise the full command runs. Everything after
 * parsing — what the config means, the API URL, the request, the messages — is the command's own.
 */
import { readFileSync } from 'node:fs';
import { resolveConfigPath } from './config/config-path.ts';
import { configFromValue, selectControlPlane, type ControlPlaneEntry } from './config/config-shape.ts';
import { parsePlainYaml } from './config/plain-yaml.ts';
import { createTerminal } from './output/terminal.ts';
import { printServerVersion } from './server-version.ts';
import { CLIENT_VERSION } from './version.ts';

function currentControlPlane(env: NodeJS.ProcessEnv): ControlPlaneEntry | undefined {
  const path = resolveConfigPath(undefined, env);
  try {
    const value = parsePlainYaml(readFileSync(path, 'utf8'));
    return value === undefined ? undefined : selectControlPlane(configFromValue(value, path), undefined, path);
  } catch {
    return undefined; // missing file, no current control plane, …: the full command says it properly
  }
}

/** Runs `tptctl version` if it can; false when the full command must. */
export async function quickVersion(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const entry = currentControlPlane(env);
  if (!entry) return false;
  const terminal = createTerminal();
  terminal.print(`Client: ${CLIENT_VERSION}`);
  try {
    await printServerVersion(terminal, entry);
  } catch (error) {
    const { reportError } = await import('./commands/run.ts');
    reportError(terminal, error);
    process.exitCode = 1;
  }
  return true;
}
