// bench/messaging: our bus and relay against raw kafkajs doing the same work on the same broker in the same run.
//   bus_publish  KafkaBus.publish of 1 KiB messages in batches   vs  kafkajs producer.send, same batches, acks=-1
//   bus_consume  KafkaBus.subscribe (commit after each batch)     vs  kafkajs eachBatch, one explicit commit per batch
//   relay        Relay from a SQLite store to Kafka               vs  kafkajs producer.send of the same events
// Both sides of a pair get the same messages (1 KiB values, the same keys and counts), no compression, acks=-1
// and the same consumer settings; within a round, which side goes first alternates, so that a neighbour's load
// on the shared machine does not always land on the same side.
// Usage: npm run bench -- messaging [--messages N] [--rounds R]   (needs a broker: npm run kafka:start)
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { SqliteEventStore } from '@cx/event-store';
import { KafkaBus, Relay } from '@cx/messaging';
import { kafkaBrokers, tempDir } from '@cx/testing';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const N = arg('messages', 100_000);
// Three rounds by default: the median of an even count would be the better of the middle two.
const ROUNDS = arg('rounds', 3);
const BATCH = 500;
const PARTITIONS = 3;
const value = Buffer.alloc(1024, 'x');
// Consumer settings both consumers get (those of KafkaBus's defaults that bear on throughput).
const CONSUMER = { maxWaitTimeMs: 500, sessionTimeoutMs: 30_000, heartbeatIntervalMs: 1_000 };
const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`);
const quiet = { error: () => undefined, warn: () => undefined };

const rate = (count: number, ms: number): number => Math.round((count / ms) * 1000);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
/** Runs the two sides of a comparison one after the other, raw first in odd rounds and ours first in even ones. */
const inTurn = async (round: number, raw: () => Promise<void>, ours: () => Promise<void>): Promise<void> => {
  if (round % 2 === 1) {
    await raw();
    await ours();
  } else {
    await ours();
    await raw();
  }
};

const main = async (): Promise<void> => {
  const brokers = await kafkaBrokers();
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = async (name: string) => {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: PARTITIONS }] });
    return name;
  };
  const batches = Array.from({ length: Math.ceil(N / BATCH) }, (_, b) =>
    Array.from({ length: Math.min(BATCH, N - b * BATCH) }, (_, i) => ({
      key: keys[(b * BATCH + i) % keys.length] as string,
      value,
    })),
  );

  const rawProducer = kafka.producer({ allowAutoTopicCreation: false });
  await rawProducer.connect();
  const bus = new KafkaBus({ brokers, clientId: 'bench-bus', logger: quiet, consumer: CONSUMER });
  // The raw producer sends exactly as KafkaBus.publish does: acks=-1, no compression.
  const rawSend = (topic: string, messages: { key: string; value: Buffer }[]) =>
    rawProducer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });

  const results = {
    bus_publish: [] as number[],
    raw_publish: [] as number[],
    bus_consume: [] as number[],
    raw_consume: [] as number[],
    relay: [] as number[],
    raw_relay: [] as number[],
    store_read: [] as number[],
  };

  const created: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const id = randomUUID().slice(0, 8);
    // Publish onto two fresh topics (which the consume step then reads). Raw: the same batches through
    // producer.send, acks=-1 and uncompressed as KafkaBus.publish sends them; what ours adds on top (key checks,
    // known-topic lookup, error translation) is its own cost.
    const rawTopic = await topic(`bench.raw.${id}`);
    const busTopic = `bench.bus.${id}`;
    await bus.declareTopics([{ name: busTopic, partitions: PARTITIONS }]);
    await inTurn(
      round,
      async () => {
        const t = performance.now();
        for (const b of batches) await rawSend(rawTopic, b);
        results.raw_publish.push(rate(N, performance.now() - t));
      },
      async () => {
        const t = performance.now();
        for (const b of batches) await bus.publish(busTopic, b);
        results.bus_publish.push(rate(N, performance.now() - t));
      },
    );

    // Consume N from each topic with a fresh group. Both clocks start before the consumer connects: KafkaBus.subscribe
    // connects, subscribes and joins in one call, so timing raw from after its connect would hide that work from it.
    await inTurn(
      round,
      async () => {
        const t = performance.now();
        const rawConsumer = kafka.consumer({
          groupId: `bench-raw-${id}`,
          maxWaitTimeInMs: CONSUMER.maxWaitTimeMs,
          sessionTimeout: CONSUMER.sessionTimeoutMs,
          heartbeatInterval: CONSUMER.heartbeatIntervalMs,
        });
        await rawConsumer.connect();
        await rawConsumer.subscribe({ topics: [rawTopic], fromBeginning: true });
        let rawSeen = 0;
        await new Promise<void>((resolve) => {
          void rawConsumer.run({
            // The essential work of an at-least-once consumer, as ours does it: mark each message handled, then
            // commit the batch's offsets before taking the next batch (ours: kafkajs's commit at every batch end).
            // Without the commit, raw would be measured doing less than any consumer that may not lose messages.
            autoCommit: false,
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets }) => {
              for (const m of batch.messages) {
                rawSeen++;
                resolveOffset(m.offset);
              }
              await commitOffsetsIfNecessary(uncommittedOffsets());
              if (rawSeen >= N) resolve();
            },
          });
        });
        results.raw_consume.push(rate(N, performance.now() - t));
        await rawConsumer.disconnect();
      },
      async () => {
        let busSeen = 0;
        const t = performance.now();
        let consumer: { close(): Promise<void> } | undefined;
        await new Promise<void>((resolve) => {
          void bus
            .subscribe({
              group: `bench-bus-${id}`,
              topics: [busTopic],
              batchHandler: async (batch) => {
                busSeen += batch.messages.length;
                if (busSeen >= N) resolve();
              },
            })
            .then((c) => (consumer = c));
        });
        results.bus_consume.push(rate(N, performance.now() - t));
        await consumer?.close();
      },
    );

    // Relay: N events in a store, relayed to Kafka; raw: the same events produced directly.
    const dir = tempDir('cx-bench-relay-');
    const store = SqliteEventStore.open(join(dir.path, 'relay.sqlite'));
    // 1 KiB once JSON-encoded, like the bus messages: {"blob":"…"} is 11 characters around the blob.
    const payload = { blob: 'x'.repeat(1024 - 11) };
    for (let s = 0; s < N; s += BATCH) {
      const count = Math.min(BATCH, N - s);
      await store.appendToStream(
        `bench-${s / BATCH}`,
        Array.from({ length: count }, () => ({ type: 'BenchEvent', data: payload })),
      );
    }
    // Raw: the same events (same keys, values, batches of BATCH) produced straight from memory, already read and
    // JSON-encoded and without headers: the sending part of the relay's work alone, done as cheaply as kafkajs can.
    // Our relay reads and encodes them itself, inside its clock, adds its source header and checkpoints; the goal
    // (0.5) leaves room for that. This read is timed to show how much of the relay's time that part alone takes.
    const events: { key: string; value: Buffer }[] = [];
    const t = performance.now();
    for await (const e of store.readAll()) events.push({ key: e.streamId, value: Buffer.from(JSON.stringify(e.data)) });
    results.store_read.push(rate(N, performance.now() - t));
    const rawRelayTopic = await topic(`bench.rawrelay.${id}`);
    const relayTopic = `bench.relay.${id}`;
    await bus.declareTopics([{ name: relayTopic, partitions: PARTITIONS }]);
    await inTurn(
      round,
      async () => {
        const t = performance.now();
        for (let i = 0; i < events.length; i += BATCH) await rawSend(rawRelayTopic, events.slice(i, i + BATCH));
        results.raw_relay.push(rate(N, performance.now() - t));
      },
      async () => {
        let relayed = 0;
        let done: () => void = () => undefined;
        const finished = new Promise<void>((r) => (done = r));
        const relay = new Relay({
          name: `bench-${id}`,
          store,
          bus,
          // The raw side's batch size, so that neither gains from sending fewer, larger requests.
          maxBatch: BATCH,
          routes: [
            {
              streamPrefixes: ['bench-'],
              toMessage: (e) => ({
                topic: relayTopic,
                message: { key: e.streamId, value: Buffer.from(JSON.stringify(e.data)) },
              }),
            },
          ],
          onPublished: ({ events: n }) => {
            relayed += n;
            if (relayed >= N) done();
          },
        });
        const t = performance.now();
        await relay.start();
        await finished;
        results.relay.push(rate(N, performance.now() - t));
        await relay.stop();
      },
    );
    await store.close();
    dir.remove();
    // Deleted only after the last round: the producers keep every topic they sent to in their metadata, and a
    // topic deleted under them fails their next metadata refresh ("does not host this topic-partition").
    created.push(rawTopic, busTopic, `${busTopic}.dlq`, rawRelayTopic, relayTopic, `${relayTopic}.dlq`);
    process.stderr.write(`round ${round}/${ROUNDS} done\n`);
  }
  await bus.close();
  await rawProducer.disconnect();
  await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();

  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<
    keyof typeof results,
    number
  >;
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  // Each ratio is the median of the rounds' own ratios, each from two measurements taken back to back: the load
  // of neighbours on the shared machine drifts within a run, and pairing keeps that drift out of the comparison.
  const paired = (ours: number[], raw: number[]): number[] => ours.map((o, i) => ratio(o, raw[i] as number));
  const rounds = {
    bus_publish: paired(results.bus_publish, results.raw_publish),
    bus_consume: paired(results.bus_consume, results.raw_consume),
    relay: paired(results.relay, results.raw_relay),
  };
  const ratios = {
    bus_publish: median(rounds.bus_publish),
    bus_consume: median(rounds.bus_consume),
    relay: median(rounds.relay),
  };
  console.log(
    `\nmessaging bench: ${N.toLocaleString('en')} messages of 1 KiB, ${PARTITIONS} partitions, batches of ${BATCH}, medians of ${ROUNDS} rounds\n`,
  );
  console.log('measure        ours msg/s    raw kafkajs msg/s   ratio   (each round)');
  for (const [name, ours, raw, r, each] of [
    ['bus publish', m.bus_publish, m.raw_publish, ratios.bus_publish, rounds.bus_publish],
    ['bus consume', m.bus_consume, m.raw_consume, ratios.bus_consume, rounds.bus_consume],
    ['relay', m.relay, m.raw_relay, ratios.relay, rounds.relay],
  ] as const) {
    console.log(
      `${name.padEnd(14)} ${ours.toLocaleString('en').padStart(10)}    ${raw.toLocaleString('en').padStart(17)}   ${r.toFixed(2)}    ${each.map((x) => x.toFixed(2)).join(' ')}`,
    );
  }
  console.log(
    `\nrelay: raw kafkajs is handed the events already read and JSON-encoded; our relay also reads them from SQLite` +
      `\nand encodes them inside its clock. Reading + encoding alone runs at ${m.store_read.toLocaleString('en')} events/s,` +
      `\nso a relay at parity with raw would reach ${Math.round(1 / (1 / m.raw_relay + 1 / m.store_read)).toLocaleString('en')} events/s` +
      ` (ratio ${ratio(1 / (1 / m.raw_relay + 1 / m.store_read), m.raw_relay).toFixed(2)}) if reading and sending did not overlap.` +
      `\nRaw relay messages carry no header; ours carry the relay's one (cx-source: event id, stream, revision...).` +
      `\nBoth consumers commit the offsets of every batch before taking the next one.\n`,
  );
  console.log(
    JSON.stringify({
      bench: 'messaging',
      metrics: {
        bus_publish_msgs_per_s: m.bus_publish,
        raw_publish_msgs_per_s: m.raw_publish,
        bus_consume_msgs_per_s: m.bus_consume,
        raw_consume_msgs_per_s: m.raw_consume,
        relay_events_per_s: m.relay,
        raw_relay_produce_msgs_per_s: m.raw_relay,
        store_read_encode_events_per_s: m.store_read,
      },
      ratios,
    }),
  );
};

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(2);
});
