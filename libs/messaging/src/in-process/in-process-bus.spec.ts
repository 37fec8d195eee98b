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

  describe('retention', () => {
    const N = 10_000;
    const publishN = (bus: InProcessBus, topic: string, n: number, from = 0) =>
      bus.publish(
        topic,
        // One key, so everything lands on the one partition, in order.
        Array.from({ length: n }, (_, i) => ({ key: 'k', value: Buffer.from(String(from + i)) })),
      );

    it('keeps every message of a topic no group has subscribed to, then drops what the group consumed', async () => {
      const bus = new InProcessBus({ logger: quiet });
      try {
        await bus.declareTopics([{ name: 'cx.test.retain.v1', partitions: 1 }]);
        await publishN(bus, 'cx.test.retain.v1', N);
        expect(bus.retained('cx.test.retain.v1')).toBe(N);
        expect(bus.retained('cx.test.retain.v1.dlq')).toBe(0);

        let seen = 0;
        await bus.subscribe({
          group: 'g',
          topics: ['cx.test.retain.v1'],
          handler: async () => {
            seen++;
          },
        });
        await waitFor(() => seen >= N, { what: `${N} messages` });
        await waitFor(() => bus.retained('cx.test.retain.v1') <= 1024, { what: 'the consumed prefix dropped' });
      } finally {
        await bus.close();
      }
    });

    it('keeps offsets absolute after trimming; a new group starts at the earliest retained message', async () => {
      const bus = new InProcessBus({ logger: quiet });
      try {
        const topic = 'cx.test.retain.offsets.v1';
        await bus.declareTopics([{ name: topic, partitions: 1 }]);
        await publishN(bus, topic, N);
        const first: Array<[string, string]> = [];
        await bus.subscribe({
          group: 'first',
          topics: [topic],
          handler: async (m) => {
            first.push([m.offset, m.value.toString()]);
          },
        });
        await waitFor(() => first.length >= N, { what: 'the first group done' });
        const retained = bus.retained(topic);
        expect(retained).toBeLessThan(N);
        expect(first.every(([offset, value]) => offset === value)).toBe(true);

        // After the trim, new messages carry on from the absolute offset N, and the value still matches it.
        await publishN(bus, topic, 5, N);
        await waitFor(() => first.length >= N + 5, { what: 'the first group seeing the new messages' });
        expect(first.slice(N)).toEqual([0, 1, 2, 3, 4].map((i) => [String(N + i), String(N + i)]));

        // A later group starts at the earliest retained offset (what every group consumed is gone), not at 0.
        const late: Array<[string, string]> = [];
        const retainedNow = bus.retained(topic);
        await bus.subscribe({
          group: 'late',
          topics: [topic],
          handler: async (m) => {
            late.push([m.offset, m.value.toString()]);
          },
        });
        await waitFor(() => late.length >= retainedNow, { what: 'the late group done' });
        expect(late).toHaveLength(retainedNow);
        expect(late[0]).toEqual([String(N + 5 - retainedNow), String(N + 5 - retainedNow)]);
        expect(late.every(([offset, value]) => offset === value)).toBe(true);
      } finally {
        await bus.close();
      }
    });

    it('trims by the slowest group of the topic', async () => {
      const bus = new InProcessBus({ logger: quiet });
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      try {
        const topic = 'cx.test.retain.slow.v1';
        await bus.declareTopics([{ name: topic, partitions: 1 }]);
        let fast = 0;
        let slow = 0;
        await bus.subscribe({
          group: 'fast',
          topics: [topic],
          handler: async () => {
            fast++;
          },
        });
        await bus.subscribe({
          group: 'slow',
          topics: [topic],
          handler: async () => {
            await gate;
            slow++;
          },
        });
        await publishN(bus, topic, N);
        await waitFor(() => fast >= N, { what: 'the fast group done' });
        // The slow group has committed nothing, so nothing may go.
        expect(slow).toBe(0);
        expect(bus.retained(topic)).toBe(N);

        release();
        await waitFor(() => slow >= N, { what: 'the slow group done' });
        await waitFor(() => bus.retained(topic) <= 1024, { what: 'the prefix both groups consumed dropped' });
      } finally {
        release();
        await bus.close();
      }
    });
  });
});
