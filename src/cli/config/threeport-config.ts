/**
 * The threeport config file, compatible with the original's (`~/.threeport/config.yaml`): a list of
 * control planes and the current one. The original wrote it through viper, which may lower-case
 * keys, so every key is read case-insensitively and written back in the original's casing. Keys we
 * do not know are kept as they are.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliError } from '../errors.ts';
import { configFromValue, type ControlPlaneEntry, type ThreeportConfig } from './config-shape.ts';

// Their own modules, so that the quick `tptctl version` can use them without loading the YAML parser.
export { resolveConfigPath } from './config-path.ts';
export { apiBaseUrl } from './api-url.ts';

export type { KubeApiConnection, EmbeddedProcess, ControlPlaneEntry, ThreeportConfig } from './config-shape.ts';
export { configFromValue, selectControlPlane } from './config-shape.ts';

export function parseConfig(text: string, path: string): ThreeportConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new CliError(`threeport config ${path} is not valid YAML: ${(error as Error).message}`);
  }
  return configFromValue(raw, path);
}

/** Reads the config; a missing file is an empty config (it is created on the first write). */
export function readConfig(path: string): ThreeportConfig {
  if (!existsSync(path)) return { ControlPlanes: [], CurrentControlPlane: '' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read threeport config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseConfig(text, path);
}

/** Writes the config with mode 0600 (it holds keys), atomically. */
export function writeConfig(path: string, config: ThreeportConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringify({ ControlPlanes: config.ControlPlanes, CurrentControlPlane: config.CurrentControlPlane }), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** Adds or replaces the entry by name and makes it current (the original's UpdateThreeportConfig). */
export function upsertControlPlane(config: ThreeportConfig, entry: ControlPlaneEntry): ThreeportConfig {
  const others = config.ControlPlanes.filter((candidate) => candidate.Name !== entry.Name);
  return { ControlPlanes: [...others, entry], CurrentControlPlane: entry.Name };
}

export function removeControlPlane(config: ThreeportConfig, name: string): ThreeportConfig {
  return {
    ControlPlanes: config.ControlPlanes.filter((candidate) => candidate.Name !== name),
    CurrentControlPlane: config.CurrentControlPlane === name ? '' : config.CurrentControlPlane,
  };
}
