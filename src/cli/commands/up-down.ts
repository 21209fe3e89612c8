import type { ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import type { ApiClient } from '../../client/api-client.ts';
import { readConfig, removeControlPlane, type ControlPlaneEntry, upsertControlPlane, writeConfig } from '../config/threeport-config.ts';
import { embeddedProvider, isLoopbackListen } from '../providers/embedded.ts';
import { revokeOtherCertificates } from './access.ts';
import { readClusterConnection, registerRuntime } from '../providers/local-runtime.ts';
import type { ControlPlaneProvider } from '../providers/provider.ts';
import { NODES, prepareSimulatedRuntime, simulatedRuntimeDir, startSimulatedRuntime, stopSimulatedRuntime, type RuntimeTools } from '../providers/simulated-runtime.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { parseDuration, waitFor } from '../operations/wait.ts';
import { action, examples, reportError } from './run.ts';

const providers: Record<string, ControlPlaneProvider> = { embedded: embeddedProvider };

interface UpFlags {
  name: string;
  provider: string;
  listen: string;
  foreground?: boolean;
  forceOverwriteConfig?: boolean;
  kubeconfig?: string;
  kubeContext?: string;
  context?: string;
  localRuntime?: boolean;
  logLevel: string;
  timeout: string;
  authEnabled?: string | boolean;
  tlsNames?: string;
}

/** `--auth-enabled`, `--auth-enabled=false`, or nothing: on unless the API listens on loopback only. */
function authEnabledOf(given: string | boolean | undefined, listen: string): boolean {
  if (given === undefined) return !isLoopbackListen(listen);
  if (given === true || /^(true|1|yes)$/i.test(String(given))) return true;
  if (/^(false|0|no)$/i.test(String(given))) return false;
  throw new CliError(`invalid --auth-enabled "${String(given)}": use --auth-enabled or --auth-enabled=false`);
}

async function up(options: UpFlags, context: CliContext): Promise<void> {
  const provider = providers[options.provider];
  if (!provider) throw new CliError(`unsupported provider "${options.provider}": supported providers are ${Object.keys(providers).join(', ')}`);
  if (options.name.length > 30 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.name)) {
    throw new CliError(`invalid control plane name "${options.name}": at most 30 lowercase letters, digits and dashes`);
  }
  const { terminal, configPath } = context;
  const before = readConfig(configPath);
  if (before.ControlPlanes.some((entry) => entry.Name === options.name) && !options.forceOverwriteConfig) {
    throw new CliError(`failed to create threeport control plane\nthreeport config already contains a control plane named ${options.name}`, {
      hint: `stop it with 'tptctl down --name ${options.name}', or use --force-overwrite-config (you will lose the ability to connect to it if it is still running)`,
    });
  }
  if (options.context !== undefined && options.kubeContext !== undefined && options.context !== options.kubeContext) {
    throw new CliError(`--context ${options.context} and --kube-context ${options.kubeContext} name different contexts: --kube-context is another name of --context, give one`);
  }
  const kubeContext = options.context ?? options.kubeContext;
  if (options.localRuntime && (options.kubeconfig || kubeContext)) {
    throw new CliError('--local-runtime starts a simulated cluster; --kubeconfig/--context register a cluster you have: choose one');
  }
  const timeoutMs = parseDuration(options.timeout);
  const authEnabled = authEnabledOf(options.authEnabled, options.listen);
  const connection = options.kubeconfig || kubeContext ? readClusterConnection(options.kubeconfig ?? `${process.env.HOME}/.kube/config`, kubeContext) : undefined;
  // Before the control plane starts: the first use builds for minutes, and a missing Go must fail with nothing running.
  const runtimeTools = options.localRuntime ? await prepareSimulatedRuntime() : undefined;

  terminal.info(`Starting threeport control plane ${options.name} (${provider.name}: ${provider.description})`);
  let child: ChildProcess | undefined;
  const entry = await provider.up({
    name: options.name,
    configDir: dirname(configPath),
    listen: options.listen,
    logLevel: options.logLevel,
    authEnabled,
    ...(options.tlsNames && { tlsNames: options.tlsNames }),
    foreground: Boolean(options.foreground),
    localRuntimes: Boolean(runtimeTools),
    timeoutMs,
    onStarted: (started) => (child = started),
  });
  terminal.info(`Threeport API is running${authEnabled ? ' (auth on: your client certificate, user admin, is in the threeport config)' : ''}`);
  if (!authEnabled) terminal.warning(`auth is disabled: anything that can reach ${options.listen} may change every cluster of this control plane`);
  if (runtimeTools) {
    if (!entry.Embedded) throw new CliError(`--local-runtime needs the embedded provider`);
    entry.Embedded.LocalRuntime = simulatedRuntimeDir(entry.Embedded.Directory);
  }
  // Written before the local runtime starts, so that `tptctl down` finds it should this process die.
  writeConfig(configPath, upsertControlPlane(readConfig(configPath), entry));
  terminal.info('Threeport config updated');
  // The entry it replaced (a restart with --keep-data) held the admin's previous certificate.
  if (authEnabled) await revokeOtherCertificates(context.client(entry), entry);
  if (runtimeTools) await addSimulatedRuntime(entry, runtimeTools, provider, context, timeoutMs);
  if (connection) {
    let runtime: string | undefined;
    try {
      const client = context.client(entry);
      runtime = await registerRuntime(client, options.name, connection);
      terminal.info(`Kubernetes runtime ${runtime} registered as the default runtime (context ${connection.context})`);
      await untilReady(client, runtime, timeoutMs, context);
    } catch (error) {
      reportError(terminal, error);
      terminal.info(
        runtime
          ? `the control plane is running and keeps trying the cluster; see why with: tptctl describe kubernetes-runtime-instance ${runtime}`
          : 'the control plane is running; register the runtime later with tptctl create kubernetes-runtime',
      );
      process.exitCode = 1;
    }
  }
  terminal.complete(`Threeport control plane ${options.name} created`);
  if (options.foreground && child) await runAttached(child, entry, context);
}

/**
 * Starts the control plane's simulated cluster and registers it as the default runtime. `up`
 * fails as a whole when this does: the cluster and the control plane are stopped again and the
 * config entry removed; the control plane's directory stays, with the logs.
 */
async function addSimulatedRuntime(entry: ControlPlaneEntry, tools: RuntimeTools, provider: ControlPlaneProvider, context: CliContext, timeoutMs: number): Promise<void> {
  try {
    const { connection, kubeconfigPath } = await startSimulatedRuntime(entry, tools, context.terminal);
    const client = context.client(entry);
    const runtime = await registerRuntime(client, entry.Name, connection);
    context.terminal.info(`Kubernetes runtime ${runtime} registered as the default runtime: ${NODES} simulated nodes, kubeconfig ${kubeconfigPath} (context ${connection.context})`);
    await untilReady(client, runtime, timeoutMs, context);
  } catch (error) {
    try {
      await provider.down(entry, { keepData: true });
    } finally {
      await stopSimulatedRuntime(entry);
    }
    writeConfig(context.configPath, removeControlPlane(readConfig(context.configPath), entry.Name));
    context.terminal.info(`stopped control plane ${entry.Name} and its local runtime again; logs are in ${entry.Embedded?.Directory}`);
    throw error;
  }
}

/** Waits until the runtime controller found the cluster reachable and installed threeport's components. */
async function untilReady(client: ApiClient, name: string, timeoutMs: number, context: CliContext): Promise<void> {
  const runtime = await client.kind('KubernetesRuntimeInstance').findByName(name);
  if (!runtime) throw new CliError(`Kubernetes runtime instance ${name} was registered but is gone`);
  await waitFor(client, [{ kind: 'KubernetesRuntimeInstance', id: Number(runtime.ID), name }], { until: 'ready', timeoutMs, terminal: context.terminal, announce: true });
}

/** `--foreground`: stay with the process; Ctrl-C stops it (and its local runtime) and removes the config entry (the data stays). */
async function runAttached(child: ChildProcess, entry: ControlPlaneEntry, context: CliContext): Promise<void> {
  const name = entry.Name;
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit))));
  await stopSimulatedRuntime(entry);
  writeConfig(context.configPath, removeControlPlane(readConfig(context.configPath), name));
  context.terminal.info(`Threeport control plane ${name} stopped; its data is kept (tptctl up --name ${name} starts it again)`);
  process.exitCode = code ?? 0;
}

async function down(options: { name?: string; keepData?: boolean }, context: CliContext): Promise<void> {
  const config = context.readConfig();
  const name = options.name || config.CurrentControlPlane;
  if (!name) throw new CliError('no control plane given and no current control plane is set', { hint: 'use tptctl down --name <name>' });
  const entry = config.ControlPlanes.find((candidate) => candidate.Name === name);
  if (!entry) throw new CliError(`control plane ${name} is not in ${context.configPath}`);
  if (!entry.Genesis) throw new CliError(`could not delete control plane ${name} because it is not a genesis control plane (it was not created by tptctl up)`);
  const provider = providers[String(entry.Provider)];
  if (!provider) throw new CliError(`control plane ${name} uses provider "${String(entry.Provider)}", which this tptctl cannot tear down`);
  // The control plane first (it would start a local runtime's cluster again), its directory kept:
  // the clusters' process records live there. Then the clusters, then the directory unless kept.
  await provider.down(entry, { keepData: true });
  await stopSimulatedRuntime(entry);
  if (!options.keepData) await provider.down(entry, { keepData: false });
  writeConfig(context.configPath, removeControlPlane(readConfig(context.configPath), name));
  context.terminal.info('Threeport config updated');
  context.terminal.complete(`Threeport control plane ${name} deleted${options.keepData ? ' (data kept)' : ''}`);
}

export function registerUpDown(program: Command): void {
  program
    .command('up')
    .description('Start a threeport control plane and make it the current one')
    .addOption(new Option('-n, --name <name>', 'control plane name (at most 30 characters)').default('threeport'))
    .addOption(new Option('-p, --provider <provider>', 'where it runs').choices(Object.keys(providers)).default('embedded'))
    .option('--listen <host:port>', 'address of the API', '127.0.0.1:1323')
    .option('--foreground', 'stay attached: logs on the terminal, Ctrl-C stops it')
    .option('--force-overwrite-config', 'replace an entry of the same name in the threeport config')
    .option('--kubeconfig <path>', 'register the cluster of this kubeconfig as the default Kubernetes runtime, and wait until it is Ready')
    .option('--context <context>', 'kubeconfig context of that cluster (default: its current context)')
    .option('--kube-context <context>', 'the same as --context')
    .option('--local-runtime', `no cluster? start a simulated one (kwok, ${NODES} nodes) as the default runtime: pods are scheduled, containers do not run`)
    .option('--auth-enabled [true|false]', 'HTTPS with client certificates, roles enforced; tptctl up makes the CA and your admin certificate (default: on unless --listen is a loopback address)')
    .option('--tls-names <names>', 'with auth on: comma-separated DNS names and addresses others reach the API by, for its certificate (the listen address is in it)')
    .option('--log-level <level>', 'log level of the control plane', 'info')
    .option('--timeout <duration>', 'how long to wait for the API to answer, and then for the runtime to be Ready', '60s')
    .addHelpText(
      'after',
      `
The embedded control plane needs nothing installed: its data, log and pid file live under the
threeport config directory (~/.threeport/control-planes/<name>/). Starting it again after
'tptctl down --keep-data' reuses its data. The config entry it writes is the original's
(Name, Provider, Genesis, AuthEnabled, APIServer, EncryptionKey), with the key of the control
plane's encrypted fields, so that tptctl can show them (describe -f).

--kubeconfig PATH [--context C] registers that cluster as the default Kubernetes runtime
(threeport-<name>); the control plane then checks it and installs threeport's components into
it, and 'up' waits until the runtime is Ready (Ready: Kubernetes v1.34, 3 node(s); …) or says why
not (Error: cannot reach the cluster: …). Workloads created without a KubernetesRuntimeInstance
go there.

--local-runtime starts a local simulated Kubernetes cluster for users without one and registers
it as the default runtime; 'tptctl down' stops it. It is a real kube-apiserver, controller-manager
and scheduler on etcd with kwok simulating ${NODES} nodes: manifests are applied to a real API server,
validated and scheduled, and Pods are reported Running, but no container runs (no image is
pulled, no traffic is served). Its state lives under the control plane's directory and is not
kept by --keep-data. The first use builds its binaries from source into ~/.cache/threeport (needs
Go 1.24+; about 8 minutes on 2 cores); later starts take seconds. With kind, k3d or a real cluster, use
--kubeconfig instead.${examples([
        'tptctl up',
        'tptctl up --local-runtime',
        'tptctl up --name dev --listen 127.0.0.1:8080',
        'tptctl up --kubeconfig ~/.kube/config --context kind-dev',
        'tptctl up --local-runtime && tptctl create workload -c samples/wordpress-workload.yaml --wait',
        'tptctl up --foreground --log-level debug',
      ])}`,
    )
    .action(action<UpFlags>((options, context) => up(options, context)));

  program
    .command('down')
    .description('Stop a control plane started with tptctl up and remove it from the config')
    .option('-n, --name <name>', 'control plane name (default: the current one)')
    .option('--keep-data', 'keep its database so that tptctl up starts it again with the same objects')
    .addHelpText('after', examples(['tptctl down', 'tptctl down --name dev --keep-data']))
    .action(action<{ name?: string; keepData?: boolean }>((options, context) => down(options, context)));
}
