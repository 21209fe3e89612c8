/**
 * Shell completion for bash, zsh and fish. The scripts ask tptctl itself (`tptctl __complete
 * <words>`), which walks the command tree, so completion always matches the installed commands.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.ts';
import { action, examples } from './run.ts';

const scripts: Record<string, string> = {
  bash: `# tptctl bash completion: source <(tptctl completion bash)
_tptctl() {
  local IFS=$'\\n'
  COMPREPLY=($(tptctl __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "\${COMP_WORDS[COMP_CWORD]}" 2>/dev/null))
}
complete -o default -F _tptctl tptctl
`,
  zsh: `#compdef tptctl
# tptctl zsh completion: source <(tptctl completion zsh)
_tptctl() {
  local -a candidates
  candidates=("\${(@f)$(tptctl __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _tptctl tptctl
`,
  fish: `# tptctl fish completion: tptctl completion fish | source
complete -c tptctl -f -a '(tptctl __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
};

/** Candidates for the last word, given the words before it. */
export function completions(program: Command, words: string[]): string[] {
  const current = words[words.length - 1] ?? '';
  let command = program;
  for (const word of words.slice(0, -1)) {
    const next = command.commands.find((sub) => sub.name() === word || sub.aliases().includes(word));
    if (next) command = next;
  }
  const options = [...command.options, ...program.options].flatMap((option) => [option.long, option.short]).filter((flag): flag is string => Boolean(flag));
  const subcommands = command.commands.map((sub) => sub.name()).filter((name) => !name.startsWith('__'));
  const candidates = current.startsWith('-') ? options : subcommands;
  return candidates.filter((candidate) => candidate.startsWith(current));
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script for bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', examples(['source <(tptctl completion bash)    # add to ~/.bashrc', 'source <(tptctl completion zsh)     # add to ~/.zshrc', 'tptctl completion fish > ~/.config/fish/completions/tptctl.fish']))
    .action(
      action((_options, context, args) => {
        const script = scripts[args[0] ?? ''];
        if (!script) throw new CliError(`unsupported shell "${args[0]}": use bash, zsh or fish`);
        context.terminal.out.write(script);
      }),
    );
}
