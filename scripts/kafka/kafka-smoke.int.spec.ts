// Smoke test: kafkajs 2.2.4 (the app's client) against the real broker of scripts/kafka (Kafka 4.1, KRaft),
// or whatever kafkaBrokers() resolves (KAFKA_BROKERS). Kafka 4 removed old protocol versions (KIP-896), so this
// proves the versions kafkajs negotiates still exist: admin, acks=-1 produce, group join/sync/heartbeat, fetch,
// offset commit/fetch, and a rebalance when a second member joins.
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Kafka, logCreator, logLevel, Producer } from 'kafkajs';
import { kafkaBrokers } from '../../libs/testing/src/kafka';
import { waitFor } from '../../libs/testing/src/wait-for';

const suffix = (): string => randomUUID().slice(0, 8);
// Explicit: jest ignores `testTimeout` inside a `projects` entry, so the integration project's 120 s does not apply.
const TIMEOUT_MS = 120_000;

// kafkajs logs every error response at ERROR, including answers it retries by design: "group is rebalancing" on
// heartbeats during a rebalance, and "coordinator not available" while a fresh cluster creates __consumer_offsets.
// Drop those, keep the rest (a consumer crash must stay visible). KAFKAJS_LOG=debug shows everything.
const EXPECTED_RETRIABLE = new Set([
  'The group is rebalancing, so a rejoin is needed',
  'The group coordinator is not available',
  "The coordinator is loading and hence can't process requests for this group",
]);
const quietRetriable: logCreator =
  () =>
  ({ level, log }) => {
    if (!process.env['KAFKAJS_LOG'] && EXPECTED_RETRIABLE.has(String(log['error']))) return;
    console.error(JSON.stringify({ level, ...log }));
  };

describe('Kafka broker smoke (kafkajs)', () => {
  let kafka: Kafka;
  let admin: Admin;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const brokers = await kafkaBrokers();
    kafka = new Kafka({
      clientId: `cx-kafka-smoke-${suffix()}`,
      brokers,
      logLevel: process.env['KAFKAJS_LOG'] === 'debug' ? logLevel.DEBUG : logLevel.ERROR,
      logCreator: quietRetriable,
    });
    admin = kafka.admin();
    await admin.connect();
  }, TIMEOUT_MS);

  afterEach(async () => {
    while (closers.length > 0) await closers.pop()!().catch(() => undefined);
  }, TIMEOUT_MS);

  afterAll(async () => {
    await admin?.disconnect();
  });

  const createTopic = async (partitions: number): Promise<string> => {
    const topic = `cx-smoke-${suffix()}`;
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    closers.push(() => admin.deleteTopics({ topics: [topic] }));
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(partitions);
    return topic;
  };

  const connectedProducer = async (): Promise<Producer> => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    closers.push(() => producer.disconnect());
    return producer;
  };

  const connectedConsumer = async (groupId: string): Promise<Consumer> => {
    // Short fetch wait + heartbeat so a member notices a rebalance in well under a second, not after a 5 s long poll.
    const consumer = kafka.consumer({
      groupId,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    closers.push(() => consumer.disconnect());
    return consumer;
  };

  it(
    'creates a topic, produces 100 messages with acks -1, and a fresh group consumes them in order per key and commits',
    async () => {
      const topic = await createTopic(3);
      const groupId = `cx-smoke-group-${suffix()}`;
      const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];

      const producer = await connectedProducer();
      for (let batch = 0; batch < 10; batch++) {
        const records = await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: 10 }, (_, i) => {
            const n = batch * 10 + i;
            const key = keys[n % keys.length]!;
            return { key, value: JSON.stringify({ key, seq: Math.floor(n / keys.length) }) };
          }),
        });
        expect(records.every((r) => r.errorCode === 0)).toBe(true);
      }

      const received: Array<{ key: string; seq: number; partition: number }> = [];
      const consumer = await connectedConsumer(groupId);
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message, partition }) => {
          const body = JSON.parse(message.value!.toString()) as { key: string; seq: number };
          expect(message.key!.toString()).toBe(body.key);
          received.push({ ...body, partition });
        },
      });
      await waitFor(() => received.length >= 100, { timeoutMs: 60_000, intervalMs: 50, what: '100 messages' });
      expect(received).toHaveLength(100);

      for (const key of keys) {
        const ofKey = received.filter((m) => m.key === key);
        expect(ofKey.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(new Set(ofKey.map((m) => m.partition)).size).toBe(1); // one key, one partition
      }

      // Offsets are committed (autoCommit) by the time the consumer has left the group.
      await consumer.disconnect();
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const total = committed[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
      expect(total).toBe(100);
    },
    TIMEOUT_MS,
  );

  it(
    'rebalances partitions when a second consumer joins the group, and both then consume',
    async () => {
      const partitions = 4;
      const topic = await createTopic(partitions);
      const groupId = `cx-smoke-group-${suffix()}`;

      const assignment = new Map<string, number[]>();
      const received = new Map<string, number[]>(); // consumer name -> values
      const start = async (name: string): Promise<void> => {
        const consumer = await connectedConsumer(groupId);
        received.set(name, []);
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          assignment.set(name, [...(e.payload.memberAssignment[topic] ?? [])].sort());
        });
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            received.get(name)!.push(Number(message.value!.toString()));
          },
        });
      };

      await start('a');
      await waitFor(() => assignment.get('a')?.length === partitions, {
        timeoutMs: 30_000,
        what: 'a owns all partitions',
      });

      await start('b');
      await waitFor(
        () => {
          const a = assignment.get('a') ?? [];
          const b = assignment.get('b') ?? [];
          return a.length > 0 && b.length > 0 && a.length + b.length === partitions && !a.some((p) => b.includes(p));
        },
        { timeoutMs: 60_000, intervalMs: 50, what: 'partitions split between a and b' },
      );

      const producer = await connectedProducer();
      const count = 40;
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: count }, (_, i) => ({ partition: i % partitions, value: String(i) })),
      });

      const all = (): number[] => [...received.values()].flat();
      await waitFor(() => all().length >= count, { timeoutMs: 60_000, intervalMs: 50, what: `${count} messages` });
      expect(all().sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(received.get('a')!.length).toBeGreaterThan(0);
      expect(received.get('b')!.length).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});
