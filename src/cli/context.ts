/** What every command gets: the terminal, the config file, and (lazily) an API client. */
import { CLIENT_VERSION } from './version.ts';
import { ApiClient } from '../client/api-client.ts';
import { FieldCipher } from '../crypto/field-cipher.ts';
import { apiBaseUrl, readConfig, resolveConfigPath, selectControlPlane, type ControlPlaneEntry, type ThreeportConfig } from './config/threeport-config.ts';
import { credentialsOf } from './config/credentials.ts';
import { CliError } from './errors.ts';
import type { Terminal } from './output/terminal.ts';

export interface GlobalOptions {
  threeportConfig?: string;
  controlPlaneName?: string;
}

export class CliContext {
  readonly terminal: Terminal;
  readonly env: NodeJS.ProcessEnv;
  readonly options: GlobalOptions;

  constructor(terminal: Terminal, env: NodeJS.ProcessEnv, options: GlobalOptions) {
    this.terminal = terminal;
    this.env = env;
    this.options = options;
  }

  get configPath(): string {
    return resolveConfigPath(this.options.threeportConfig, this.env);
  }

  readConfig(): ThreeportConfig {
    return readConfig(this.configPath);
  }

  controlPlane(): ControlPlaneEntry {
    return selectControlPlane(this.readConfig(), this.options.controlPlaneName, this.configPath);
  }

  client(entry: ControlPlaneEntry = this.controlPlane()): ApiClient {
    const baseUrl = apiBaseUrl(entry);
    const userAgent = `tptctl/${CLIENT_VERSION}`;
    if (!entry.AuthEnabled) return new ApiClient({ baseUrl, timeoutMs: 30_000, userAgent });
    return new ApiClient({ baseUrl, timeoutMs: 30_000, userAgent, ...credentialsOf(entry, this.configPath, this.env.THREEPORT_API_TOKEN) });
  }

  /** The control plane's field cipher, when the config holds its key (to compare and show secrets locally). */
  cipher(entry: ControlPlaneEntry = this.controlPlane()): FieldCipher | undefined {
    if (!entry.EncryptionKey) return undefined;
    try {
      return FieldCipher.fromBase64(entry.EncryptionKey);
    } catch {
      throw new CliError(`the EncryptionKey of control plane "${entry.Name}" in ${this.configPath} is not a base64 32-byte key`);
    }
  }
}
