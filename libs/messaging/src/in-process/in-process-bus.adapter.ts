// The bus for embedded mode: the same port, partitioning, ordering, consumer groups, retries and dead letters as
// the Kafka adapter, held in this process's memory.
//
// It holds no durable state: a restart loses every message and committed offset. That is by design, because in
// embedded mode the event store is the durable log: the relay republishes from its checkpoint in the store after a
// restart, and consumers (idempotent, at-least-once) rebuild from there. That is the relay's job, not the bus's.
//
// Retention, like Kafka's but driven by consumption rather than time: once every consumer group that has subscribed
// to a topic has committed past a message, that message is dropped (in chunks, see TRIM_MIN). Offsets are absolute
// and never change when a prefix is dropped. A group that subscribes later starts at the earliest message still
// retained, not at offset 0: what every existing group has consumed is gone. A topic (or `.dlq` topic) that no group
// has subscribed to yet keeps everything, so a consumer that subscribes after the relay started still sees it all.
// A group whose members have all closed keeps its committed offsets, and so still holds messages back.
import type { Consumer, DeliveredMessage, MessageBus, OutgoingMessage, SubscribeOptions, TopicSpec } from '../bus.port';
import { deadLetterTopic, isDeadLetterTopic } from '../bus.port';
import { InvalidBusCall, UnknownTopic } from '../bus.errors';
import type { BusLogger } from '../bus.logger';
import { errorFields, stderrBusLogger } from '../bus.logger';
import type { DeadLetter, Handling, RetryPolicy } from '../delivery';
import { deliverBatch, handlingOf, retryPolicy } from '../delivery';
import { partitionForKey } from '../partition-for-key';
import { type ConsumerLag, MessagingTelemetry } from '../telemetry';

export interface InProcessBusOptions {
  /** Most messages handed to a handler at once; 100 unless given. */
  maxBatchSize?: number;
  logger?: BusLogger;
}

interface StoredMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** One partition's retained messages: `messages[i]` has the absolute offset `base + i`. */
interface PartitionLog {
  base: number;
  messages: StoredMessage[];
}

interface TopicState {
  spec: TopicSpec;
  partitions: PartitionLog[];
}

/**
 * The fewest consumed messages a partition drops at once. A prefix is dropped only once it is at least this long
 * and at least as long as what remains, so each splice costs at most twice what it frees: O(1) amortised per message.
 */
const TRIM_MIN = 1024;

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Resolves when notified; a worker waits on one while it has nothing to do. */
class Signal {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

class Member implements Consumer {
  closing = false;
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(
    readonly group: Group,
    readonly topics: ReadonlySet<string>,
    readonly handling: Handling,
    readonly policy: RetryPolicy,
  ) {}

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

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // Cut backoff waits short; the message in hand is then not marked done and goes to the next owner.
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
    await this.group.leave(this);
  }
}

/** One partition of one topic, as one group consumes it: at most one delivery in flight at a time. */
class PartitionWorker {
  private readonly signal = new Signal();
  private inFlight: { owner: Member; delivery: Promise<void> } | undefined;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly bus: InProcessBus,
    private readonly group: Group,
    private readonly topic: TopicState,
    private readonly partition: number,
  ) {
    this.done = this.run();
  }

  wake(): void {
    this.signal.notify();
  }

  stop(): void {
    this.stopped = true;
    this.signal.notify();
  }

  /** Resolves once no delivery by `member` is in flight here. */
  async drain(member: Member): Promise<void> {
    while (this.inFlight?.owner === member) await this.inFlight.delivery;
  }

  private async run(): Promise<void> {
    const name = this.topic.spec.name;
    const log = this.topic.partitions[this.partition]!;
    const key = tpKey(name, this.partition);
    while (!this.stopped) {
      const owner = this.group.ownerOf(name, this.partition);
      // Never below the base: the group's own committed offset holds trimming back, so this is only a safeguard.
      const next = Math.max(this.group.committed.get(key) ?? log.base, log.base);
      if (!owner || next >= log.base + log.messages.length) {
        await this.signal.wait();
        continue;
      }
      const from = next - log.base;
      const messages: DeliveredMessage[] = log.messages
        .slice(from, from + this.bus.maxBatchSize)
        .map((m, i) => ({ topic: name, partition: this.partition, offset: String(next + i), ...m, attempt: 1 }));
      const delivery = this.deliver(owner, messages);
      this.inFlight = { owner, delivery };
      await delivery;
      this.inFlight = undefined;
    }
  }

  private async deliver(owner: Member, messages: DeliveredMessage[]): Promise<void> {
    const name = this.topic.spec.name;
    const key = tpKey(name, this.partition);
    const isActive = (): boolean =>
      !this.stopped && !owner.closing && this.group.ownerOf(name, this.partition) === owner;
    try {
      await deliverBatch(
        { topic: name, partition: this.partition, messages },
        {
          group: this.group.name,
          policy: owner.policy,
          handling: owner.handling,
          deadLetter: async (letter: DeadLetter) => {
            await this.bus.publish(letter.topic, [letter]);
            this.bus.telemetry.deadLettered(this.group.name, name);
            this.bus.logger.error('message dead-lettered', {
              group: this.group.name,
              topic: name,
              partition: this.partition,
              dlq: letter.topic,
              headers: letter.headers,
            });
          },
          markDone: (m) => {
            this.group.committed.set(key, Number(m.offset) + 1);
            this.bus.trim(this.topic, this.partition, Number(m.offset) + 1);
          },
          isActive,
          heartbeat: async () => undefined,
          delay: (ms) => owner.delay(ms),
          onFailure: (m, error, willRetry) =>
            this.bus.logger.warn(willRetry ? 'handler failed; retrying' : 'handler failed; dead-lettering', {
              group: this.group.name,
              topic: m.topic,
              partition: m.partition,
              offset: m.offset,
              ...errorFields(error),
            }),
        },
      );
    } catch (e) {
      // The dead letter could not be stored (e.g. the `.dlq` of a `.dlq` topic, which is never declared). Nothing
      // past the last done message was committed, so the message is tried again after a pause: blocked, not lost.
      this.bus.logger.error('dead-letter publish failed; the partition will retry', {
        group: this.group.name,
        topic: name,
        partition: this.partition,
        ...errorFields(e),
      });
      await owner.delay(owner.policy.backoff.maxMs);
    }
  }
}

class Group {
  readonly committed = new Map<string, number>();
  private members: Member[] = [];
  private readonly workers = new Map<string, PartitionWorker>();

  constructor(
    private readonly bus: InProcessBus,
    readonly name: string,
  ) {}

  /**
   * The member that owns a partition: the members subscribed to its topic, in join order, share the partitions
   * round-robin. A member that is closing owns nothing.
   */
  ownerOf(topic: string, partition: number): Member | undefined {
    const eligible = this.members.filter((m) => m.topics.has(topic) && !m.closing);
    return eligible.length === 0 ? undefined : eligible[partition % eligible.length];
  }

  join(member: Member): void {
    this.members.push(member);
    for (const topic of member.topics) {
      const state = this.bus.topicState(topic);
      for (let p = 0; p < state.partitions.length; p++) {
        const key = tpKey(topic, p);
        // A group new to this partition starts at its earliest retained message, and from now on holds back trimming.
        if (!this.committed.has(key)) this.committed.set(key, state.partitions[p]!.base);
        if (!this.workers.has(key)) this.workers.set(key, new PartitionWorker(this.bus, this, state, p));
      }
    }
    this.wakeAll();
  }

  async leave(member: Member): Promise<void> {
    // `closing` already takes the member out of ownerOf(); wait for its deliveries in flight, then drop it.
    await Promise.all([...this.workers.values()].map((w) => w.drain(member)));
    this.members = this.members.filter((m) => m !== member);
    this.wakeAll();
  }

  wake(topic: string, partition: number): void {
    this.workers.get(tpKey(topic, partition))?.wake();
  }

  wakeAll(): void {
    for (const w of this.workers.values()) w.wake();
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
    for (const w of this.workers.values()) w.stop();
    await Promise.all([...this.workers.values()].map((w) => w.done));
  }
}

export class InProcessBus implements MessageBus {
  readonly maxBatchSize: number;
  readonly logger: BusLogger;
  /** Lag is exact here (the log and the offsets are in memory); the bus is always healthy while open. */
  readonly telemetry = new MessagingTelemetry({
    consumerLag: async () => this.consumerLag(),
    health: async () => (this.closed ? { status: 'down', error: 'the bus is closed' } : { status: 'ok' }),
  });
  private readonly topics = new Map<string, TopicState>();
  private readonly groups = new Map<string, Group>();
  private closed = false;

  constructor(opts: InProcessBusOptions = {}) {
    this.maxBatchSize = opts.maxBatchSize ?? 100;
    this.logger = opts.logger ?? stderrBusLogger;
  }

  async declareTopics(topics: TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const spec of topics) {
      if (!spec.name || isDeadLetterTopic(spec.name)) {
        throw new InvalidBusCall(`cannot declare topic "${spec.name}" (empty, or a .dlq topic, which is implied)`);
      }
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new InvalidBusCall(`topic "${spec.name}": partitions must be an integer >= 1`);
      }
      for (const name of [spec.name, deadLetterTopic(spec.name)]) {
        // As with Kafka's createTopics, an existing topic is left as it is.
        if (!this.topics.has(name)) {
          const partitions = Array.from({ length: spec.partitions }, (): PartitionLog => ({ base: 0, messages: [] }));
          this.topics.set(name, { spec: { ...spec, name }, partitions });
        }
      }
    }
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    const state = this.topicState(topic);
    for (const m of messages) {
      if (typeof m.key !== 'string' || m.key.length === 0) {
        throw new InvalidBusCall(`publish to "${topic}": every message needs a key (the aggregate id)`);
      }
    }
    for (const m of messages) {
      const partition = partitionForKey(m.key, state.partitions.length);
      // Copied, so that a caller reusing its buffer cannot change what consumers see.
      state.partitions[partition]!.messages.push({
        key: m.key,
        value: Buffer.from(m.value),
        headers: { ...m.headers },
      });
      for (const g of this.groups.values()) g.wake(topic, partition);
    }
  }

  async subscribe(opts: SubscribeOptions): Promise<Consumer> {
    this.assertOpen();
    if (!opts.group) throw new InvalidBusCall('subscribe needs a group');
    if (opts.topics.length === 0) throw new InvalidBusCall('subscribe needs at least one topic');
    for (const t of opts.topics) this.topicState(t);
    const handling = handlingOf(opts);
    const policy = retryPolicy(opts);
    let group = this.groups.get(opts.group);
    if (!group) {
      group = new Group(this, opts.group);
      this.groups.set(opts.group, group);
    }
    const member = new Member(group, new Set(opts.topics), handling, policy);
    group.join(member);
    return member;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.groups.values()].map((g) => g.stop()));
  }

  /**
   * How many messages of `topic` are still held in memory, over all its partitions. A diagnostic, for tests and
   * metrics only: what is retained depends on the trimming policy (see the top of this file), not on the bus contract.
   */
  retained(topic: string): number {
    return this.topicState(topic).partitions.reduce((n, log) => n + log.messages.length, 0);
  }

  /** Per group and topic: messages published and not yet committed by the group. */
  consumerLag(): ConsumerLag[] {
    const out: ConsumerLag[] = [];
    for (const g of this.groups.values()) {
      const byTopic = new Map<string, number>();
      for (const [key, committed] of g.committed) {
        const [topic, partition] = key.split('\u0000') as [string, string];
        const log = this.topics.get(topic)?.partitions[Number(partition)];
        if (log === undefined) continue;
        byTopic.set(topic, (byTopic.get(topic) ?? 0) + Math.max(0, log.base + log.messages.length - committed));
      }
      for (const [topic, messages] of byTopic) out.push({ group: g.name, topic, messages });
    }
    return out;
  }

  /**
   * @internal Called after a group commits `committed` on a partition: drops the prefix every group subscribed to
   * the topic has consumed, once it is long enough to be worth it (TRIM_MIN). Only a group's own commit can move
   * the minimum, so the cheap check on it comes first and the scan over groups happens once per chunk.
   */
  trim(state: TopicState, partition: number, committed: number): void {
    const log = state.partitions[partition]!;
    const threshold = Math.max(TRIM_MIN, log.messages.length / 2);
    if (committed - log.base < threshold) return;
    const key = tpKey(state.spec.name, partition);
    let low = committed;
    for (const g of this.groups.values()) {
      const c = g.committed.get(key);
      if (c !== undefined && c < low) low = c;
    }
    const dead = low - log.base;
    if (dead < threshold) return;
    log.messages.splice(0, dead);
    log.base = low;
  }

  /** @internal */
  topicState(topic: string): TopicState {
    const state = this.topics.get(topic);
    if (!state) throw new UnknownTopic(topic);
    return state;
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidBusCall('the bus is closed');
  }
}
