// Metering benchmark, both sides measured in the same run:
//   http   POST /v1/usage, batches of 1,000 CloudEvents, real HTTP to the metering module (on the store the
//          exchange runs: the audit hash chain over SQLite, durable before the answer, read-your-writes), clients
//          in a worker thread   vs  raw better-sqlite3 inserts of the same rows (the events row, with metadata of
//          the chained size, and the streams row the store writes), one transaction per 1,000, same schema and
//          pragmas
//   kafka  the metering consumer ingesting CloudEvents from a topic until all are durable and counted
//          vs  a raw kafkajs consumer that parses each record, writes the same rows durably (one transaction per
//          fetched batch, same pragmas) and then commits the batch; kafkajs reading and committing alone is
//          printed beside it
// Both raw writers keep SQLite's inline checkpoints (wal_autocheckpoint 1000), as a hand-written ingestion would;
// the store moves its checkpoints to a worker thread (libs/event-store/src/sqlite/checkpointer.ts), which is part
// of what is measured, and uses the second core for it.
// Usage: npm run bench -- metering [--events N] [--concurrency C] [--only http|kafka]
//        (Kafka: KAFKA_BROKERS or npm run kafka:start)
// Ends with one JSON line.
import 'reflect-metadata';
import Database from 'better-sqlite3';
import { createHash, hash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { ChainedEventStore, HASH, PREV_HASH } from '@cx/audit';
import { SqliteEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { InProcessBus, KafkaBus, type MessageBus, MessagingModule } from '@cx/messaging';
import { MeteringModule, MeteringProjection, MeteringService, meteringTopicSpecs } from '@cx/metering';
import { configureHttpApp } from '@cx/platform';
import { SimulatedClock } from '@cx/shared-kernel';
import { kafkaBrokers, tempDir, testHost } from '@cx/testing';
import { applyPragmas, migrate } from '../../libs/event-store/src/sqlite/sqlite-schema';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number(process.env[`CX_BENCH_${name.toUpperCase()}`] ?? fallback);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const N = arg('events', 100_000);
const CONCURRENCY = arg('concurrency', 4);
const onlyAt = process.argv.indexOf('--only');
const ONLY = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const BATCH = 1_000;
const PARTITIONS = 4;
const NOW = new Date('2026-03-10T12:00:00Z');
const ALLOC = 'alloc-bench';
const PRAGMAS = { busyTimeoutMs: 5_000, cacheSizeKiB: 64 * 1024 };
const quiet = { warn: () => undefined, error: () => undefined };
const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);

const event = (prefix: string, i: number) => ({
  specversion: '1.0',
  id: `${prefix}-${i}`,
  source: '//provider.example/gpu-agent',
  type: 'com.cx.usage.v1',
  subject: ALLOC,
  time: new Date(NOW.getTime() - 3_600_000 + (i % 3_600) * 1_000).toISOString(),
  cxaccount: 'prov-01',
  data: { meter: 'accelerator_seconds', quantity: `${i % 1000}.5`, dimensions: { gpu: `gpu-${i % 8}` } },
});

const dir = tempDir('cx-bench-metering-');

const host = async (file: string, bus: MessageBus, kafka: { topic: string; group: string } | null) => {
  // The production path: the exchange and every distributed service wrap their store in the audit hash chain.
  const store = new ChainedEventStore(SqliteEventStore.open(file));
  const app = await NestFactory.create<NestFastifyApplication>(
    testHost(store, new SimulatedClock(NOW), [
      MessagingModule.forBus(bus),
      IdentityModule,
      MeteringModule.forRoot(
        kafka ? { submissionsTopic: kafka.topic, submissionsGroup: kafka.group } : { kafkaIngest: false },
      ),
    ]),
    new FastifyAdapter({ bodyLimit: 16 * 1024 * 1024 }),
    { logger: false },
  );
  await configureHttpApp(app);
  // Nest's bootstrap (and with it the Kafka consumer's group join) is timed by the caller where it matters.
  const t = performance.now();
  await app.init();
  const initMs = performance.now() - t;
  const adminKey = (await app.get(IdentityService).ensureAdminKey()) as string;
  await app.get(MeteringService).recordAllocation(
    {
      allocationId: ALLOC,
      providerAccount: 'prov-01',
      buyerAccount: 'buyer-01',
      instrument: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10',
      deliveryStart: null,
      deliveryEnd: null,
    },
    { eventId: 'bench-alloc', correlationId: 'bench-alloc' },
  );
  return { app, store, adminKey, initMs };
};

type BenchEvent = ReturnType<typeof event>;

/**
 * A raw writer of the rows the store writes for one accepted event (its events row and its streams row): same
 * schema, same pragmas (applyPragmas: WAL, synchronous=FULL, so a commit is as durable as the store's), the same
 * JSON, stream name (sha256 of source NUL id) and random event id, one IMMEDIATE transaction per batch. It is the
 * least any durable ingestion must do, so both raw baselines (HTTP and Kafka) use it.
 */
const rawWriter = (file: string): { write: (events: BenchEvent[]) => void; close: () => void } => {
  const db = new Database(file);
  applyPragmas(db, PRAGMAS);
  migrate(db);
  const insertEvent = db.prepare(
    'INSERT INTO events (stream, revision, event_id, type, data, metadata, created) VALUES (?, 0, ?, ?, ?, ?, ?)',
  );
  const insertStream = db.prepare('INSERT INTO streams (name, last_revision) VALUES (?, 0)');
  // The size of a chained event's metadata (the chain's two hashes beside the cause), without the hashing.
  const metadata = JSON.stringify({
    actor: { keyId: 'k', role: 'admin' },
    causationId: randomUUID(),
    correlationId: randomUUID(),
    [HASH]: createHash('sha256').update('h').digest('hex'),
    [PREV_HASH]: null,
  });
  const txn = db.transaction((events: BenchEvent[]) => {
    const created = Date.now();
    for (const e of events) {
      const stream = `usage-${hash('sha256', `${e.source}\u0000${e.id}`, 'hex')}`;
      insertStream.run(stream);
      insertEvent.run(stream, randomUUID(), 'UsageRecorded', JSON.stringify(e), metadata, created);
    }
  });
  return { write: (events) => txn.immediate(events), close: () => db.close() };
};

const rawIngest = (file: string, bodies: string[]): number => {
  const raw = rawWriter(file);
  const t = performance.now();
  // Parsing the body is part of the raw side too: both start from the same JSON text.
  for (const body of bodies) raw.write(JSON.parse(body) as BenchEvent[]);
  const ms = performance.now() - t;
  raw.close();
  return ms;
};

// The HTTP clients run in a worker thread, as integrators run on their own machines: sending the bodies and
// reading 1,000 answers per request is the client's work, and on the server's thread it would be counted as ours
// (the raw side has no client at all). The worker times from its first request to its last answer.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { bodies, url, adminKey, concurrency } = workerData;
let next = 0;
let accepted = 0;
const client = async () => {
  while (next < bodies.length) {
    const body = bodies[next++];
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: 'Bearer ' + adminKey, 'content-type': 'application/cloudevents-batch+json' },
      body,
    });
    const answer = await res.json();
    if (res.status !== 200) throw new Error('HTTP ' + res.status + ': ' + JSON.stringify(answer).slice(0, 300));
    accepted += answer.accepted;
  }
};
const t = performance.now();
Promise.all(Array.from({ length: concurrency }, client)).then(
  () => parentPort.postMessage({ ms: performance.now() - t, accepted }),
  (e) => parentPort.postMessage({ error: String((e && e.stack) || e) }),
);
`;

const runClients = (bodies: string[], url: string, adminKey: string): Promise<{ ms: number; accepted: number }> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT, { eval: true, workerData: { bodies, url, adminKey, concurrency: CONCURRENCY } });
    worker.once('message', (m: { ms: number; accepted: number } | { error: string }) => {
      void worker.terminate();
      if ('error' in m) reject(new Error(m.error));
      else resolve(m);
    });
    worker.once('error', reject);
  });

const benchHttp = async (): Promise<{ ours: number; raw: number }> => {
  const bodies = Array.from({ length: Math.ceil(N / BATCH) }, (_, b) =>
    JSON.stringify(Array.from({ length: Math.min(BATCH, N - b * BATCH) }, (_, i) => event('h', b * BATCH + i))),
  );
  const bus = new InProcessBus({ logger: quiet });
  await bus.declareTopics([{ name: 'cx.matching.allocations.v1', partitions: 2 }, ...meteringTopicSpecs]);
  const { app, store, adminKey } = await host(join(dir.path, 'http.sqlite'), bus, null);
  await app.listen(0, '127.0.0.1');
  const url = `${await app.getUrl()}/v1/usage`;
  const { ms: oursMs, accepted } = await runClients(bodies, url, adminKey);
  if (accepted !== N) throw new Error(`http: ${accepted} of ${N} accepted`);
  await app.close();
  await bus.close();
  await store.close();
  const rawMs = rawIngest(join(dir.path, 'raw.sqlite'), bodies);
  return { ours: rate(N, oursMs), raw: rate(N, rawMs) };
};

const benchKafka = async (): Promise<{ ours: number; raw: number; transport: number; initMs: number }> => {
  const brokers = await kafkaBrokers();
  const id = randomUUID().slice(0, 8);
  const topic = `bench.metering-submitted.${id}`;
  const kafka = new Kafka({ clientId: 'bench-metering-raw', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producerBus = new KafkaBus({ brokers, clientId: 'bench-metering-producer', logger: quiet });
  await producerBus.declareTopics([{ name: topic, partitions: PARTITIONS }]);
  for (let b = 0; b < N; b += BATCH) {
    await producerBus.publish(
      topic,
      Array.from({ length: Math.min(BATCH, N - b) }, (_, i) => {
        const e = event('k', b + i);
        return {
          key: e.id,
          value: Buffer.from(JSON.stringify(e)),
          headers: { 'content-type': 'application/cloudevents+json' },
        };
      }),
    );
  }
  await producerBus.close();

  // Both raw consumers read the whole topic with our KafkaBus's consumer settings and commit after every batch
  // (ours commits what it handled every 100 ms, so it never commits more often than they do).
  // - transport: kafkajs alone, reading and committing. Printed for reference: it stores nothing, so no durable
  //   ingestion can approach it; the ratio is not taken against it.
  // - durable: what a hand-written ingestion must at least do with the same records: parse each event, write the
  //   rows the store writes, durably (rawWriter, same pragmas), in one transaction per fetched batch, and only then
  //   commit the batch's offsets. That is the work ours does (plus validation, tenancy, dedupe and the projection),
  //   so the ratio is taken against it, as the HTTP ratio is against raw inserts.
  const rawConsume = async (group: string, onBatch: (messages: KafkaMessage[]) => void): Promise<number> => {
    const consumer = kafka.consumer({
      groupId: group,
      sessionTimeout: 30_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 500,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    const t = performance.now();
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: PARTITIONS,
          eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets }) => {
            const last = batch.messages[batch.messages.length - 1];
            if (last === undefined) return;
            onBatch(batch.messages);
            resolveOffset(last.offset);
            await commitOffsetsIfNecessary(uncommittedOffsets());
            seen += batch.messages.length;
            if (seen >= N) resolve();
          },
        })
        .catch(reject);
    });
    const ms = performance.now() - t;
    await consumer.disconnect();
    return ms;
  };
  const transportMs = await rawConsume(`bench-raw-transport-${id}`, () => undefined);
  const rawDb = rawWriter(join(dir.path, 'raw-kafka.sqlite'));
  const rawMs = await rawConsume(`bench-raw-durable-${id}`, (messages) =>
    rawDb.write(messages.map((m) => JSON.parse((m.value as Buffer).toString('utf8')) as BenchEvent)),
  );
  rawDb.close();

  // Ours: the metering consumer, until every event is durable and counted by the projection.
  const bus = new KafkaBus({
    brokers,
    clientId: 'bench-metering',
    logger: quiet,
    consumer: { partitionsConsumedConcurrently: PARTITIONS },
  });
  await bus.declareTopics([{ name: 'cx.matching.allocations.v1', partitions: 8 }, ...meteringTopicSpecs]);
  // Timed from the start of Nest's init (projection catch-up, meters, subscribe and group join), as raw is timed
  // from its run() (group join included), until every event is durable and counted by the projection.
  const { app, store, initMs } = await host(join(dir.path, 'kafka.sqlite'), bus, {
    topic,
    group: `bench-metering-${id}`,
  });
  const afterInit = performance.now();
  const projection = app.get(MeteringProjection);
  while (projection.model.usageEvents < N) await new Promise((r) => setTimeout(r, 5));
  const oursMs = initMs + (performance.now() - afterInit);
  await app.close();
  await bus.close();
  await store.close();
  await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  await admin.disconnect();
  return { ours: rate(N, oursMs), raw: rate(N, rawMs), transport: rate(N, transportMs), initMs };
};

const main = async (): Promise<void> => {
  console.log(
    `metering bench: ${N.toLocaleString()} events, batches of ${BATCH}, ${CONCURRENCY} HTTP clients, ${dir.path}`,
  );
  const http = ONLY === 'kafka' ? { ours: 1, raw: 1 } : await benchHttp();
  console.log(
    `http   ours ${http.ours.toLocaleString()} events/s   raw sqlite ${http.raw.toLocaleString()} rows/s   ratio ${(http.ours / http.raw).toFixed(2)}`,
  );
  const kafka = ONLY === 'http' ? { ours: 1, raw: 1, transport: 1, initMs: 0 } : await benchKafka();
  console.log(
    `kafka  ours ${kafka.ours.toLocaleString()} events/s (Nest init ${kafka.initMs.toFixed(0)} ms included)   ` +
      `raw kafkajs + sqlite ${kafka.raw.toLocaleString()} msgs/s   ratio ${(kafka.ours / kafka.raw).toFixed(2)}   ` +
      `(kafkajs read + commit alone ${kafka.transport.toLocaleString()} msgs/s)`,
  );
  dir.remove();
  console.log(
    JSON.stringify({
      bench: 'metering',
      metrics: {
        http_events_per_s: http.ours,
        kafka_events_per_s: kafka.ours,
        http_raw_rows_per_s: http.raw,
        kafka_raw_msgs_per_s: kafka.raw,
        kafka_transport_msgs_per_s: kafka.transport,
      },
      ratios: {
        http_ingest_vs_raw: Number((http.ours / http.raw).toFixed(3)),
        kafka_ingest_vs_raw: Number((kafka.ours / kafka.raw).toFixed(3)),
      },
    }),
  );
  process.exit(0);
};

main().catch((e: unknown) => {
  console.error(e);
  dir.remove();
  process.exit(1);
});
