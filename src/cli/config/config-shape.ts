/**
 * What a parsed threeport config means: the values of `yaml.parse` (or of the quick parser of
 * `tptctl version`) turned into control plane entries, and the entry a command talks to. Kept
 * apart from the YAML parser so that both readers share it.
 */
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

/** Canonical casing for the keys we know; others kept. */
function canonicalKeys(record: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[known.find((candidate) => candidate.toLowerCase() === key.toLowerCase()) ?? key] = value;
  }
  return out;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The config from a parsed YAML value (null for an empty file). */
export function configFromValue(value: unknown, path: string): ThreeportConfig {
  const raw = value ?? {};
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
    if (isRecord(entry.KubeAPI)) entry.KubeAPI = canonicalKeys(entry.KubeAPI, ['APIEndpoint', 'CACertificate', 'Certificate', 'Key', 'EKSToken']);
    if (isRecord(entry.Embedded)) entry.Embedded = canonicalKeys(entry.Embedded, ['Directory', 'LocalRuntime']) as unknown as EmbeddedProcess;
    return entry;
  });
  const current = top.CurrentControlPlane;
  return { ControlPlanes, CurrentControlPlane: typeof current === 'string' ? current : '' };
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
