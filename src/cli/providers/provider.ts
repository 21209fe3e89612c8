/** Where a control plane runs. `embedded` today; Kubernetes and EKS providers slot in here later. */
import type { ChildProcess } from 'node:child_process';
import type { ControlPlaneEntry } from '../config/threeport-config.ts';

export interface UpOptions {
  name: string;
  /** The threeport config file's directory; providers keep their state under it. */
  configDir: string;
  /** host:port of the API. */
  listen: string;
  logLevel: string;
  /** HTTPS with client certificates; the first admin's go into the config entry. */
  authEnabled: boolean;
  /** Comma-separated names and addresses for the API's certificate, beyond the listen address. */
  tlsNames?: string;
  foreground: boolean;
  /** The control plane may start simulated clusters for local runtimes (tptctl up --local-runtime). */
  localRuntimes?: boolean;
  timeoutMs: number;
  onStarted?: (child: ChildProcess) => void;
}

export interface ControlPlaneProvider {
  name: string;
  description: string;
  /** Starts the control plane and returns its config entry (not yet written). */
  up(options: UpOptions): Promise<ControlPlaneEntry>;
  /** Stops it and removes what it created (`keepData` keeps its database). */
  down(entry: ControlPlaneEntry, options: { keepData: boolean }): Promise<void>;
}
