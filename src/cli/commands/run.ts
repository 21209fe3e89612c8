/** Runs a command action: user errors become `Error: …` on stderr and exit code 1, never a stack trace. */
import type { Command } from 'commander';
import { ApiRequestError } from '../../client/api-client.ts';
import { CliContext, type GlobalOptions } from '../context.ts';
import { isCliError } from '../errors.ts';
import { createTerminal, type Terminal } from '../output/terminal.ts';

export function reportError(terminal: Terminal, error: unknown): void {
  if (isCliError(error)) {
    terminal.error(error.message);
    const cause = error.cause;
    if (cause instanceof ApiRequestError && cause.status === 0) terminal.hint('is the control plane running? start one with: tptctl up');
    if (error.hint) terminal.hint(error.hint);
    return;
  }
  if (error instanceof ApiRequestError) {
    terminal.error(error.message);
    if (error.status === 0) terminal.hint('is the control plane running? start one with: tptctl up');
    return;
  }
  terminal.error(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.TPTCTL_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
}

/** Wraps an action: `(options, context, command)`; the last commander argument is the command. */
export function action<O>(handler: (options: O, context: CliContext, args: string[]) => Promise<void> | void) {
  return async (...commanderArgs: unknown[]): Promise<void> => {
    const command = commanderArgs[commanderArgs.length - 1] as Command;
    const options = command.opts() as O;
    const globals = command.optsWithGlobals<GlobalOptions>();
    const terminal = createTerminal();
    const context = new CliContext(terminal, process.env, globals);
    try {
      await handler(options, context, command.args);
    } catch (error) {
      reportError(terminal, error);
      process.exitCode = 1;
    }
  };
}

export const examples = (lines: string[]): string => `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
