import { Command, Option } from 'commander';
import { createLogger } from '../log.ts';
import type { startApiServer } from './api-server.ts';
import { ConfigError, defaultDataDir, resolveServerConfig, type ServerFlags } from './config.ts';
import type { AgentFlags } from './agent.ts';
import type { ControllerFlags } from './controllers.ts';
// The groups' names only: the catalog brings every controller's code, which `server` never runs.
import { controllerGroups } from '../model/controller-groups.ts';
import { VERSION } from './version.ts';
import { apiCredentialOptions } from './api-credentials.ts';
import { isSupervisor, reportWorkerReady, superviseWorkers } from './workers.ts';

/** Fails the process with a message a person can act on, and no stack trace. */
function fail(error: unknown): never {
  const message = error instanceof ConfigError ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`threeport: ${message}\n`);
  process.exit(1);
}

/** Runs until SIGTERM/SIGINT, then closes what `start` returned. */
async function runServer(flags: ServerFlags, start: typeof startApiServer): Promise<void> {
  const config = resolveServerConfig(flags);
  const logger = createLogger(config.logLevel);
  if (isSupervisor(config.workers)) return superviseWorkers(config.workers, logger);
  closeOnSignal(await start(config, logger), logger);
  reportWorkerReady();
}

async function runControllers(groups: string[], flags: ControllerFlags): Promise<void> {
  const { resolveControllerConfig, startControllers } = await import('./controllers.ts');
  const config = resolveControllerConfig(groups, flags);
  const logger = createLogger(config.logLevel, 'threeport-controller');
  closeOnSignal(await startControllers(config, logger), logger, 30_000);
}

async function runAgent(flags: AgentFlags): Promise<void> {
  const { resolveAgentConfig, startAgent } = await import('./agent.ts');
  const config = resolveAgentConfig(flags);
  const logger = createLogger(config.logLevel, 'threeport-agent');
  closeOnSignal(await startAgent(config, logger), logger, 15_000);
}

function closeOnSignal(server: { close(): Promise<void> }, logger: ReturnType<typeof createLogger>, forceAfterMs = 15_000): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), forceAfterMs).unref();
    server.close().then(() => {
      clearTimeout(forced);
      logger.flush();
      process.exit(0);
    }, fail);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function serverOptions(command: Command): Command {
  return command
    .addOption(new Option('--listen <host:port>', 'address to listen on [env THREEPORT_LISTEN] (default: "127.0.0.1:1323")'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL or CockroachDB URL; without it, an embedded database in --data-dir [env THREEPORT_DATABASE_URL]'))
    .addOption(new Option('--data-dir <dir>', `directory of the embedded database [env THREEPORT_DATA_DIR] (default: "${defaultDataDir()}")`))
    .addOption(new Option('--nats-url <url>', 'NATS JetStream URL; without it, an in-process bus [env THREEPORT_NATS_URL]'))
    .addOption(new Option('--encryption-key <base64>', 'AES-256 key for encrypted fields, 32 bytes base64 [env THREEPORT_ENCRYPTION_KEY or ENCRYPTION_KEY]; generated into --data-dir in embedded mode'))
    .addOption(new Option('--log-level <level>', 'trace, debug, info, warn, error [env THREEPORT_LOG_LEVEL] (default: "info")'))
    .addOption(new Option('--body-limit <bytes>', 'largest request body accepted [env THREEPORT_BODY_LIMIT] (default: 4 MiB)'))
    .addOption(new Option('--auth-enabled <true|false>', 'HTTPS with client certificates and bearer tokens, roles enforced [env THREEPORT_AUTH_ENABLED] (default: true, false when listening on loopback only)'))
    .addOption(new Option('--allow-unauthenticated', 'allow --auth-enabled=false on an address other than loopback [env THREEPORT_ALLOW_UNAUTHENTICATED]'))
    .addOption(new Option('--tls-names <names>', 'comma-separated DNS names and addresses clients reach the API by, for its certificate [env THREEPORT_TLS_NAMES] (loopback and threeport-api-server.* always)'))
    .addOption(new Option('--certificate-lifetime <duration>', 'longest life of a client certificate the API issues, e.g. 720h or 90d [env THREEPORT_CERTIFICATE_LIFETIME] (default: 90d)'))
    .addOption(new Option('--require-client-certificates', 'refuse connections without a client certificate at the TLS handshake; bearer tokens then work only beside one [env THREEPORT_REQUIRE_CLIENT_CERTIFICATES]'))
    .addOption(new Option('--bootstrap-credentials <file>', 'at start, issue a certificate to the user admin and write it with the CA to this file, mode 0600 [env THREEPORT_BOOTSTRAP_CREDENTIALS]'));
}

function apiCredentialFlags(command: Command): Command {
  for (const [flags, description] of apiCredentialOptions) command.addOption(new Option(flags, description));
  return command;
}

const program = new Command('threeport')
  .description('threeport control plane processes')
  .version(VERSION, '-v, --version')
  .showHelpAfterError();

serverOptions(program.command('server').description('Run the REST API and the notification relay'))
  .addOption(new Option('--workers <n>', 'API processes sharing the port, or "auto" for one per CPU; needs --database-url [env THREEPORT_WORKERS] (default: 1)'))
  .addHelpText(
    'after',
    `
Examples:
  threeport server                                    embedded database and bus, on 127.0.0.1:1323
  threeport server --database-url postgres://threeport@127.0.0.1:5432/threeport \\
                   --nats-url nats://127.0.0.1:4222    production wiring`,
  )
  .action((flags: ServerFlags) => runServer(flags, async (config, logger) => (await import('./api-server.ts')).startApiServer(config, logger)).catch(fail));

serverOptions(program.command('all-in-one').description('Run the API, the relay and every controller in one process (what `tptctl up` starts)'))
  .addHelpText(
    'after',
    `
Its controllers take the settings \`threeport controller --help\` explains from the environment:
THREEPORT_AGENT_IMAGE, THREEPORT_AGENT_API_URL, THREEPORT_DRIFT_INTERVAL,
THREEPORT_CHART_MIRROR, THREEPORT_CHART_MIRROR_MAP, THREEPORT_CERTIFICATE_ISSUER,
THREEPORT_DNS_PROVIDER, THREEPORT_DNS_PROVIDER_VALUES, THREEPORT_TERRAFORM_PROVIDER_MIRROR,
THREEPORT_HELM, THREEPORT_TERRAFORM, and the AWS SDK's AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>.
THREEPORT_LOCAL_RUNTIMES_DIR (set by \`tptctl up --local-runtime\`): runtimes with InfraProvider kind
and Location Local that have no connection details get a simulated cluster started there.

Example:
  threeport all-in-one --data-dir ~/.threeport/control-planes/dev/data`,
  )
  .action((flags: ServerFlags) =>
    runServer({ ...flags, workers: '1' }, async (config, logger) => (await import('./all-in-one.ts')).startAllInOne(config, logger)).catch(fail),
  );

apiCredentialFlags(program.command('controller'))
  .description('Run controller groups as one process, on NATS, against the API')
  .argument('<groups...>', `controller groups to run: ${Object.keys(controllerGroups).join(', ')}, or all`)
  .addOption(new Option('--api-url <url>', 'threeport API [env THREEPORT_API_URL] (default: "http://127.0.0.1:1323")'))
  .addOption(new Option('--nats-url <url>', 'NATS JetStream URL, required [env THREEPORT_NATS_URL]'))
  .addOption(new Option('--concurrency <n>', 'reconciles at once per reconciler in this process [env THREEPORT_CONCURRENCY] (default: 8)'))
  .addOption(new Option('--lock-ttl <seconds>', 'how long the objects a crashed replica was reconciling wait before another takes them over [env THREEPORT_LOCK_TTL] (default: 30)'))
  .addOption(new Option('--metrics-listen <host:port>', 'where /metrics and /healthz are served, or "off" [env THREEPORT_METRICS_LISTEN] (default: "127.0.0.1:9464")'))
  .addOption(new Option('--log-level <level>', 'trace, debug, info, warn, error [env THREEPORT_LOG_LEVEL] (default: "info")'))
  .addOption(new Option('--encryption-key <base64>', 'the API\'s AES-256 key, required: controllers decrypt runtime credentials and account keys [env THREEPORT_ENCRYPTION_KEY or ENCRYPTION_KEY]'))
  .addOption(new Option('--agent-image <image>', 'image of the agent to run in clusters; without it the controllers run every cluster\'s agent [env THREEPORT_AGENT_IMAGE]'))
  .addOption(new Option('--agent-api-url <url>', 'the API as agents in clusters reach it [env THREEPORT_AGENT_API_URL] (default: --api-url)'))
  .addOption(new Option('--chart-mirror <url>', 'fetch every chart (support services\' and users\') from this http(s):// chart repository or oci:// registry instead of its own repository [env THREEPORT_CHART_MIRROR]'))
  .addOption(new Option('--chart-mirror-map <from=to,...>', 'fetch the charts of these repositories from other places (before --chart-mirror), e.g. https://charts.jetstack.io=https://mirror.example.com/jetstack [env THREEPORT_CHART_MIRROR_MAP]'))
  .addOption(new Option('--certificate-issuer <issuer>', 'where gateways\' TLS certificates come from: letsencrypt, letsencrypt-staging, self-signed, or an https:// ACME directory URL [env THREEPORT_CERTIFICATE_ISSUER] (default: "letsencrypt")'))
  .addOption(new Option('--dns-provider <name>', 'external-dns provider for domain names: aws (Route53 with the runtime\'s AWS account) or another external-dns provider [env THREEPORT_DNS_PROVIDER] (default: "aws")'))
  .addOption(new Option('--dns-provider-values <file>', 'external-dns Helm values (YAML) for a provider other than aws: its settings and credentials [env THREEPORT_DNS_PROVIDER_VALUES]'))
  .addOption(new Option('--drift-interval <seconds>', 'how often every workload instance is re-verified against its cluster, drift corrected [env THREEPORT_DRIFT_INTERVAL] (default: 60)'))
  .addOption(new Option('--terraform-provider-mirror <dir|url>', 'take terraform providers only from this filesystem mirror folder or https:// network mirror, not their registries [env THREEPORT_TERRAFORM_PROVIDER_MIRROR]'))
  .addHelpText('after', '\nHelm workloads run the real helm v3: THREEPORT_HELM (its path; else helm on the PATH, else built into the cache on first use). Terraform instances run the real terraform: THREEPORT_TERRAFORM, likewise. AWS endpoints come from the SDK\'s standard settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).\n\nExamples:\n  threeport controller all --api-url http://threeport-api:1323 --nats-url nats://nats:4222\n  threeport controller workload gateway --concurrency 16')
  .action((groups: string[], flags: ControllerFlags) => runControllers(groups, flags).catch(fail));

apiCredentialFlags(program.command('agent'))
  .description('Report what happens in a cluster to the API (the agent, run by threeport in the cluster or by the control plane; run it yourself for runtimes with AgentLocation External)')
  .addOption(new Option('--api-url <url>', 'threeport API [env THREEPORT_API_URL]'))
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig of the cluster [env KUBECONFIG] (default: the pod\'s service account in a cluster, else ~/.kube/config)'))
  .addOption(new Option('--context <context>', 'kubeconfig context (default: its current context)'))
  .addOption(new Option('--control-plane-id <id>', 'report only what this control plane made [env THREEPORT_CONTROL_PLANE_ID] (default: asked from the API)'))
  .addOption(new Option('--log-level <level>', 'trace, debug, info, warn, error [env THREEPORT_LOG_LEVEL] (default: "info")'))
  .addHelpText('after', '\nExamples:\n  threeport agent --api-url http://127.0.0.1:1323 --kubeconfig ~/.kube/config --context kind-dev')
  .action((flags: AgentFlags) => runAgent(flags).catch(fail));

program.parseAsync().catch(fail);
