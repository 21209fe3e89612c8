import type { Logger } from '../log.ts';
import { startApiServer, type RunningApiServer } from './api-server.ts';
import type { ServerConfig } from './config.ts';

/**
 * The embedded control plane: API, outbox relay and every controller in one process, sharing one
 * database and one bus (the in-process bus unless a NATS URL is given).
 */
export async function startAllInOne(config: ServerConfig, logger: Logger): Promise<RunningApiServer> {
  // Controllers join here once the controller runtime exists; until then this is the API and relay.
  return startApiServer(config, logger);
}
