import { ApiClient } from '../client/api-client.ts';
import { FieldCipher } from '../crypto/field-cipher.ts';
import { ControllerManager } from '../controller/manager.ts';
import { groupNames, partsOfGroups } from '../controllers/catalog.ts';
import type { Logger } from '../log.ts';
import { startApiServer, type RunningApiServer } from './api-server.ts';
import { certificateIssuerOf, dnsProviderOf, driftIntervalOf, metricsTargetsOf } from './controllers.ts';
import { helmProvider } from './helm.ts';
import { localClustersIn } from './local-clusters.ts';
import { terraformProvider } from './terraform.ts';
import type { ServerConfig } from './config.ts';

/**
 * The embedded control plane: API, outbox relay and every controller in one process, sharing one
 * database and one bus (the in-process bus unless a NATS URL is given).
 */
export async function startAllInOne(config: ServerConfig, logger: Logger): Promise<RunningApiServer> {
  // Refused before anything starts.
  const driftIntervalMs = driftIntervalOf(process.env.THREEPORT_DRIFT_INTERVAL);
  const certificateIssuer = certificateIssuerOf(process.env.THREEPORT_CERTIFICATE_ISSUER);
  const dnsProvider = dnsProviderOf(process.env.THREEPORT_DNS_PROVIDER, process.env.THREEPORT_DNS_PROVIDER_VALUES);
  const metricsTargets = metricsTargetsOf(process.env.THREEPORT_METRICS_TARGETS);
  const helm = helmProvider();
  const terraform = terraformProvider();
  const server = await startApiServer(config, logger);
  const settings = {
    apiUrl: process.env.THREEPORT_AGENT_API_URL || server.url,
    helm,
    terraform,
    ...(process.env.THREEPORT_AGENT_IMAGE && { agentImage: process.env.THREEPORT_AGENT_IMAGE }),
    ...(driftIntervalMs !== undefined && { driftIntervalMs }),
    ...(certificateIssuer && { gateway: { issuer: certificateIssuer } }),
    ...(dnsProvider && { dnsProvider }),
    ...(metricsTargets && { metricsTargets }),
    ...(server.auth && { agentAccess: { caCertificate: server.auth.caCertificate } }),
    // Set by tptctl up --local-runtime: local runtimes without a cluster get a simulated one started here.
    ...(process.env.THREEPORT_LOCAL_RUNTIMES_DIR && { localClusters: localClustersIn(process.env.THREEPORT_LOCAL_RUNTIMES_DIR) }),
  };
  const { reconcilers, runnables } = partsOfGroups(groupNames, settings);
  // With auth on, the controllers in this process call the API as one identity of their own, never stored.
  const client = server.auth
    ? new ApiClient({ baseUrl: server.url, tls: { ca: server.auth.caCertificate }, token: server.auth.resolver.internalToken({ name: 'controllers', roles: ['controller'] }), userAgent: 'threeport-controller' })
    : new ApiClient({ baseUrl: server.url, userAgent: 'threeport-controller' });
  const manager = new ControllerManager({
    bus: server.bus,
    client,
    reconcilers,
    runnables,
    logger: logger.child({ component: 'controllers' }),
    processMetrics: false,
    cipher: FieldCipher.fromBase64(config.encryptionKey),
  });
  // One /metrics for the process: the API's and the controllers'.
  server.metrics.include(manager.metrics.registry);
  try {
    await manager.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    ...server,
    close: () => (closing ??= manager.stop().then(() => server.close())),
  };
}
