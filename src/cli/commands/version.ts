import type { Command } from 'commander';
import { printServerVersion } from '../server-version.ts';
import { CLIENT_VERSION } from '../version.ts';
import { action, examples } from './run.ts';

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
        await printServerVersion(context.terminal, context.controlPlane());
      }),
    );
}
