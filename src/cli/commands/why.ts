/** `tptctl why KIND NAME`: the first thing an object depends on that is not ready, and why (operations/why.ts). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { humanName, kindNamed } from '../kind-names.ts';
import { DependencyWalker, explain } from '../operations/why.ts';
import { action, examples } from './run.ts';

async function why(kindName: string, name: string, context: CliContext): Promise<void> {
  const kind = kindNamed(kindName);
  const client = context.client();
  const object = await client.kind(kind.name).findByName(name);
  if (!object) throw new CliError(`no ${humanName(kind.name)} named ${name}`);
  context.terminal.print(explain(await new DependencyWalker(client).walk(kind, object)));
}

export function registerWhy(program: Command): void {
  program
    .command('why')
    .description(
      'Say why an object is not ready: walks what it depends on (definition, runtime, EKS cluster and cloud account; its gateways, domain names, secrets, databases and buckets; the support services they run on; a delivery\'s environment) and names the first thing not ready, with its status and latest warning',
    )
    .argument('<kind>', 'kind of the object, e.g. workload-instance')
    .argument('<name>', 'name of the object')
    .addHelpText('after', examples(['tptctl why workload-instance wordpress', 'tptctl why delivery shop-1-5-0']))
    .action(action((_options, context, args) => why(args[0]!, args[1]!, context)));
}
