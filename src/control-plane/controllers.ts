import { readFileSync } from 'node:fs';
import { NatsBus } from '../bus/nats.ts';
import { parseNatsUrl } from '../bus/nats-url.ts';
import { streamConfigs } from '../bus/streams.ts';
import { ApiClient } from '../client/api-client.ts';
import { resolveApiCredentials, type ApiCredentialFlags, type ApiCredentials } from './api-credentials.ts';
import { FieldCipher } from '../crypto/field-cipher.ts';
import { ControllerManager } from '../controller/manager.ts';
import { OptionsError } from '../controller/options.ts';
import { groupNames, isGroupName, partsOfGroups } from '../controllers/catalog.ts';
import { certificateIssuerHint, certificateIssuerNamed, type CertificateIssuer } from '../model/certificate-issuer.ts';
import { logLevels, type LogLevel, type Logger } from '../log.ts';
import type { ControllerGroupName } from '../model/controller-groups.ts';
import { registry } from '../model/registry.ts';
import { parseValues, ValuesError, type ChartMirror } from '../platform/helm/index.ts';
import type { DnsProvider } from '../controllers/gateway/domain-name-instance.ts';
import { chartMirrorOf, helmProvider } from './helm.ts';
import { terraformProvider, terraformProviderMirrorOf } from './terraform.ts';
import { ConfigError, parseHostPort, redactUrl } from './config.ts';

/** What `threeport controller` runs, after flags and environment are resolved and checked. */
export interface ControllerConfig {
  groups: ControllerGroupName[];
  apiUrl: string;
  apiCredentials: ApiCredentials;
  natsUrl: string;
  concurrency?: number;
  /** How long a crashed replica's locks hold off the others. */
  lockTtlMs?: number;
  metricsListen?: { host: string; port: number };
  logLevel: LogLevel;
  /** The control plane's key, to decrypt runtime credentials and account keys. */
  encryptionKey: string;
  /** Image of the agent installed into clusters that can run it; none: the controllers run the agents. */
  agentImage?: string;
  /** The API as agents in clusters reach it. */
  agentApiUrl: string;
  /** How often every workload instance is re-verified against its cluster. */
  driftIntervalMs?: number;
  /** Where every chart is fetched from instead of its own repository. */
  chartMirror?: ChartMirror;
  /** Where gateways' TLS certificates come from. */
  certificateIssuer?: CertificateIssuer;
  /** external-dns's provider, when not Route53. */
  dnsProvider?: DnsProvider;
  /** Where terraform's providers come from, when not their registries. */
  terraformProviderMirror?: string;
  /** host:port of threeport's processes' /metrics beside the API, for the stack on the control plane's runtime to scrape. */
  metricsTargets?: string[];
}

export interface ControllerFlags extends ApiCredentialFlags {
  apiUrl?: string;
  natsUrl?: string;
  concurrency?: string;
  lockTtl?: string;
  metricsListen?: string;
  logLevel?: string;
  encryptionKey?: string;
  agentImage?: string;
  agentApiUrl?: string;
  driftInterval?: string;
  chartMirror?: string;
  chartMirrorMap?: string;
  certificateIssuer?: string;
  dnsProvider?: string;
  dnsProviderValues?: string;
  terraformProviderMirror?: string;
}

export function resolveControllerConfig(groups: string[], flags: ControllerFlags, env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const selected = groups.includes('all') ? groupNames : groups;
  const unknown = selected.filter((group) => !isGroupName(group));
  if (unknown.length > 0) throw new ConfigError(`unknown controller group ${unknown.join(', ')}: use one or more of ${groupNames.join(', ')}, or all`);
  const apiUrl = flags.apiUrl ?? env.THREEPORT_API_URL ?? 'http://127.0.0.1:1323';
  try {
    if (!/^https?:$/.test(new URL(apiUrl).protocol)) throw new Error();
  } catch {
    throw new ConfigError(`invalid API URL "${apiUrl}": expected http(s)://host:port`);
  }
  const natsUrl = flags.natsUrl ?? env.THREEPORT_NATS_URL;
  if (!natsUrl) throw new ConfigError('controllers as their own process need NATS: set --nats-url or THREEPORT_NATS_URL (the embedded bus exists only inside `threeport all-in-one`)');
  try {
    parseNatsUrl(natsUrl);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const rawConcurrency = flags.concurrency ?? env.THREEPORT_CONCURRENCY;
  const concurrency = rawConcurrency === undefined ? undefined : Number(rawConcurrency);
  if (concurrency !== undefined && (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1024)) {
    throw new ConfigError(`invalid concurrency "${rawConcurrency}": a whole number from 1 to 1024`);
  }
  const rawLockTtl = flags.lockTtl ?? env.THREEPORT_LOCK_TTL;
  const lockTtlMs = rawLockTtl === undefined ? undefined : seconds(rawLockTtl) * 1000;
  if (lockTtlMs !== undefined && !(lockTtlMs >= 1000 && lockTtlMs <= 3_600_000)) {
    throw new ConfigError(`invalid lock TTL "${rawLockTtl}": seconds from 1 to 3600, e.g. 30 or 30s`);
  }
  const metrics = flags.metricsListen ?? env.THREEPORT_METRICS_LISTEN ?? '127.0.0.1:9464';
  const logLevel = (flags.logLevel ?? env.THREEPORT_LOG_LEVEL ?? 'info') as LogLevel;
  if (!logLevels.includes(logLevel)) throw new ConfigError(`invalid log level "${logLevel}": use one of ${logLevels.join(', ')}`);
  const agentApiUrl = flags.agentApiUrl ?? env.THREEPORT_AGENT_API_URL ?? apiUrl;
  try {
    if (!/^https?:$/.test(new URL(agentApiUrl).protocol)) throw new Error();
  } catch {
    throw new ConfigError(`invalid agent API URL "${agentApiUrl}": expected http(s)://host:port`);
  }
  const agentImage = flags.agentImage ?? env.THREEPORT_AGENT_IMAGE;
  const driftIntervalMs = driftIntervalOf(flags.driftInterval ?? env.THREEPORT_DRIFT_INTERVAL);
  const chartMirror = chartMirrorOf({ THREEPORT_CHART_MIRROR: flags.chartMirror ?? env.THREEPORT_CHART_MIRROR, THREEPORT_CHART_MIRROR_MAP: flags.chartMirrorMap ?? env.THREEPORT_CHART_MIRROR_MAP });
  const certificateIssuer = certificateIssuerOf(flags.certificateIssuer ?? env.THREEPORT_CERTIFICATE_ISSUER);
  const dnsProvider = dnsProviderOf(flags.dnsProvider ?? env.THREEPORT_DNS_PROVIDER, flags.dnsProviderValues ?? env.THREEPORT_DNS_PROVIDER_VALUES);
  const terraformProviderMirror = terraformProviderMirrorOf(flags.terraformProviderMirror ?? env.THREEPORT_TERRAFORM_PROVIDER_MIRROR);
  const metricsTargets = metricsTargetsOf(env.THREEPORT_METRICS_TARGETS);
  const encryptionKey = flags.encryptionKey ?? env.THREEPORT_ENCRYPTION_KEY ?? env.ENCRYPTION_KEY;
  // Refused at start, not at the first reconcile: every group reaches a cluster or a cloud with
  // credentials the API stores encrypted.
  if (!encryptionKey) throw new ConfigError('controllers need the API\'s encryption key to read runtime credentials and account keys: set --encryption-key or THREEPORT_ENCRYPTION_KEY (the same key the API runs with)');
  try {
    FieldCipher.fromBase64(encryptionKey);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    groups: selected as ControllerGroupName[],
    encryptionKey,
    ...(agentImage && { agentImage }),
    ...(driftIntervalMs !== undefined && { driftIntervalMs }),
    ...(chartMirror && { chartMirror }),
    ...(certificateIssuer && { certificateIssuer }),
    ...(dnsProvider && { dnsProvider }),
    ...(terraformProviderMirror && { terraformProviderMirror }),
    ...(metricsTargets && { metricsTargets }),
    agentApiUrl,
    apiUrl,
    apiCredentials: resolveApiCredentials(flags, env),
    natsUrl,
    ...(concurrency !== undefined && { concurrency }),
    ...(lockTtlMs !== undefined && { lockTtlMs }),
    ...(metrics !== 'off' && { metricsListen: parseHostPort(metrics, 'metrics listen address', '0.0.0.0', '0.0.0.0:9464') }),
    logLevel,
  };
}

/** --drift-interval / THREEPORT_DRIFT_INTERVAL in ms (undefined: the controllers' default, 60 s). */
export function driftIntervalOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = seconds(raw) * 1000;
  if (!(ms >= 10_000 && ms <= 86_400_000)) throw new ConfigError(`invalid drift interval "${raw}": seconds from 10 to 86400, e.g. 60 or 300s`);
  return ms;
}

/**
 * --certificate-issuer / THREEPORT_CERTIFICATE_ISSUER: `letsencrypt` (the default),
 * `letsencrypt-staging`, `self-signed` (clusters no ACME server can reach), or the https:// URL of
 * any ACME directory (a private CA's, say).
 */
export function certificateIssuerOf(raw: string | undefined): CertificateIssuer | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const issuer = certificateIssuerNamed(value);
  if (!issuer) throw new ConfigError(`invalid certificate issuer "${value}": ${certificateIssuerHint}`);
  return issuer;
}

/**
 * --dns-provider / THREEPORT_DNS_PROVIDER: external-dns's provider for domain names; `aws` (the
 * default) is Route53 with the runtime's AWS account. Another needs its settings and credentials
 * as external-dns Helm values: --dns-provider-values / THREEPORT_DNS_PROVIDER_VALUES, a YAML file.
 */
export function dnsProviderOf(name: string | undefined, valuesFile: string | undefined): DnsProvider | undefined {
  const provider = name?.trim();
  if (!provider) {
    if (valuesFile?.trim()) throw new ConfigError('--dns-provider-values (THREEPORT_DNS_PROVIDER_VALUES) is for a DNS provider other than Route53: set --dns-provider too');
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9-]*$/.test(provider)) throw new ConfigError(`invalid DNS provider "${provider}": an external-dns provider name such as aws, cloudflare, google or azure`);
  if (provider === 'aws' || !valuesFile?.trim()) return { name: provider };
  let text: string;
  try {
    text = readFileSync(valuesFile.trim(), 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the DNS provider values ${valuesFile.trim()}: ${(error as Error).message}`);
  }
  try {
    return { name: provider, values: parseValues(text, `the DNS provider values ${valuesFile.trim()}`) };
  } catch (error) {
    throw error instanceof ValuesError ? new ConfigError(error.message) : error;
  }
}

/** THREEPORT_METRICS_TARGETS: `host:port,…` of threeport processes serving /metrics (controllers run apart), as the clusters reach them. */
export function metricsTargetsOf(raw: string | undefined): string[] | undefined {
  if (!raw?.trim()) return undefined;
  const targets = raw.split(',').map((target) => target.trim()).filter(Boolean);
  const bad = targets.find((target) => !/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(target));
  if (bad) throw new ConfigError(`invalid THREEPORT_METRICS_TARGETS entry "${bad}": expected host:port, e.g. threeport-controllers:9464`);
  return targets;
}

/** "30", "30s" → 30; anything else NaN. */
const seconds = (text: string): number => (/^\d+(\.\d+)?s?$/.test(text.trim()) ? Number(text.trim().replace(/s$/, '')) : Number.NaN);

export interface RunningControllers {
  manager: ControllerManager;
  close(): Promise<void>;
}

/** Starts the given controller groups on NATS, talking to the API at `apiUrl`. */
export async function startControllers(config: ControllerConfig, logger: Logger): Promise<RunningControllers> {
  const { reconcilers, runnables } = partsOfGroups(config.groups, {
    apiUrl: config.agentApiUrl,
    helm: helmProvider(process.env, config.chartMirror),
    terraform: terraformProvider(process.env, config.terraformProviderMirror),
    ...(config.agentImage && { agentImage: config.agentImage }),
    ...(config.driftIntervalMs !== undefined && { driftIntervalMs: config.driftIntervalMs }),
    ...(config.certificateIssuer && { gateway: { issuer: config.certificateIssuer } }),
    ...(config.dnsProvider && { dnsProvider: config.dnsProvider }),
    ...(config.metricsTargets && { metricsTargets: config.metricsTargets }),
    // The API's auth is on when these controllers need credentials for it: so do the agents they install.
    ...((config.apiCredentials.token || config.apiCredentials.tls?.certificate) && { agentAccess: { ...(config.apiCredentials.tls?.ca && { caCertificate: config.apiCredentials.tls.ca }) } }),
  });
  if (reconcilers.length === 0) logger.warn({ groups: config.groups }, 'these controller groups have no reconcilers yet; only metrics are served');
  const bus = new NatsBus({ url: config.natsUrl, logger, streams: streamConfigs(registry) });
  try {
    const manager = new ControllerManager({
      bus,
      client: new ApiClient({ baseUrl: config.apiUrl, userAgent: 'threeport-controller', ...config.apiCredentials }),
      reconcilers,
      runnables,
      logger,
      runtime: { ...(config.concurrency !== undefined && { concurrency: config.concurrency }), ...(config.lockTtlMs !== undefined && { lockTtlMs: config.lockTtlMs }) },
      processMetrics: true,
      ...(config.metricsListen && { metricsListen: config.metricsListen }),
      cipher: FieldCipher.fromBase64(config.encryptionKey),
    });
    await manager.start();
    logger.info({ groups: config.groups, api: config.apiUrl, nats: redactUrl(config.natsUrl) }, 'controllers running');
    return {
      manager,
      close: async () => {
        await manager.stop();
        await bus.close();
      },
    };
  } catch (error) {
    await bus.close();
    if (error instanceof OptionsError) throw new ConfigError(error.message);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ConfigError(`cannot serve metrics on ${config.metricsListen?.host}:${config.metricsListen?.port}: the address is in use`);
    throw error;
  }
}
