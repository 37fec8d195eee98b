// Proves the in-process bus keeps the bus contract, in memory, plus what only it can show cheaply.
import { waitFor } from '@cx/testing';
import { runBusContract } from '../bus.contract';
import { partitionForKey } from '../partition-for-key';
import type { BusLogger } from '../bus.logger';
import { InProcessBus } from './in-process-bus.adapter';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };

runBusContract('in-process', async () => {
  // A small batch size, so the batch tests see more than one batch per partition.
  const bus = new InProcessBus({ maxBatchSize: 4, logger: quiet });
  return { bus, cleanup: () => bus.close() };
});

describe('InProcessBus', () => {
  it('puts a key on the partition Kafka default partitioner (murmur2) would', () => {
    // kafkajs's own murmur2, the reference our port of it must agree with.
    const kafkaMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'order-1',
      'acct-42',
      'nvidia-h100-sxm-80g.cn-east-1.2026-03-10',
      '账户-7',
    ];
    for (const key of keys) {
      const expected = (kafkaMurmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % 7;
      expect([key, partitionForKey(key, 7)]).toEqual([key, expected]);
    }
  });

  it('shares partitions among the members of a group and hands them over when one leaves', async () => {
    const bus = new InProcessBus({ logger: quiet });
    try {
      await bus.declareTopics([{ name: 'cx.test.share.v1', partitions: 4 }]);
      const got = new Map<string, Set<number>>([
        ['a', new Set()],
        ['b', new Set()],
      ]);
      const seen = new Set<string>();
      const member = (name: string) =>
        bus.subscribe({
          group: 'g',
          topics: ['cx.test.share.v1'],
          handler: async (m) => {
            got.get(name)!.add(m.partition);
            seen.add(m.key);
          },
        });
      const a = await member('a');
      await member('b');
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      await bus.publish(
        'cx.test.share.v1',
        keys.map((key) => ({ key, value: Buffer.from(key) })),
      );
      await waitFor(() => seen.size >= keys.length, { what: 'all keys' });
      expect([...got.get('a')!].filter((p) => got.get('b')!.has(p))).toEqual([]);
      expect(got.get('a')!.size).toBeGreaterThan(0);
      expect(got.get('b')!.size).toBeGreaterThan(0);

      await a.close();
      const more = Array.from({ length: 40 }, (_, i) => `later${i}`);
      await bus.publish(
        'cx.test.share.v1',
        more.map((key) => ({ key, value: Buffer.from(key) })),
      );
      await waitFor(() => seen.size >= keys.length + more.length, { what: 'b taking over' });
      expect(got.get('b')!.size).toBe(4);
    } finally {
      await bus.close();
    }
  });
});
