/**
 * A TCP proxy in front of a server (the threeport API, a cluster's API server), to cut it off,
 * bring it back, or make the connections open now go silent — a half-open connection, as when a
 * peer or a NAT in between vanishes without closing it: nothing more passes either way, and
 * neither side is told. Stopped after the test (file) that made it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { cleanUp } from '../../support/control-plane.ts';

export interface TcpProxy {
  /** The proxy's URL, with the target's scheme. */
  url: string;
  /** Connections made through it so far. */
  readonly connections: number;
  /** Closes every connection and stops listening: connections are refused. */
  cut(): Promise<void>;
  /** Listens again, on the same port. */
  restore(): Promise<void>;
  /** The connections open now go silent for good; new ones work. */
  stall(): void;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  stalled: boolean;
}

export async function tcpProxy(target: URL): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;
  let connections = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        connections++;
        const upstream = connect(Number(target.port), target.hostname);
        const pair: Pair = { client, upstream, stalled: false };
        pairs.add(pair);
        client.pipe(upstream);
        upstream.pipe(client);
        const close = () => {
          pairs.delete(pair);
          // A stalled connection's end is not passed on: that is what makes it half-open.
          if (pair.stalled) return;
          client.destroy();
          upstream.destroy();
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server!.address();
        port = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  await listen();
  const cut = async () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };
  cleanUp(cut);
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    cut,
    restore: listen,
    stall() {
      for (const pair of pairs) {
        if (pair.stalled) continue;
        pair.stalled = true;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        // Whatever still arrives is swallowed: nothing passes, nothing is closed.
        pair.client.removeAllListeners('data').on('data', () => undefined);
        pair.upstream.removeAllListeners('data').on('data', () => undefined);
        pair.upstream.on('end', () => undefined);
      }
    },
  };
}
