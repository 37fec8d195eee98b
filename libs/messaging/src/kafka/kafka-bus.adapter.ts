// The bus on Apache Kafka through kafkajs 2.2.4.
//
// kafkajs is unmaintained and its idempotent producer is experimental (messages can be lost under concurrent
// sends), so the producer is not idempotent: a retried send may write a message twice, and consumers are the ones
// that are idempotent (DESIGN.md). Durability comes from acks=-1 on every send.
//
// Offsets: a message's offset is resolved only once its handler resolved (or it is safely in `<topic>.dlq`).
// kafkajs (autoCommit) commits the resolved offsets after every batch (runner.js commits unconditionally at the end
// of a batch), within a long batch at most every `commitIntervalMs`, and when the member leaves the group
// (rebalance, close), so a graceful shutdown commits what was handled; a crash re-delivers what was handled since
// the last commit (at-least-once; consumers are idempotent).
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type {
  Admin,
  Consumer as KafkaConsumer,
  IHeaders,
  ISocketFactory,
  KafkaMessage,
  logCreator,
  Producer,
  RetryOptions,
} from 'kafkajs';
import { CompressionTypes, Kafka, KafkaJSError, logLevel, Partitioners } from 'kafkajs';
import type { Consumer, DeliveredMessage, MessageBus, OutgoingMessage, SubscribeOptions, TopicSpec } from '../bus.port';
import { DLQ_HEADERS, deadLetterTopic, isDeadLetterTopic } from '../bus.port';
import { BusUnavailable, InvalidBusCall, MessagingError, UnknownTopic } from '../bus.errors';
import type { BusLogger } from '../bus.logger';
import { errorFields, stderrBusLogger } from '../bus.logger';
import type { DeadLetter } from '../delivery';
import { deliverBatch, handlingOf, retryPolicy } from '../delivery';
import { type BusHealth, type ConsumerLag, MessagingTelemetry, withTimeout } from '../telemetry';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  logger?: BusLogger;
  /** kafkajs's own log level (its messages go to `logger`); ERROR unless given. */
  kafkaLogLevel?: logLevel;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** kafkajs retry settings for the producer, admin and consumers (reconnects, transient broker errors). */
  retry?: RetryOptions;
  consumer?: {
    sessionTimeoutMs?: number;
    heartbeatIntervalMs?: number;
    /** Longest a fetch waits for data; short means a rebalance or a new message is noticed sooner. */
    maxWaitTimeMs?: number;
    /** Partitions handled in parallel per consumer; order stays per partition. 1 unless given. */
    partitionsConsumedConcurrently?: number;
    /** Within a long batch, resolved offsets are committed at most this often (every batch end commits too); 100. */
    commitIntervalMs?: number;
  };
}

/** Responses kafkajs logs at ERROR though it retries them by design (rebalances, a coordinator that is loading). */
const EXPECTED_RETRIABLE = new Set([
  'The group is rebalancing, so a rejoin is needed',
  'The group coordinator is not available',
  "The coordinator is loading and hence can't process requests for this group",
  'This is not the correct coordinator for this group',
  'The coordinator is not aware of this member',
]);

const DEFAULT_RETRY: RetryOptions = { initialRetryTime: 200, maxRetryTime: 5_000, retries: 10, multiplier: 2 };
/** How long a lag scrape may wait for the broker before /metrics answers without it. */
const LAG_TIMEOUT_MS = 3_000;

export class KafkaBus implements MessageBus {
  private readonly kafka: Kafka;
  private readonly logger: BusLogger;
  private producer: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  /** Topics known to exist: declared here, or found on the broker. */
  private readonly known = new Set<string>();
  private readonly consumers = new Set<KafkaBusConsumer>();
  /** Every socket kafkajs opened for this bus, so that close() can end the ones its disconnect() forgets. */
  private readonly sockets = new Set<Socket>();
  private closed = false;
  readonly telemetry = new MessagingTelemetry({
    consumerLag: () => this.consumerLag(),
    health: (timeoutMs) => this.health(timeoutMs),
  });

  constructor(private readonly opts: KafkaBusOptions) {
    this.logger = opts.logger ?? stderrBusLogger;
    const logger = this.logger;
    const toLogger: logCreator =
      () =>
      ({ level, log }) => {
        const { message, ...fields } = log;
        if (EXPECTED_RETRIABLE.has(String(fields['error']))) return;
        if (level <= logLevel.ERROR) logger.error(`kafkajs: ${message}`, fields);
        else logger.warn(`kafkajs: ${message}`, fields);
      };
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      logLevel: opts.kafkaLogLevel ?? logLevel.ERROR,
      logCreator: toLogger,
      connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      retry: opts.retry ?? DEFAULT_RETRY,
      socketFactory: this.trackedSockets(),
    });
  }

  async declareTopics(topics: TopicSpec[]): Promise<void> {
    this.assertOpen();
    const specs: TopicSpec[] = [];
    for (const spec of topics) {
      if (!spec.name || isDeadLetterTopic(spec.name)) {
        throw new InvalidBusCall(`cannot declare topic "${spec.name}" (empty, or a .dlq topic, which is implied)`);
      }
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new InvalidBusCall(`topic "${spec.name}": partitions must be an integer >= 1`);
      }
      specs.push(spec, { ...spec, name: deadLetterTopic(spec.name) });
    }
    await translate('declare topics', async () => {
      const admin = await this.connectedAdmin();
      // Only the missing ones: createTopics of an existing topic is a no-op at best, so existing topics keep the
      // layout they have (changing partitions would move keys between partitions and break per-key order).
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: s.replicationFactor ?? 1,
            configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      }
    });
    for (const s of specs) this.known.add(s.name);
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    for (const m of messages) {
      if (typeof m.key !== 'string' || m.key.length === 0) {
        throw new InvalidBusCall(`publish to "${topic}": every message needs a key (the aggregate id)`);
      }
    }
    await this.assertKnown(topic);
    if (messages.length === 0) return;
    await translate(`publish to "${topic}"`, async () => {
      const producer = await this.connectedProducer();
      await producer.send({
        topic,
        acks: -1,
        // No compression, said here rather than left to kafkajs's default: single events gain little from it, and
        // it would cost the relay CPU it does not have to spare (bench/messaging's raw baseline sends the same way).
        compression: CompressionTypes.None,
        // Shallow copies of key, value and headers only, never the caller's objects: a message that also has a
        // `partition` (a DeliveredMessage published onwards) would make kafkajs skip partitioning by key. The value
        // is not copied; a Uint8Array becomes a Buffer view of the same memory (kafkajs needs Buffer methods).
        messages: messages.map((m) => ({ key: m.key, value: asBuffer(m.value), headers: m.headers })),
      });
    });
  }

  async subscribe(opts: SubscribeOptions): Promise<Consumer> {
    this.assertOpen();
    if (!opts.group) throw new InvalidBusCall('subscribe needs a group');
    if (opts.topics.length === 0) throw new InvalidBusCall('subscribe needs at least one topic');
    const handling = handlingOf(opts);
    const policy = retryPolicy(opts);
    for (const t of opts.topics) await this.assertKnown(t);

    const c = this.opts.consumer ?? {};
    const group = opts.group;
    const retry = this.opts.retry ?? DEFAULT_RETRY;
    const create = (wrapped: KafkaBusConsumer): KafkaConsumer => {
      const consumer = this.kafka.consumer({
        groupId: group,
        allowAutoTopicCreation: false,
        sessionTimeout: c.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: c.heartbeatIntervalMs ?? 1_000,
        maxWaitTimeInMs: c.maxWaitTimeMs ?? 500,
        // kafkajs's own restart races with disconnect() (a restart scheduled during close reconnects after it) and
        // gives up on some errors a broker restart causes ("Failed to find group coordinator"), so it is off and
        // KafkaBusConsumer restarts a crashed consumer itself.
        retry: { ...retry, restartOnFailure: async () => false },
      });
      consumer.on(consumer.events.CRASH, (e) => wrapped.crashed(e.payload.error));
      return consumer;
    };
    const start = async (consumer: KafkaConsumer, wrapped: KafkaBusConsumer): Promise<void> => {
      await consumer.connect();
      // A new group starts at the earliest offset: at-least-once means nothing published before it joined is skipped.
      await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
      await consumer.run({
        // kafkajs commits the resolved offsets after a batch when the interval has passed, and on leaving the group.
        autoCommit: true,
        autoCommitInterval: c.commitIntervalMs ?? 100,
        autoCommitThreshold: null,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: c.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({
          batch,
          resolveOffset,
          heartbeat,
          commitOffsetsIfNecessary,
          uncommittedOffsets,
          isRunning,
          isStale,
        }) => {
          const messages = batch.messages.map((m) => delivered(batch.topic, batch.partition, m));
          try {
            await deliverBatch(
              { topic: batch.topic, partition: batch.partition, messages },
              {
                group,
                policy,
                handling,
                deadLetter: (letter) => this.publishDeadLetter(group, letter),
                markDone: (m) => resolveOffset(m.offset),
                isActive: () => isRunning() && !isStale() && !wrapped.closing,
                heartbeat,
                delay: (ms) => wrapped.delay(ms),
                onFailure: (m, error, willRetry) =>
                  this.logger.warn(willRetry ? 'handler failed; retrying' : 'handler failed; dead-lettering', {
                    group,
                    topic: m.topic,
                    partition: m.partition,
                    offset: m.offset,
                    ...errorFields(error),
                  }),
              },
            );
          } catch (e) {
            // A dead letter could not be published. Commit what was done before it, then fail the batch: the
            // consumer crashes, is restarted from the committed offsets, and the message is tried again: blocked,
            // never dropped.
            await commitOffsetsIfNecessary(uncommittedOffsets()).catch(() => undefined);
            throw new BusUnavailable(`group "${group}": dead-letter publish failed`, { cause: e });
          }
        },
      });
    };
    const wrapped = new KafkaBusConsumer({
      group,
      topics: opts.topics,
      logger: this.logger,
      restartDelayMs: retry.initialRetryTime ?? 300,
      create: (w) => create(w),
      start,
      onClosed: () => this.consumers.delete(wrapped),
    });
    try {
      await translate(`subscribe group "${group}"`, () => wrapped.start());
    } catch (e) {
      await wrapped.close();
      throw e;
    }
    this.consumers.add(wrapped);
    return wrapped;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
    const producer = this.producer;
    const admin = this.admin;
    this.producer = undefined;
    this.admin = undefined;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => undefined),
      admin?.then((a) => a.disconnect()).catch(() => undefined),
    ]);
    // kafkajs 2.2.4 can keep a connection its disconnect() does not know about (seen after the broker restarted
    // under a running consumer); it would hold the process open. end() rather than destroy(): the broker's answering
    // FIN makes kafkajs run its own disconnect for it, which also stops that connection's request-timeout timer.
    await Promise.all([...this.sockets].map(endSocket));
    this.sockets.clear();
  }

  /** kafkajs's default socket factory (plaintext; TLS is not configured for cx yet), tracking what it opens. */
  private trackedSockets(): ISocketFactory {
    const KEEP_ALIVE_MS = 60_000;
    return ({ host, port, onConnect }) => {
      const socket = netConnect({ host, port }, onConnect);
      socket.setKeepAlive(true, KEEP_ALIVE_MS);
      if (this.closed) {
        // A reconnect scheduled before close(): refuse it rather than leave a socket behind.
        setImmediate(() => socket.destroy());
      } else {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      }
      return socket;
    };
  }

  /**
   * Per group of this bus's consumers and topic: each partition's high watermark minus the group's committed
   * offset (its low watermark when it has committed nothing yet), summed. Read from the broker, so it includes
   * what other members of the group handled.
   */
  async consumerLag(): Promise<ConsumerLag[]> {
    if (this.closed) return [];
    const groups = new Map<string, Set<string>>();
    for (const c of this.consumers) {
      const topics = groups.get(c.group) ?? new Set<string>();
      for (const t of c.topics) topics.add(t);
      groups.set(c.group, topics);
    }
    if (groups.size === 0) return [];
    return withTimeout(
      translate('read consumer lag', async () => {
        const admin = await this.connectedAdmin();
        const ends = new Map<string, Map<number, { high: bigint; low: bigint }>>();
        const endOf = async (topic: string) => {
          let end = ends.get(topic);
          if (end === undefined) {
            const offsets = await admin.fetchTopicOffsets(topic);
            end = new Map(offsets.map((o) => [o.partition, { high: BigInt(o.high), low: BigInt(o.low) }]));
            ends.set(topic, end);
          }
          return end;
        };
        const out: ConsumerLag[] = [];
        for (const [groupId, topics] of groups) {
          const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
          for (const t of committed) {
            const end = await endOf(t.topic);
            let lag = 0n;
            for (const p of t.partitions) {
              const e = end.get(p.partition);
              if (e === undefined) continue;
              const at = BigInt(p.offset) >= 0n ? BigInt(p.offset) : e.low;
              if (e.high > at) lag += e.high - at;
            }
            out.push({ group: groupId, topic: t.topic, messages: Number(lag) });
          }
        }
        return out;
      }),
      LAG_TIMEOUT_MS,
      'consumer lag',
    );
  }

  /**
   * Whether a broker answers a metadata request (describeCluster) within `timeoutMs`, on a client of its own
   * that does not retry, so a broker that is away answers "down" at once instead of after the bus's retries.
   */
  async health(timeoutMs: number): Promise<BusHealth> {
    if (this.closed) return { status: 'down', error: 'the bus is closed' };
    // A client of its own: the bus's client retries connecting for tens of seconds, which would outlive the probe.
    const admin = new Kafka({
      clientId: `${this.opts.clientId}-health`,
      brokers: this.opts.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      retry: { retries: 0 },
      socketFactory: this.trackedSockets(),
    }).admin({ retry: { retries: 0 } });
    const probe = (async () => {
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return { brokers: cluster.brokers.length, controller: cluster.controller, clusterId: cluster.clusterId };
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    })();
    try {
      return { status: 'ok', details: await withTimeout(probe, timeoutMs, 'describeCluster') };
    } catch (e) {
      probe.catch(() => undefined);
      return { status: 'down', error: String(errorFields(e)['error']) };
    }
  }

  private async publishDeadLetter(group: string, letter: DeadLetter): Promise<void> {
    await this.publish(letter.topic, [letter]);
    this.telemetry.deadLettered(group, letter.headers[DLQ_HEADERS.originalTopic] ?? letter.topic);
    this.logger.error('message dead-lettered', { group, dlq: letter.topic, headers: letter.headers });
  }

  private async assertKnown(topic: string): Promise<void> {
    if (this.known.has(topic)) return;
    // Declared elsewhere (by the service that owns it)? Ask the broker once; auto-creation is off, so an unknown
    // topic would otherwise only surface as sends retried until they time out.
    const exists = await translate(`look up topic "${topic}"`, async () =>
      (await (await this.connectedAdmin()).listTopics()).includes(topic),
    );
    if (!exists) throw new UnknownTopic(topic);
    this.known.add(topic);
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: this.opts.retry ?? DEFAULT_RETRY,
      });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => {
        this.producer = undefined; // the next call tries to connect again
      });
    }
    return this.producer;
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: this.opts.retry ?? DEFAULT_RETRY });
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => {
        this.admin = undefined;
      });
    }
    return this.admin;
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidBusCall('the bus is closed');
  }
}

interface KafkaBusConsumerDeps {
  group: string;
  topics: readonly string[];
  logger: BusLogger;
  restartDelayMs: number;
  create(wrapped: KafkaBusConsumer): KafkaConsumer;
  start(consumer: KafkaConsumer, wrapped: KafkaBusConsumer): Promise<void>;
  onClosed(): void;
}

/**
 * One subscription. Owns the kafkajs consumer and replaces it when it crashes (kafkajs has disconnected it by
 * then), so a broker restart or a failed dead letter never leaves the group without this member. The new consumer
 * resumes from the committed offsets.
 */
class KafkaBusConsumer implements Consumer {
  closing = false;
  private current: KafkaConsumer | undefined;
  private starting: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed: Promise<void> | undefined;

  constructor(private readonly deps: KafkaBusConsumerDeps) {}

  get group(): string {
    return this.deps.group;
  }

  get topics(): readonly string[] {
    return this.deps.topics;
  }

  /** Creates and runs a kafkajs consumer; rejects if the first start fails. */
  start(): Promise<void> {
    const consumer = this.deps.create(this);
    this.current = consumer;
    this.starting = this.deps.start(consumer, this).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  crashed(error: Error): void {
    if (this.closing) return;
    this.deps.logger.warn('kafka consumer crashed; restarting it', { group: this.deps.group, ...errorFields(error) });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.closing) return;
      const previous = this.current;
      void (async () => {
        await previous?.disconnect().catch(() => undefined);
        if (this.closing) return;
        await this.start().catch((e: unknown) => {
          this.deps.logger.warn('kafka consumer restart failed; trying again', {
            group: this.deps.group,
            ...errorFields(e),
          });
          this.scheduleRestart();
        });
      })();
    }, this.deps.restartDelayMs);
  }

  delay(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(entry);
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      clearTimeout(this.restartTimer);
      for (const t of this.timers) {
        clearTimeout(t.timer);
        t.resolve();
      }
      this.timers.clear();
      this.closed = (async () => {
        // A start in progress is let finish first: disconnecting under it would let it reconnect afterwards.
        await this.starting?.catch(() => undefined);
        // disconnect() waits for the batch in hand, commits the resolved offsets and leaves the group.
        await this.current?.disconnect().catch((e: unknown) => {
          this.deps.logger.warn('kafka consumer disconnect failed', { group: this.deps.group, ...errorFields(e) });
        });
      })().finally(() => this.deps.onClosed());
    }
    return this.closed;
  }
}

const endSocket = (socket: Socket): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 1_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });

const delivered = (topic: string, partition: number, m: KafkaMessage): DeliveredMessage => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key ? m.key.toString('utf8') : '',
  value: m.value ?? Buffer.alloc(0),
  headers: stringHeaders(m.headers),
  attempt: 1,
});

const asBuffer = (v: Buffer | Uint8Array): Buffer =>
  Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

const stringHeaders = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  // A for-in over kafkajs's plain header object: Object.entries would build an array of pairs per message.
  for (const name in headers) {
    const value = headers[name];
    // A header repeated on the wire keeps its first value: our publishers never repeat one.
    const first = Array.isArray(value) ? (value[0] as Buffer | string | undefined) : value;
    if (first !== undefined) out[name] = typeof first === 'string' ? first : first.toString('utf8');
  }
  return out;
};

/** Runs a kafkajs call, turning its errors into ours with the original kept as `cause`. */
const translate = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (e) {
    if (e instanceof MessagingError) throw e;
    if (kafkaRetriable(e)) throw new BusUnavailable(`${what}: ${errorFields(e)['error']}`, { cause: e });
    throw new KafkaBusError(`${what}: ${errorFields(e)['error']}`, { cause: e });
  }
};

/**
 * Whether trying again may succeed: kafkajs marks transient broker answers `retriable`; a send that used up its
 * retries (KafkaJSNumberOfRetriesExceeded, not retriable itself) or a lost connection still means "the broker is
 * away for now", so those count too.
 */
const kafkaRetriable = (e: unknown): boolean => {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 10; depth++) {
    if (cur instanceof KafkaJSError && cur.retriable) return true;
    if (
      [
        'KafkaJSNumberOfRetriesExceeded',
        'KafkaJSConnectionError',
        'KafkaJSRequestTimeoutError',
        'KafkaJSConnectionClosedError',
      ].includes(cur.name)
    ) {
      return true;
    }
    cur = cur.cause ?? (cur as { originalError?: unknown }).originalError;
  }
  return false;
};

/** A kafkajs failure that trying again will not fix (bad config, authorization, an invalid request). */
export class KafkaBusError extends MessagingError {
  readonly retriable = false;
}
