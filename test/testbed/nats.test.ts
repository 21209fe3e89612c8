import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { startNats } from '../support/peers.ts';

describe('nats-server of the test bed', () => {
  it('gives each caller a private JetStream server whose stream accepts and delivers a message', async () => {
    const server = await startNats();
    const other = await startNats();
    expect(server.url).not.toEqual(other.url);

    const connection = await connect({ servers: server.url });
    try {
      const manager = await jetstreamManager(connection);
      await manager.streams.add({ name: 'SMOKE', subjects: ['smoke.>'] });
      await manager.consumers.add('SMOKE', { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
      const ack = await jetstream(connection).publish('smoke.hello', 'hi');
      expect(ack.seq).toBe(1);
      const message = await (await jetstream(connection).consumers.get('SMOKE', 'reader')).next({ expires: 5_000 });
      expect(message?.string()).toBe('hi');
      message?.ack();
    } finally {
      await connection.close();
    }
  });

  it('keeps its stream across a crash (kill) and a restart on the same port', async () => {
    const server = await startNats();
    let connection = await connect({ servers: server.url });
    await (await jetstreamManager(connection)).streams.add({ name: 'DURABLE', subjects: ['durable.>'] });
    await jetstream(connection).publish('durable.one', '1');
    await connection.close();

    await server.kill();
    await expect(connect({ servers: server.url, reconnect: false, timeout: 1_000 })).rejects.toThrow();
    await server.start();

    connection = await connect({ servers: server.url });
    try {
      const info = await (await jetstreamManager(connection)).streams.info('DURABLE');
      expect(info.state.messages).toBe(1);
    } finally {
      await connection.close();
    }
    await server.stop();
  });
});
