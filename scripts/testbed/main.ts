/**
 * The test bed's command line: `npm run testbed -- <command>`.
 *   up [--clusters N] [--nodes N] [--no-aws] [--dir DIR]   start (building tools on first use)
 *   down [--dir DIR]                                     stop everything it started
 *   status [--dir DIR] [--json]                          what runs, and whether it is healthy
 *   env [--dir DIR]                                      shell variables: eval "$(npm run -s testbed -- env)"
 *   install [--no-aws]                                   only build/cache the tools
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { cacheRoot } from '../../src/local-runtime/cache.ts';
import { LocalRuntimeError } from '../../src/local-runtime/errors.ts';
import { defaultInstanceDir } from '../../src/testbed/paths.ts';
import { checkHealth } from '../../src/testbed/health.ts';
import { readDescription } from '../../src/testbed/description.ts';
import { TestbedError } from '../../src/testbed/errors.ts';
import { abandonStart, down, up } from '../../src/testbed/testbed.ts';
import { allToolGroups, installTools } from '../../src/local-runtime/tools/install.ts';
import { installTerraformFixture } from '../../src/testbed/terraform-fixture.ts';

/** Whether this process holds the instance's lock, i.e. is starting its peers right now. */
function isStartingNow(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(resolve(dir), '.lock'), 'utf8')) as { pid: number }).pid === process.pid;
  } catch {
    return false;
  }
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a whole number');
  return parsed;
}

const dirOption = ['--dir <dir>', 'instance directory', defaultInstanceDir] as const;

const program = new Command('testbed')
  .description('Real peers for threeport tests: kwok clusters, nats-server, PostgreSQL, moto, helm')
  .showHelpAfterError();

program
  .command('up')
  .description('start the test bed (builds missing tools into the cache first)')
  .option('--clusters <n>', 'kwok clusters, named a, b, …', count, 2)
  .option('--nodes <n>', 'fake nodes per cluster', count, 2)
  .option('--no-aws', 'do not start moto')
  .option(...dirOption)
  .action(async (options: { clusters: number; nodes: number; aws: boolean; dir: string }) => {
    // Ctrl-C while starting: stop what was started rather than leave it for `down`.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        if (!isStartingNow(options.dir)) process.exit(130);
        process.stderr.write(`testbed: ${signal}, stopping what was started\n`);
        void abandonStart(options.dir).finally(() => process.exit(130));
      });
    }
    const description = await up({ dir: options.dir, clusters: options.clusters, nodes: options.nodes, aws: options.aws });
    process.stdout.write(
      [
        `description: ${description.descriptionPath}`,
        `environment: ${description.envPath}   (source it in a shell)`,
        `postgres:    ${description.postgres.url}`,
        `nats:        ${description.nats.url}`,
        ...(description.aws ? [`aws (moto):  ${description.aws.endpoint}`] : []),
        ...description.clusters.map((cluster) => `cluster ${cluster.name}:   ${cluster.kubeconfigPath} (context ${cluster.context})`),
        '',
      ].join('\n'),
    );
  });

program
  .command('down')
  .description('stop everything the test bed started and remove its state')
  .option(...dirOption)
  .action(async (options: { dir: string }) => {
    await down(options.dir);
    process.stderr.write(`testbed: down (${resolve(options.dir)})\n`);
  });

program
  .command('status')
  .description("each peer's health; exits 1 unless all are healthy")
  .option(...dirOption)
  .option('--json', 'machine-readable')
  .action(async (options: { dir: string; json?: boolean }) => {
    const description = readDescription(resolve(options.dir));
    if (!description) {
      if (options.json) process.stdout.write(JSON.stringify({ up: false, peers: [] }) + '\n');
      else process.stdout.write(`not up (${resolve(options.dir)})\n`);
      process.exitCode = 1;
      return;
    }
    const health = await checkHealth(description);
    const healthy = health.every((peer) => peer.healthy);
    if (options.json) {
      process.stdout.write(JSON.stringify({ up: true, healthy, peers: health }, null, 2) + '\n');
    } else {
      for (const peer of health) process.stdout.write(`${peer.healthy ? 'ok  ' : 'FAIL'} ${peer.peer.padEnd(10)} ${peer.detail}\n`);
    }
    if (!healthy) process.exitCode = 1;
  });

program
  .command('env')
  .description('print the shell variables of the running test bed')
  .option(...dirOption)
  .action((options: { dir: string }) => {
    const description = readDescription(resolve(options.dir));
    if (!description) throw new TestbedError(`the test bed is not up (${resolve(options.dir)}); start it: npm run testbed -- up`);
    process.stdout.write(readFileSync(description.envPath, 'utf8'));
  });

program
  .command('install')
  .description(`build/cache the pinned tools only (cache: ${cacheRoot()})`)
  .option('--no-aws', 'skip moto')
  .action(async (options: { aws: boolean }) => {
    const paths = await installTools(allToolGroups.filter((group) => options.aws || group !== 'aws'));
    const { providerMirror } = await installTerraformFixture();
    for (const [name, path] of Object.entries({ ...paths, 'terraform providers': providerMirror })) process.stdout.write(`${name.padEnd(24)} ${path}\n`);
  });

try {
  await program.parseAsync();
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`testbed: ${error instanceof LocalRuntimeError ? '' : 'error: '}${message}\n`);
  if (process.env.DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
