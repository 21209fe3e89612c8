import type { Command } from 'commander';
import { loadConfigFiles } from '../documents/load.ts';
import { printPlans, planRequests } from '../operations/plan.ts';
import { applyAll } from '../operations/apply.ts';
import { parseDuration, waitFor } from '../operations/wait.ts';
import { action, examples } from './run.ts';

interface ApplyOptions {
  filename: string[];
  dryRun?: boolean;
  wait?: boolean;
  timeout: string;
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('Create or update the objects of one or more config files, by name, in dependency order')
    .requiredOption('-f, --filename <file...>', 'config files; each may hold several YAML documents of any kinds')
    .option('--dry-run', 'print what would be created or updated (checked by the API), and what each affected cluster would change (a server-side apply dry run), without writing')
    .option('--wait', 'wait until every created or updated object is ready (reconciled; a workload instance Healthy, a runtime Ready)')
    .option('--timeout <duration>', 'how long --wait waits, e.g. 90s, 5m', '5m')
    .addHelpText(
      'after',
      `
Each object is looked up by name: missing ones are created, existing ones are updated with the
fields the file sets (fields it leaves out keep their value). Every object is reported as
created, updated (with the changed fields) or unchanged.

--wait then waits for the objects created or updated, as create --wait does: until each is
reconciled and, for a workload instance, Healthy; for a Kubernetes runtime instance, Ready. It
shows their Status lines as they change, fails at once on Failed: …, and after --timeout names
what it was waiting for.${examples([
        'tptctl apply -f wordpress.yaml',
        'tptctl apply -f runtime.yaml -f workloads.yaml --dry-run',
        'tptctl apply -f wordpress.yaml --wait --timeout 10m',
      ])}`,
    )
    .action(
      action<ApplyOptions>(async (options, context) => {
        const { specs, warnings } = loadConfigFiles(options.filename);
        for (const warning of warnings) context.terminal.warning(warning);
        const entry = context.controlPlane();
        const client = context.client(entry);
        const cipher = context.cipher(entry);
        const results = await applyAll(client, specs, { dryRun: Boolean(options.dryRun), terminal: context.terminal, ...(cipher && { cipher }) });
        if (options.dryRun) await printPlans(client, planRequests(results), context.terminal);
        if (options.wait && !options.dryRun) {
          const changed = results.filter((result) => result.outcome !== 'unchanged' && result.object);
          await waitFor(client, changed.map(({ object }) => ({ kind: object!.kind, id: object!.object.ID as number, name: String(object!.object.Name) })), {
            until: 'ready',
            timeoutMs: parseDuration(options.timeout),
            terminal: context.terminal,
            announce: true,
          });
        }
      }),
    );
}
