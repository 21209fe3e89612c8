/** tptctl's command tree (commander), loaded by src/cli/main.ts for every command but the quick `version`. */
import { Command, Option } from 'commander';
import { registerAccess } from './commands/access.ts';
import { registerApply } from './commands/apply.ts';
import { completions, registerCompletion } from './commands/completion.ts';
import { registerConfig } from './commands/config.ts';
import { registerDelivery } from './commands/delivery.ts';
import { registerHistory } from './commands/history.ts';
import { registerObjectCommands } from './commands/objects.ts';
import { examples, reportError } from './commands/run.ts';
import { registerUpDown } from './commands/up-down.ts';
import { registerVersion } from './commands/version.ts';
import { registerWhy } from './commands/why.ts';
import { createTerminal } from './output/terminal.ts';

/** Help is wrapped at a fixed width, whatever the terminal's, so the bundle can render the top-level help once (scripts/build-cli.ts). */
const HELP_WIDTH = 80;

/** Commands that never need the ~150 generated object commands; building those is most of a start. */
const standalone = new Set(['version', 'up', 'down', 'config', 'apply', 'completion', 'user', 'credentials', 'token', 'role', 'whoami', 'history', 'diff', 'rollback', 'notify', 'approve', 'why']);

/** The command tree; with `argv`, only as much of it as that invocation can reach. */
export function buildProgram(argv?: readonly string[]): Command {
  const objectCommands = !argv || !standalone.has(argv[2] ?? '') || argv.includes('-h') || argv.includes('--help');
  const program = new Command('tptctl')
    .description('Manage Threeport')
    .addOption(new Option('--threeport-config <path>', 'threeport config file [env THREEPORT_CONFIG] (default: ~/.threeport/config.yaml)'))
    .addOption(new Option('-i, --control-plane-name <name>', 'control plane to use (default: the current one)'))
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .enablePositionalOptions(false)
    .addHelpText('after', examples(['tptctl up', 'tptctl apply -f wordpress.yaml', 'tptctl get workloads', 'tptctl describe workload-instance -n wordpress', 'tptctl down']));
  program.configureOutput({ writeErr: (text) => process.stderr.write(text), getOutHelpWidth: () => HELP_WIDTH, getErrHelpWidth: () => HELP_WIDTH });
  registerUpDown(program);
  registerConfig(program);
  registerApply(program);
  registerAccess(program);
  registerHistory(program);
  registerDelivery(program);
  registerWhy(program);
  registerObjectCommands(program, objectCommands);
  registerVersion(program);
  registerCompletion(program);
  return program;
}

/** What `tptctl --help` prints. */
export function renderRootHelp(): string {
  const program = buildProgram();
  let help = '';
  program.configureOutput({ writeOut: (text) => (help += text), getOutHasColors: () => false });
  program.outputHelp();
  return help;
}

export async function runProgram(argv: string[]): Promise<void> {
  const program = buildProgram(argv[2] === '__complete' ? undefined : argv);
  if (argv[2] === '__complete') {
    process.stdout.write(completions(program, argv.slice(3)).join('\n') + '\n');
    return;
  }
  // Parent commands without a subcommand: show their help and fail, as the original did.
  for (const parent of program.commands) {
    if (parent.commands.length > 0) {
      parent.action(() => {
        parent.outputHelp({ error: true });
        createTerminal().error(`missing subcommand - use tptctl ${parent.name()} -h for usage info`);
        process.exitCode = 1;
      });
    }
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    reportError(createTerminal(), error);
    process.exitCode = 1;
  }
}
