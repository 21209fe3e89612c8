import { CliError } from '../errors.ts';
import type { ControlPlaneEntry } from './config-shape.ts';

/** The API base URL of a control plane entry. */
export function apiBaseUrl(entry: Pick<ControlPlaneEntry, 'Name' | 'APIServer' | 'AuthEnabled'>): string {
  const server = entry.APIServer;
  if (!server) throw new CliError(`control plane "${entry.Name}" has no APIServer in the threeport config`);
  if (/^https?:\/\//.test(server)) return server;
  return `${entry.AuthEnabled ? 'https' : 'http'}://${server}`;
}
