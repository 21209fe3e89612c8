/**
 * The in-process bus of the embedded mode (src/bus/memory.ts): what nobody consumes yet is kept
 * for the consumer that asks later, and what it must drop is never dropped silently.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { captureLogger, WARN } from '../support/capture-log.ts';

async function fetchAll(bus: MemoryBus, filterSubject: string, expected: number): Promise<string[]> {
  const consumer = await bus.consumer({ stream: 'workloadStream', durable: `${filterSubject}-reader`, filterSubject, ackWaitMs: 30_000 });
  const payloads: string[] = [];
  for await (const delivery of consumer.fetch(expected, 5000, new AbortController().signal)) {
    payloads.push(delivery.payload);
    await delivery.ack();
  }
  return payloads;
}

describe('the in-process bus', () => {
  it('keeps notifications published before any consumer asked, in order, for the consumer that asks later', async () => {
    const bus = new MemoryBus();
    for (let index = 0; index < 5; index++) await bus.publish('workloadDefinition.create', `p${index}`, `m${index}`);
    await bus.publish('workloadDefinition.create', 'p0 again', 'm0');
    expect(await fetchAll(bus, 'workloadDefinition.*', 5)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(bus.dropped).toBe(0);
  });

  it('warns, with the count, whenever it starts dropping unclaimed notifications, and again while it goes on', async () => {
    const log = captureLogger();
    const bus = new MemoryBus({ maxUnclaimed: 3, logger: log.logger });
    const warnings = () => log.lines.filter((line) => line.level === WARN);
    let sequence = 0;
    const publish = (subject: string, count: number) => Promise.all(Array.from({ length: count }, () => bus.publish(subject, `p${sequence}`, `m${sequence++}`)));

    await publish('workloadDefinition.update', 5);
    expect(bus.dropped).toBe(2);
    expect(warnings()).toEqual([expect.objectContaining({ dropped: 1, waiting: 3, subject: 'workloadDefinition.update' })]);
    // The oldest went; the newest three wait for their consumer.
    expect(await fetchAll(bus, 'workloadDefinition.*', 3)).toEqual(['p2', 'p3', 'p4']);

    // Later, another group without a consumer overflows the buffer again: a new warning, not silence.
    await publish('gatewayDefinition.update', 4);
    expect(bus.dropped).toBe(3);
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatchObject({ dropped: 3, subject: 'gatewayDefinition.update' });

    // A long run of drops keeps saying how many.
    await publish('gatewayDefinition.update', 2500);
    expect(bus.dropped).toBe(2503);
    expect(warnings().map((line) => line.dropped)).toEqual([1, 3, 1003, 2003]);
  });
});
