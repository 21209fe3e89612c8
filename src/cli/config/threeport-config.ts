/**
 * The threeport config file, compatible with the original's (`~/.threeport/config.yaml`): a list of
 * control planes and the current one. The original wrote it through viper, which may lower-case
 * keys, so every key is read case-insensitively and written back in the original's casing. Keys we
 * do not know are kept as they are.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliError } from '../errors.ts';

export interface KubeApiConnection {
  APIEndpoint?: string;
  CACertificate?: string;
  Certificate?: string;
  Key?: string;
  EKSToken?: string;
}

/** What `tptctl up --provider embedded` started, so `down` can find and stop it. */
export interface EmbeddedProcess {
  /** Holds `data/`, `threeport.pid` and `threeport.log`. */
  Directory: string;
  /** A local simulated cluster started with `--local-runtime`, stopped by `down`. */
  LocalRuntime?: string;
}

export interface ControlPlaneEntry {
  Name: string;
  AuthEnabled?: boolean;
  Genesis?: boolean;
  /** host:port, no scheme (the original's format); a URL with a scheme is accepted too. */
  APIServer?: string;
  CACert?: string;
  KubeAPI?: KubeApiConnection;
  Provider?: string;
  EKSProviderConfig?: Record<string, unknown>;
  Credentials?: { Name: string; ClientCert?: string; ClientKey?: string }[];
  /** Base64 AES-256 key of the control plane's encrypted fields (never printed). */
  EncryptionKey?: string;
  Embedded?: EmbeddedProcess;
  [key: string]: unknown;
}

export interface ThreeportConfig {
  ControlPlanes: ControlPlaneEntry[];
  CurrentControlPlane: string;
}

const entryKeys = ['Name', 'AuthEnabled', 'Genesis', 'APIServer', 'CACert', 'KubeAPI', 'Provider', 'EKSProviderConfig', 'Credentials', 'EncryptionKey', 'Embedded'];

/** The config file to use: the flag, else $THREEPORT_CONFIG, else ~/.threeport/config.yaml. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.THREEPORT_CONFIG || join(homedir(), '.threeport', 'config.yaml');
}

/** Canonical casing for the keys we know; others kept. */
function canonicalKeys(record: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[known.find((candidate) => candidate.toLowerCase() === key.toLowerCase()) ?? key] = value;
  }
  return out;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseConfig(text: string, path: string): ThreeportConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new CliError(`threeport config ${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (!isRecord(raw)) throw new CliError(`threeport config ${path} must be a YAML mapping with ControlPlanes and CurrentControlPlane`);
  const top = canonicalKeys(raw, ['ControlPlanes', 'CurrentControlPlane']);
  const list = top.ControlPlanes ?? [];
  if (!Array.isArray(list)) throw new CliError(`threeport config ${path}: ControlPlanes must be a list`);
  const seen = new Set<string>();
  const ControlPlanes = list.map((item, index) => {
    if (!isRecord(item)) throw new CliError(`threeport config ${path}: ControlPlanes[${index}] must be a mapping`);
    const entry = canonicalKeys(item, entryKeys) as ControlPlaneEntry;
    if (typeof entry.Name !== 'string' || !entry.Name) throw new CliError(`threeport config ${path}: ControlPlanes[${index}] has no Name`);
    if (seen.has(entry.Name)) throw new CliError(`threeport config ${path} lists control plane "${entry.Name}" twice; remove one of them`);
    seen.add(entry.Name);
    if (isRecord(entry.KubeAPI)) entry.KubeAPI = canonicalKeys(entry.KubeAPI, ['APIEndpoint', 'CACertificate', 'Certificate', 'Key', 'EKSToken']) as KubeApiConnection;
    if (isRecord(entry.Embedded)) entry.Embedded = canonicalKeys(entry.Embedded, ['Directory', 'LocalRuntime']) as unknown as EmbeddedProcess;
    return entry;
  });
  const current = top.CurrentControlPlane;
  return { ControlPlanes, CurrentControlPlane: typeof current === 'string' ? current : '' };
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

/** The control plane a command talks to: `--control-plane-name` if given, else the current one. */
export function selectControlPlane(config: ThreeportConfig, requested: string | undefined, path: string): ControlPlaneEntry {
  const name = requested || config.CurrentControlPlane;
  if (!name) {
    if (config.ControlPlanes.length === 0) {
      throw new CliError(`no threeport control plane in ${path}`, { hint: 'start one with: tptctl up' });
    }
    const names = config.ControlPlanes.map((entry) => entry.Name).join(', ');
    throw new CliError(`no current control plane is set in ${path} (it lists: ${names})`, {
      hint: "set one with 'tptctl config current-control-plane --control-plane-name <name>' or pass --control-plane-name",
    });
  }
  const entry = config.ControlPlanes.find((candidate) => candidate.Name === name);
  if (!entry) {
    const names = config.ControlPlanes.map((candidate) => candidate.Name).join(', ') || 'none';
    throw new CliError(`control plane "${name}" is not in ${path} (it lists: ${names})`);
  }
  return entry;
}

/** The API base URL of a control plane entry. */
export function apiBaseUrl(entry: ControlPlaneEntry): string {
  const server = entry.APIServer;
  if (!server) throw new CliError(`control plane "${entry.Name}" has no APIServer in the threeport config`);
  if (/^https?:\/\//.test(server)) return server;
  return `${entry.AuthEnabled ? 'https' : 'http'}://${server}`;
}
