// Proves the Kafka adapter keeps the bus contract against a real broker, and survives what only a real broker
// does: a rebalance when a second member joins, and the broker restarting in the middle of a run.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { kafkaBrokers, scaled, waitFor } from '@cx/testing';
import { runBusContract } from '../bus.contract';
import { isRetriable } from '../bus.errors';
import type { BusLogger } from '../bus.logger';
import type { DeliveredMessage, MessageBus } from '../bus.port';
import { KafkaBus } from './kafka-bus.adapter';

const suffix = (): string => randomUUID().replace(/-/g, '').slice(0, 12);
const ROOT = join(__dirname, '../../../..');

// Retries and dead letters are expected here; kafkajs's own errors stay visible (a consumer crash must be seen),
// except while the broker is deliberately down. CX_BUS_TEST_LOG=1 shows everything the bus logs.
let brokerDown = false;
const testLogger: BusLogger = {
  warn: (message, fields) => {
    if (process.env['CX_BUS_TEST_LOG']) console.error(new Date().toISOString(), message, JSON.stringify(fields));
  },
  error: (message, fields) => {
    if (process.env['CX_BUS_TEST_LOG']) console.error(new Date().toISOString(), message, JSON.stringify(fields));
    if (message.startsWith('kafkajs') && !brokerDown) console.error(message, JSON.stringify(fields));
  },
};

const newBus = async (): Promise<KafkaBus> =>
  new KafkaBus({
    brokers: await kafkaBrokers(),
    clientId: `cx-bus-test-${suffix()}`,
    logger: testLogger,
    // Short heartbeats and fetch waits: a member notices a rebalance or a new message in well under a second.
    consumer: { heartbeatIntervalMs: 300, maxWaitTimeMs: 200, sessionTimeoutMs: 10_000 },
  });

runBusContract(
  'kafka',
  async () => {
    const bus = await newBus();
    return { bus, cleanup: () => bus.close() };
  },
  { timeoutMs: 30_000 },
);

const script = (name: 'start.sh' | 'stop.sh'): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile('bash', [join(ROOT, 'scripts/kafka', name)], { cwd: ROOT, timeout: 120_000 }, (error, _out, err) =>
      error ? reject(new Error(`${name} failed: ${error.message}\n${err}`)) : resolve(),
    );
  });

/** Publishes through a broker outage: a retriable failure is tried again; anything else fails the test. */
const publishPatiently = async (bus: MessageBus, topic: string, messages: Parameters<MessageBus['publish']>[1]) => {
  let fatal: unknown;
  await waitFor(
    async () => {
      try {
        await bus.publish(topic, messages);
        return true;
      } catch (e) {
        if (!isRetriable(e)) fatal = e;
        return fatal !== undefined;
      }
    },
    { timeoutMs: 90_000, intervalMs: 250, what: `publish to ${topic}` },
  );
  if (fatal) throw fatal;
};

/**
 * An idempotent consumer keyed by message id: a redelivered message (rebalance, restart, a producer retry that
 * wrote twice) is recognised and skipped. Also checks that each key's messages are applied in order.
 */
class IdempotentConsumer {
  readonly applied = new Set<string>();
  duplicates = 0;
  private readonly lastSeq = new Map<string, number>();
  readonly outOfOrder: string[] = [];
  readonly byMember = new Map<string, number>();

  handler = (member: string) => async (m: DeliveredMessage) => {
    const id = m.headers['cx-message-id']!;
    if (this.applied.has(id)) {
      this.duplicates++;
      return;
    }
    const seq = Number(m.headers['cx-seq']);
    const last = this.lastSeq.get(m.key) ?? -1;
    if (seq <= last) this.outOfOrder.push(`${m.key}: ${seq} after ${last}`);
    this.lastSeq.set(m.key, Math.max(last, seq));
    this.applied.add(id);
    this.byMember.set(member, (this.byMember.get(member) ?? 0) + 1);
  };
}

/** Messages over `keys`, each with a unique id and a per-key sequence number. */
const messagesFrom = (keys: string[], from: number, count: number, ids: string[]) =>
  Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const key = keys[n % keys.length]!;
    const id = `m-${n}`;
    ids.push(id);
    return {
      key,
      value: Buffer.from(JSON.stringify({ n })),
      headers: { 'cx-message-id': id, 'cx-seq': String(Math.floor(n / keys.length)) },
    };
  });

describe('KafkaBus on a real broker', () => {
  let bus: KafkaBus;
  let second: KafkaBus | undefined;

  beforeEach(async () => {
    bus = await newBus();
  });

  afterEach(async () => {
    await second?.close();
    second = undefined;
    await bus.close();
  });

  it('rebalances when a second consumer joins: nothing lost, duplicates absorbed, order kept per key', async () => {
    const topic = `cx.bus-test.rebalance${suffix()}.v1`;
    const group = `cx-bus-test-${suffix()}`;
    await bus.declareTopics([{ name: topic, partitions: 4 }]);
    const keys = Array.from({ length: 12 }, (_, i) => `agg-${i}`);
    const ids: string[] = [];
    const sink = new IdempotentConsumer();

    await bus.subscribe({ group, topics: [topic], handler: sink.handler('a') });
    const round = scaled(200, 20);
    await bus.publish(topic, messagesFrom(keys, 0, round, ids));
    await waitFor(() => sink.applied.size > 0, { timeoutMs: 30_000, what: 'a consuming' });

    // A second member (its own bus: its own connections) joins; publishing goes on until it has had a share.
    second = await newBus();
    await second.subscribe({ group, topics: [topic], handler: sink.handler('b') });
    await waitFor(
      async () => {
        await bus.publish(topic, messagesFrom(keys, ids.length, 20, ids));
        return (sink.byMember.get('b') ?? 0) > 0;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'b getting partitions' },
    );
    await bus.publish(topic, messagesFrom(keys, ids.length, round, ids));

    await waitFor(() => sink.applied.size >= ids.length, { timeoutMs: 60_000, what: `all ${ids.length} messages` });
    expect([...sink.applied].sort()).toEqual([...ids].sort());
    expect(sink.outOfOrder).toEqual([]);
    expect(sink.byMember.get('a')).toBeGreaterThan(0);
    expect(sink.byMember.get('b')).toBeGreaterThan(0);
  });

  it('loses nothing when the broker restarts in the middle of a run', async () => {
    const topic = `cx.bus-test.restart${suffix()}.v1`;
    const group = `cx-bus-test-${suffix()}`;
    await bus.declareTopics([{ name: topic, partitions: 3 }]);
    const keys = Array.from({ length: 6 }, (_, i) => `agg-${i}`);
    const ids: string[] = [];
    const sink = new IdempotentConsumer();
    await bus.subscribe({ group, topics: [topic], handler: sink.handler('a') });

    // The first half goes out while the broker is up; the consumer is still working through it when the broker
    // stops. The second half is published while it is down (publishes retry) and after it is back.
    const half = scaled(600, 60);
    await bus.publish(topic, messagesFrom(keys, 0, half, ids));
    await waitFor(() => sink.applied.size > 0, { timeoutMs: 30_000, what: 'consuming started' });

    let publisher: Promise<void> = Promise.resolve();
    let consumedBeforeRestart = 0;
    try {
      brokerDown = true;
      await script('stop.sh');
      consumedBeforeRestart = sink.applied.size;
      publisher = (async () => {
        for (let n = half; n < 2 * half; n += 10) await publishPatiently(bus, topic, messagesFrom(keys, n, 10, ids));
      })();
    } finally {
      // Whatever happened, leave the broker running for the next test.
      await script('start.sh');
    }
    await publisher;
    brokerDown = false;
    await waitFor(() => sink.applied.size >= ids.length, {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: `all ${ids.length} messages`,
    });
    expect([...sink.applied].sort()).toEqual([...ids].sort());
    expect(sink.outOfOrder).toEqual([]);
    expect(consumedBeforeRestart).toBeLessThan(ids.length);
  });
});
