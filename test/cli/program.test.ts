/** Help with examples on every command, completion scripts, version, and the bundle's start-up time. */
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram, renderRootHelp } from '../../src/cli/program.ts';
import { ensureBundle, Tptctl } from './support.ts';

function leaves(command: Command, path: string[] = []): string[][] {
  if (command.commands.length === 0) return [path];
  return command.commands.filter((sub) => sub.name() !== 'help').flatMap((sub) => leaves(sub, [...path, sub.name()]));
}

describe('tptctl as a program', () => {
  it('every command has help with examples', () => {
    const program = buildProgram();
    for (const path of leaves(program)) {
      let command = program;
      for (const name of path) command = command.commands.find((sub) => sub.name() === name)!;
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      expect(help, `tptctl ${path.join(' ')} has no examples`).toMatch(/Examples:\n  .*tptctl /);
    }
  });

  it('explains what workloads and runtimes are waited for and shown as', () => {
    const program = buildProgram();
    const helpOf = (...path: string[]): string => {
      let command = program;
      for (const name of path) command = command.commands.find((sub) => sub.name() === name)!;
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      return help;
    };
    expect(helpOf('up')).toMatch(/--context <context>\s+kubeconfig context of that cluster/);
    expect(helpOf('up')).toContain("'up' waits until the runtime is Ready");
    expect(helpOf('up')).toContain('tptctl up --kubeconfig ~/.kube/config --context kind-dev');
    expect(helpOf('apply')).toContain('for a workload instance, Healthy; for a Kubernetes runtime instance, Ready');
    for (const kind of ['workloads', 'workload-instances']) expect(helpOf('get', kind)).toContain("STATUS is the instance's Status line: Healthy: 6 resource(s) ready");
    for (const kind of ['workload', 'workload-instance']) {
      expect(helpOf('describe', kind)).toContain('readiness (Ready, 1/3 ready, waiting for a volume, missing, ...)');
      expect(helpOf('describe', kind)).toContain(`tptctl describe ${kind} my-${kind}`);
    }
  });

  it('prints help, version and completion scripts through the real executable', async () => {
    await ensureBundle();
    const tptctl = new Tptctl();
    const help = await tptctl.ok(['create', 'workload', '--help']);
    expect(help).toContain('--wait waits until each object created is ready: reconciled by its controller and, for a\nworkload instance, Healthy');
    expect(help).toContain('Examples:\n  tptctl create workload -c samples/wordpress-workload.yaml --wait');
    expect(await tptctl.ok(['version'])).toMatch(/^Client: v\d+\.\d+\.\d+\nServer: no control plane in the config/);
    // The quick paths print what the command tree would.
    expect(await tptctl.ok(['version', '--client'])).toMatch(/^Client: v\d+\.\d+\.\d+\n$/);
    expect(await tptctl.ok(['-i', 'none', 'version', '--client'])).toMatch(/^Client: v\d+\.\d+\.\d+\n$/);
    // The bundle's top-level help, rendered when it was built, is what commander prints from the sources.
    const fromCommander = await tptctl.ok(['--help'], { env: { TPTCTL_FROM_SOURCES: '1' } });
    expect(fromCommander).toContain('Usage: tptctl [options] [command]');
    expect(fromCommander).toBe(renderRootHelp());
    expect(await tptctl.ok(['--help'])).toBe(fromCommander);
    expect(await tptctl.ok(['-h'])).toBe(fromCommander);
    for (const shell of ['bash', 'zsh', 'fish']) expect(await tptctl.ok(['completion', shell])).toContain('tptctl __complete');
    expect(await tptctl.ok(['__complete', 'describe', 'aws-acc'])).toBe('aws-account\n');
    expect((await tptctl.fails(['completion', 'tcsh'])).stderr).toContain('unsupported shell "tcsh"');
  });
});
