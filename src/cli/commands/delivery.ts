/**
 * Delivery from the command line: `tptctl notify image-build` is the one call CI makes when it
 * built an image (a token of the `delivery` role can make it and nothing else); `tptctl approve`
 * passes a delivery's approval gate. `get deliveries` and `describe delivery` show where builds are.
 */
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { action, examples } from './run.ts';

interface NotifyOptions {
  repository: string;
  tag: string;
  digest?: string;
  commit?: string;
  ciRunUrl?: string;
  builtAt?: string;
}

async function notifyImageBuild(options: NotifyOptions, context: CliContext): Promise<void> {
  const build = await context
    .client()
    .kind('ImageBuild')
    .create({
      Repository: options.repository,
      Tag: options.tag,
      ...(options.digest && { Digest: options.digest }),
      ...(options.commit && { SourceCommit: options.commit }),
      ...(options.ciRunUrl && { CIRunURL: options.ciRunUrl }),
      BuiltAt: options.builtAt ?? new Date().toISOString(),
    });
  const pinned = options.digest ? `${options.repository}:${options.tag}@${options.digest}` : `${options.repository}:${options.tag} (no --digest: environments will run the tag, not a pinned digest)`;
  context.terminal.complete(`image build ${String(build.ID)} reported: ${pinned}; see where it goes with tptctl get deliveries`);
}

async function approve(name: string, options: { environment?: string; note?: string }, context: CliContext): Promise<void> {
  const deliveries = context.client().kind('Delivery');
  const delivery = await deliveries.findByName(name);
  if (!delivery) throw new CliError(`no delivery named ${name} (tptctl get deliveries lists them)`);
  const environment = options.environment ?? (delivery.Phase === 'AwaitingApproval' ? String(delivery.Environment) : undefined);
  if (!environment) {
    throw new CliError(`delivery ${name} is ${String(delivery.Phase ?? 'starting')}${delivery.Environment ? ` in ${String(delivery.Environment)}` : ''}, not waiting for an approval: name the environment to approve ahead with --environment`);
  }
  const policy = await context.client().kind('DeliveryPolicy').get(Number(delivery.DeliveryPolicyID));
  const names = Array.isArray(policy.Environments) ? (policy.Environments as { Name: string }[]).map((entry) => entry.Name) : [];
  if (!names.includes(environment)) throw new CliError(`delivery policy ${String(policy.Name)} has no environment ${environment}; it has ${names.join(', ')}`);
  const approvals = (delivery.Approvals ?? []) as { Environment: string; Note?: string }[];
  if (approvals.some((approval) => approval.Environment === environment)) {
    context.terminal.info(`delivery ${name} is already approved in ${environment}`);
    return;
  }
  // With the version read: an approval another person wrote meanwhile is kept, not overwritten.
  await deliveries.update(Number(delivery.ID), { Approvals: [...approvals, { Environment: environment, ...(options.note && { Note: options.note }) }] }, { version: Number(delivery.Version) });
  context.terminal.complete(`delivery ${name} approved in ${environment}: it moves on once the rest of the gate passes (tptctl describe delivery ${name})`);
}

export function registerDelivery(program: Command): void {
  const notify = program.command('notify').description('Tell threeport about something outside it (CI: a new image build)');
  notify
    .command('image-build')
    .description('Report a new build of a container image: threeport delivers it through the delivery policies of the workloads that run its repository (sending the same build again changes nothing)')
    .requiredOption('--repository <repository>', 'image repository, without tag, e.g. ghcr.io/acme/shop')
    .requiredOption('--tag <tag>', 'the tag CI pushed')
    .option('--digest <digest>', 'sha256:… of the pushed manifest: environments are pinned to it')
    .option('--commit <sha>', 'source commit the image was built from')
    .option('--ci-run-url <url>', 'link to the CI run')
    .addOption(new Option('--built-at <time>', 'when it was built (RFC 3339; default: now)'))
    .addHelpText(
      'after',
      examples([
        'tptctl notify image-build --repository ghcr.io/acme/shop --tag 1.5.0 --digest sha256:3b1f…',
        'THREEPORT_API_TOKEN=$CI_TOKEN tptctl notify image-build --repository ghcr.io/acme/shop --tag "$GIT_SHA" --digest "$DIGEST" --commit "$GIT_SHA" --ci-run-url "$RUN_URL"',
      ]),
    )
    .action(action<NotifyOptions>((options, context) => notifyImageBuild(options, context)));
  program
    .command('approve')
    .description("Pass a delivery's approval gate: the build goes on to the next environment once the rest of the gate (soak, window) passes")
    .argument('<delivery>', 'name of the delivery (tptctl get deliveries)')
    .option('--environment <name>', 'the environment to approve (default: the one the delivery waits in); approving ahead is allowed')
    .option('--note <text>', 'why, for the record')
    .addHelpText('after', examples(['tptctl approve shop-1-5-0', 'tptctl approve shop-1-5-0 --environment prod --note "release 1.5, CAB-1234"']))
    .action(action<{ environment?: string; note?: string }>((options, context, args) => approve(args[0]!, options, context)));
}
