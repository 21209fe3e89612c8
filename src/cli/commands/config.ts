import type { Command } from 'commander';
import { writeConfig } from '../config/threeport-config.ts';
import { CliError } from '../errors.ts';
import { renderTable } from '../output/table.ts';
import { action, examples } from './run.ts';

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('Manage the threeport config file (~/.threeport/config.yaml, $THREEPORT_CONFIG or --threeport-config)')
    .addHelpText('after', examples(['tptctl config get-control-planes', 'tptctl config current-control-plane -n my-threeport']));

  config
    .command('current-control-plane')
    .description('Set the control plane tptctl talks to')
    .requiredOption('-n, --control-plane-name <name>', 'name of a control plane in the config')
    .addHelpText('after', examples(['tptctl config current-control-plane --control-plane-name dev']))
    .action(
      action<{ controlPlaneName: string }>((options, context) => {
        const current = context.readConfig();
        if (!current.ControlPlanes.some((entry) => entry.Name === options.controlPlaneName)) {
          const names = current.ControlPlanes.map((entry) => entry.Name).join(', ') || 'none';
          throw new CliError(`control plane "${options.controlPlaneName}" is not in ${context.configPath} (it lists: ${names})`);
        }
        writeConfig(context.configPath, { ...current, CurrentControlPlane: options.controlPlaneName });
        context.terminal.info('Control plane found in config');
        context.terminal.complete(`Threeport control plane ${options.controlPlaneName} set as the current control plane`);
      }),
    );

  config
    .command('get-control-planes')
    .description('List the control planes in the config')
    .addHelpText('after', examples(['tptctl config get-control-planes']))
    .action(
      action((_options, context) => {
        const current = context.readConfig();
        if (!current.CurrentControlPlane) {
          context.terminal.warning("current control plane is not set - set it with 'tptctl config current-control-plane --control-plane-name <control-plane-name>'");
        }
        if (current.ControlPlanes.length === 0) {
          context.terminal.info(`no control planes in ${context.configPath} - start one with: tptctl up`);
          return;
        }
        const rows = current.ControlPlanes.map((entry) => [entry.Name, String(entry.Provider ?? ''), String(entry.Name === current.CurrentControlPlane)]);
        context.terminal.print(renderTable(['NAME', 'PROVIDER', 'CURRENT CONTROL PLANE'], rows));
      }),
    );
}
