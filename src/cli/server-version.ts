/** The `Server:` line of `tptctl version`, shared by the command and its quick path (src/cli/main.ts). */
import { createRequire } from 'node:module';
import { apiBaseUrl } from './config/api-url.ts';
import type { ControlPlaneEntry } from './config/config-shape.ts';
import { CliError } from './errors.ts';
import type { Terminal } from './output/terminal.ts';

/**
 * GET /version with node:http rather than the API client: the first fetch() of a process loads
 * undici, which alone costs more than the whole cold-start budget of `tptctl version`.
 */
function serverVersion(baseUrl: string, ca: string | undefined): Promise<string> {
  // require(), not import: the ESM facade of node:http evaluates its lazy undici getters too.
  const require = createRequire(import.meta.url);
  const { get } = (baseUrl.startsWith('https:') ? require('node:https') : require('node:http')) as typeof import('node:http');
  return new Promise((resolve, reject) => {
    const request = get(`${baseUrl}/version`, { timeout: 10_000, ...(ca && { ca }) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) return reject(new Error(`the API answered ${response.statusCode}`));
        try {
          resolve((JSON.parse(body) as { Version?: string }).Version ?? 'unknown');
        } catch {
          reject(new Error('the API answered something that is not JSON'));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', (error: NodeJS.ErrnoException) => reject(new Error(`cannot reach the threeport API at ${baseUrl}: ${error.code === 'ECONNREFUSED' ? 'connection refused' : error.message}`)));
  });
}

export async function printServerVersion(terminal: Terminal, entry: ControlPlaneEntry): Promise<void> {
  try {
    // /version is open to all: the CA is enough (with auth on), no client certificate.
    const ca = entry.AuthEnabled && entry.CACert ? Buffer.from(entry.CACert, 'base64').toString('utf8') : undefined;
    terminal.print(`Server: ${await serverVersion(apiBaseUrl(entry), ca)} (control plane ${entry.Name})`);
  } catch (error) {
    throw new CliError(`cannot get the version of control plane ${entry.Name}: ${(error as Error).message}`, { cause: error });
  }
}
