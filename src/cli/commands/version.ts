import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { apiBaseUrl } from '../config/threeport-config.ts';
import { CliError } from '../errors.ts';
import { CLIENT_VERSION } from '../version.ts';
import { action, examples } from './run.ts';

/**
 * GET /version with node:http rather than the API client: the first fetch() of a process loads
 * undici, which alone costs more than the whole cold-start budget of `tptctl version`.
 */
function serverVersion(baseUrl: string): Promise<string> {
  // require(), not import: the ESM facade of node:http evaluates its lazy undici getters too.
  const require = createRequire(import.meta.url);
  const { get } = (baseUrl.startsWith('https:') ? require('node:https') : require('node:http')) as typeof import('node:http');
  return new Promise((resolve, reject) => {
    const request = get(`${baseUrl}/version`, { timeout: 10_000 }, (response) => {
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

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("Print tptctl's version and the current control plane's")
    .addHelpText('after', examples(['tptctl version', 'tptctl version --control-plane-name dev']))
    .action(
      action(async (_options, context) => {
        context.terminal.print(`Client: ${CLIENT_VERSION}`);
        const config = context.readConfig();
        if (config.ControlPlanes.length === 0 && !context.options.controlPlaneName) {
          context.terminal.print('Server: no control plane in the config (start one with: tptctl up)');
          return;
        }
        const entry = context.controlPlane();
        try {
          context.terminal.print(`Server: ${await serverVersion(apiBaseUrl(entry))} (control plane ${entry.Name})`);
        } catch (error) {
          throw new CliError(`cannot get the version of control plane ${entry.Name}: ${(error as Error).message}`, { cause: error });
        }
      }),
    );
}
