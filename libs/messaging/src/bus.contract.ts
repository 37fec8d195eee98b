// Proves a MessageBus adapter keeps the port's promises: every adapter runs this one suite through a factory
// (the in-process bus in the unit project, Kafka against a real broker in the integration project).
import { randomUUID } from 'node:crypto';
import { waitFor } from '@cx/testing';
import type { DeliveredMessage, MessageBus, TopicSpec } from './bus.port';
import { DLQ_HEADERS, deadLetterTopic } from './bus.port';
import { InvalidBusCall, RetriableError, UnknownTopic } from './bus.errors';
import { partitionForKey } from './partition-for-key';

export interface BusContractOptions {
  /** How long delivery may take (a broker and a group join need longer than memory). */
  timeoutMs?: number;
}

export type BusFactory = () => Promise<{ bus: MessageBus; cleanup(): Promise<void> }>;

const suffix = (): string => randomUUID().replace(/-/g, '').slice(0, 12);
const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Fast retries: the rules are the same, the waits need not be. */
const FAST = { initialMs: 5, maxMs: 20 };

const rejection = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
};

export const runBusContract = (name: string, factory: BusFactory, opts: BusContractOptions = {}): void => {
  const timeoutMs = opts.timeoutMs ?? 5_000;

  describe(`MessageBus contract: ${name}`, () => {
    let bus: MessageBus;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ bus, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    const freshTopic = async (partitions = 3, configs?: Record<string, string>): Promise<string> => {
      const topic = `cx.contract.t${suffix()}.v1`;
      const spec: TopicSpec = { name: topic, partitions, ...(configs ? { configs } : {}) };
      await bus.declareTopics([spec]);
      return topic;
    };
    const freshGroup = (): string => `cx-contract-${suffix()}`;

    /** Collects what a group receives on the given topics, with a message handler that always succeeds. */
    const collect = async (topics: string[], group = freshGroup()) => {
      const got: DeliveredMessage[] = [];
      const consumer = await bus.subscribe({ group, topics, handler: async (m) => void got.push(m) });
      return { got, consumer, group };
    };

    it('delivers published messages with key, value, headers and position', async () => {
      const topic = await freshTopic(2);
      await bus.publish(topic, [
        { key: 'order-1', value: enc('a'), headers: { 'cx-event-id': 'e1', 'content-type': 'application/json' } },
        { key: 'order-2', value: new Uint8Array([1, 2, 3]) },
      ]);
      const { got } = await collect([topic]);
      await waitFor(() => got.length >= 2, { timeoutMs, what: 'two messages' });
      expect(got).toHaveLength(2);
      const a = got.find((m) => m.key === 'order-1')!;
      expect(a).toMatchObject({ topic, partition: partitionForKey('order-1', 2), attempt: 1 });
      expect(a.value.toString()).toBe('a');
      expect(a.headers).toMatchObject({ 'cx-event-id': 'e1', 'content-type': 'application/json' });
      expect(typeof a.offset).toBe('string');
      const b = got.find((m) => m.key === 'order-2')!;
      expect([...b.value]).toEqual([1, 2, 3]);
    });

    it('keeps order per key across partitions, one key on one partition (Kafka default partitioner)', async () => {
      const partitions = 4;
      const topic = await freshTopic(partitions);
      const keys = Array.from({ length: 8 }, (_, i) => `acct-${i}`);
      const perKey = 15;
      for (let seq = 0; seq < perKey; seq++) {
        await bus.publish(
          topic,
          keys.map((key) => ({ key, value: enc(JSON.stringify({ key, seq })) })),
        );
      }
      const { got } = await collect([topic]);
      await waitFor(() => got.length >= keys.length * perKey, { timeoutMs, what: 'every message' });
      expect(got).toHaveLength(keys.length * perKey);
      for (const key of keys) {
        const ofKey = got.filter((m) => m.key === key);
        expect(ofKey.map((m) => (JSON.parse(m.value.toString()) as { seq: number }).seq)).toEqual(
          Array.from({ length: perKey }, (_, i) => i),
        );
        expect(new Set(ofKey.map((m) => m.partition))).toEqual(new Set([partitionForKey(key, partitions)]));
        const offsets = ofKey.map((m) => BigInt(m.offset));
        expect([...offsets].sort((x, y) => (x < y ? -1 : 1))).toEqual(offsets);
      }
    });

    it('hands a batch handler the messages of one partition in offset order', async () => {
      const topic = await freshTopic(3);
      const count = 30;
      await bus.publish(
        topic,
        Array.from({ length: count }, (_, i) => ({ key: `k${i % 5}`, value: enc(String(i)) })),
      );
      const batches: Array<{ partition: number; offsets: bigint[] }> = [];
      await bus.subscribe({
        group: freshGroup(),
        topics: [topic],
        batchHandler: async (batch) => {
          expect(batch.topic).toBe(topic);
          expect(batch.messages.every((m) => m.partition === batch.partition)).toBe(true);
          batches.push({ partition: batch.partition, offsets: batch.messages.map((m) => BigInt(m.offset)) });
        },
      });
      await waitFor(() => batches.reduce((n, b) => n + b.offsets.length, 0) >= count, {
        timeoutMs,
        what: 'all batches',
      });
      for (let p = 0; p < 3; p++) {
        const offsets = batches.filter((b) => b.partition === p).flatMap((b) => b.offsets);
        expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + BigInt(i)));
      }
    });

    it('retries a retriable failure with the attempt count, then moves on without a dead letter', async () => {
      const topic = await freshTopic(1);
      await bus.publish(topic, [
        { key: 'k', value: enc('flaky') },
        { key: 'k', value: enc('next') },
      ]);
      const seen: Array<{ value: string; attempt: number }> = [];
      await bus.subscribe({
        group: freshGroup(),
        topics: [topic],
        maxAttempts: 5,
        backoff: FAST,
        handler: async (m) => {
          seen.push({ value: m.value.toString(), attempt: m.attempt });
          if (m.value.toString() === 'flaky' && m.attempt < 3) {
            throw new RetriableError('store busy', { cause: new Error('SQLITE_BUSY') });
          }
        },
      });
      const dlq = await collect([deadLetterTopic(topic)]);
      await waitFor(() => seen.some((s) => s.value === 'next'), { timeoutMs, what: 'the message after the flaky one' });
      expect(seen).toEqual([
        { value: 'flaky', attempt: 1 },
        { value: 'flaky', attempt: 2 },
        { value: 'flaky', attempt: 3 },
        { value: 'next', attempt: 1 },
      ]);
      expect(dlq.got).toHaveLength(0);
    });

    it('dead-letters a message whose retriable failure outlasts maxAttempts, with headers, and the partition moves on', async () => {
      const topic = await freshTopic(1);
      await bus.publish(topic, [
        { key: 'k', value: enc('poison'), headers: { 'cx-event-id': 'p1' } },
        { key: 'k', value: enc('fine') },
      ]);
      const attempts: number[] = [];
      const handled: string[] = [];
      await bus.subscribe({
        group: freshGroup(),
        topics: [topic],
        maxAttempts: 3,
        backoff: FAST,
        handler: async (m) => {
          if (m.value.toString() === 'poison') {
            attempts.push(m.attempt);
            throw new RetriableError('downstream timeout');
          }
          handled.push(m.value.toString());
        },
      });
      const dlq = await collect([deadLetterTopic(topic)]);
      await waitFor(() => handled.includes('fine') && dlq.got.length >= 1, {
        timeoutMs,
        what: 'dead letter and next message',
      });
      expect(attempts).toEqual([1, 2, 3]);
      const letter = dlq.got[0]!;
      expect(letter.key).toBe('k');
      expect(letter.value.toString()).toBe('poison');
      expect(letter.headers).toMatchObject({
        'cx-event-id': 'p1',
        [DLQ_HEADERS.attempts]: '3',
        [DLQ_HEADERS.originalTopic]: topic,
        [DLQ_HEADERS.originalPartition]: '0',
      });
      expect(letter.headers[DLQ_HEADERS.error]).toContain('RetriableError: downstream timeout');
      expect(BigInt(letter.headers[DLQ_HEADERS.originalOffset]!)).toBeGreaterThanOrEqual(0n);
    });

    it('dead-letters a non-retriable failure at once (a TypeError is never retried)', async () => {
      const topic = await freshTopic(1);
      await bus.publish(topic, [{ key: 'k', value: enc('{bad json') }]);
      const attempts: number[] = [];
      await bus.subscribe({
        group: freshGroup(),
        topics: [topic],
        maxAttempts: 5,
        backoff: FAST,
        handler: async (m) => {
          attempts.push(m.attempt);
          JSON.parse(m.value.toString());
        },
      });
      const dlq = await collect([deadLetterTopic(topic)]);
      await waitFor(() => dlq.got.length >= 1, { timeoutMs, what: 'a dead letter' });
      expect(attempts).toEqual([1]);
      expect(dlq.got[0]!.headers[DLQ_HEADERS.attempts]).toBe('1');
      expect(dlq.got[0]!.headers[DLQ_HEADERS.error]).toContain('SyntaxError');
    });

    it('a failing batch is split so only its poison message is dead-lettered', async () => {
      const topic = await freshTopic(1);
      await bus.publish(
        topic,
        Array.from({ length: 6 }, (_, i) => ({ key: 'k', value: enc(i === 3 ? 'poison' : `ok-${i}`) })),
      );
      const done = new Set<string>();
      await bus.subscribe({
        group: freshGroup(),
        topics: [topic],
        maxAttempts: 2,
        backoff: FAST,
        batchHandler: async (batch) => {
          if (batch.messages.some((m) => m.value.toString() === 'poison')) throw new Error('cannot parse');
          for (const m of batch.messages) done.add(m.value.toString());
        },
      });
      const dlq = await collect([deadLetterTopic(topic)]);
      await waitFor(() => done.size >= 5 && dlq.got.length >= 1, { timeoutMs, what: 'all but the poison handled' });
      expect([...done].sort()).toEqual(['ok-0', 'ok-1', 'ok-2', 'ok-4', 'ok-5']);
      expect(dlq.got.map((m) => m.value.toString())).toEqual(['poison']);
    });

    it('commits handled offsets: a group member that joins after another closed gets only what is new', async () => {
      const topic = await freshTopic(2);
      const group = freshGroup();
      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: enc(`first-${i}`) })),
      );
      const first = await collect([topic], group);
      await waitFor(() => first.got.length >= 10, { timeoutMs, what: 'first ten' });
      await first.consumer.close();

      await bus.publish(
        topic,
        Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: enc(`second-${i}`) })),
      );
      const second = await collect([topic], group);
      await waitFor(() => second.got.length >= 5, { timeoutMs, what: 'the five new ones' });
      expect(second.got.map((m) => m.value.toString()).sort()).toEqual(
        Array.from({ length: 5 }, (_, i) => `second-${i}`),
      );
    });

    it('refuses an undeclared topic on publish and on subscribe', async () => {
      const unknown = `cx.contract.unknown${suffix()}.v1`;
      const pub = await rejection(bus.publish(unknown, [{ key: 'k', value: enc('x') }]));
      expect(pub).toBeInstanceOf(UnknownTopic);
      expect(pub).toMatchObject({ retriable: false, topic: unknown });
      const sub = await rejection(
        bus.subscribe({ group: freshGroup(), topics: [unknown], handler: async () => undefined }),
      );
      expect(sub).toBeInstanceOf(UnknownTopic);
    });

    it('refuses a message without a key, and a subscription without exactly one handler', async () => {
      const topic = await freshTopic(1);
      expect(await rejection(bus.publish(topic, [{ key: '', value: enc('x') }]))).toBeInstanceOf(InvalidBusCall);
      const neither = { group: freshGroup(), topics: [topic] } as unknown as Parameters<MessageBus['subscribe']>[0];
      expect(await rejection(bus.subscribe(neither))).toBeInstanceOf(InvalidBusCall);
    });
  });
};
