import type { Command } from 'commander';
import { printServerVersion } from '../server-version.ts';
import { CLIENT_VERSION } from '../version.ts';
import { action, examples } from './run.ts';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("Print tptctl's version and the current control plane's")
    .option('--client', "print only tptctl's version, without reaching a control plane")
    .addHelpText('after', examples(['tptctl version', 'tptctl version --control-plane-name dev', 'tptctl version --client']))
    .action(
      action(async (options: { client?: boolean }, context) => {
        context.terminal.print(`Client: ${CLIENT_VERSION}`);
        if (options.client) return;
        const config = context.readConfig();
        if (config.ControlPlanes.length === 0 && !context.options.controlPlaneName) {
          context.terminal.print('Server: no control plane in the config (start one with: tptctl up)');
          return;
        }
        await printServerVersion(context.terminal, context.controlPlane());
      }),
    );
}
