/**
 * A TCP proxy in front of a server (the threeport API, a cluster's API server), to cut it off,
 * bring it back, or make connections go silent — a half-open connection, as when a peer or a NAT
 * in between vanishes without closing it: nothing more passes either way, and neither side is
 * told. Stopped after the test (file) that made it.
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
  /** The connections open now go silent for good; new ones too until resume(). */
  stall(): void;
  /** New connections work again (those stalled stay silent). */
  resume(): void;
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
  let stallNew = false;
  const silent = new Set<Socket>();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        connections++;
        if (stallNew) {
          // Accepted, and then nothing: no upstream, no answer, no close.
          silent.add(client);
          client.on('data', () => undefined).on('error', () => undefined).on('close', () => silent.delete(client));
          return;
        }
        const upstream = connect(Number(target.port), target.hostname);
        const pair: Pair = { client, upstream, stalled: false };
        pairs.add(pair);
        client.pipe(upstream);
        upstream.pipe(client);
        const closeClient = () => {
          pairs.delete(pair);
          upstream.destroy();
        };
        // A stalled connection's end is not passed on to the client: that is what makes it half-open.
        const closeUpstream = () => pair.stalled || client.destroy();
        client.on('error', closeClient).on('close', closeClient);
        upstream.on('error', closeUpstream).on('close', closeUpstream);
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
    for (const client of silent) client.destroy();
    silent.clear();
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
    resume() {
      stallNew = false;
    },
    stall() {
      stallNew = true;
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
