// The message bus port: what services publish integration events with and consume them through. Two adapters
// implement it (Kafka for distributed mode, in-process for embedded mode) and one contract suite holds both to it.
//
// Delivery is at-least-once: a handler may see a message again (after a crash, a rebalance, a retry), so every
// handler is idempotent (DESIGN.md, "How an event travels"). Order is kept per key: one key, one partition, and a
// partition is handled by one consumer of a group at a time, message after message.

/** A topic and how it is laid out. Declaring it also declares its dead-letter topic `<name>.dlq`. */
export interface TopicSpec {
  name: string;
  /** Messages are spread over partitions by key; order holds within a partition only. */
  partitions: number;
  /** Broker-side topic configs (Kafka `configEntries`), e.g. `{ 'retention.ms': '604800000' }`. */
  configs?: Record<string, string>;
  /** Kafka only; 1 on a single-node broker. */
  replicationFactor?: number;
}

export interface OutgoingMessage {
  /** The aggregate id: every message of one aggregate lands on one partition, in order. */
  key: string;
  value: Buffer | Uint8Array;
  headers?: Record<string, string>;
}

export interface DeliveredMessage {
  topic: string;
  partition: number;
  /** The position in the partition, a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** 1 on the first try of this delivery, then 2, 3… while a retriable failure is retried. */
  attempt: number;
}

/** Handles one message. Resolving means its effect is durable; only then is its offset committed. */
export type MessageHandler = (message: DeliveredMessage) => Promise<void>;

/** Messages of one partition, in offset order. */
export interface MessageBatch {
  topic: string;
  partition: number;
  messages: DeliveredMessage[];
}

/**
 * Handles a batch of one partition at once (e.g. one store transaction for many messages). Resolving means the
 * effect of every message in it is durable. If it keeps failing, the batch is split and its messages are handled
 * one by one, so that only the poison message goes to the dead-letter topic.
 */
export type BatchHandler = (batch: MessageBatch) => Promise<void>;

/** Bounded exponential backoff between tries of a retriable failure. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth factor per attempt; 2 unless given. */
  multiplier?: number;
}

interface SubscribeCommon {
  /** The consumer group: members of one group share the partitions and the committed offsets. */
  group: string;
  /** Every topic must have been declared (on this bus, or on the broker); otherwise subscribe rejects. */
  topics: string[];
  /** Tries per message (first try included) for retriable errors, before it goes to `<topic>.dlq`. Default 5. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
}

/**
 * Exactly one of `handler` (one message at a time) or `batchHandler` (a partition's batch at a time). Two named
 * options rather than one `handler: MessageHandler | BatchHandler`, because a function cannot be told apart at
 * runtime by what it expects.
 */
export type SubscribeOptions = SubscribeCommon &
  ({ handler: MessageHandler; batchHandler?: never } | { batchHandler: BatchHandler; handler?: never });

export interface Consumer {
  /** Leaves the group after the message in hand is handled, with every handled offset committed. */
  close(): Promise<void>;
}

export interface MessageBus {
  /** Creates the topics (and their `.dlq` topics) if they do not exist; a no-op for those that do. */
  declareTopics(topics: TopicSpec[]): Promise<void>;
  /** Resolves once every message is stored (Kafka: acknowledged by all in-sync replicas, acks=-1). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(opts: SubscribeOptions): Promise<Consumer>;
  /** Closes every consumer (committing what they handled), then the producer. */
  close(): Promise<void>;
}

/** The dead-letter topic of a topic. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;
export const isDeadLetterTopic = (topic: string): boolean => topic.endsWith('.dlq');

/** Headers a dead-lettered message carries beside its own. */
export const DLQ_HEADERS = {
  error: 'cx-dlq-error',
  attempts: 'cx-dlq-attempts',
  originalTopic: 'cx-dlq-original-topic',
  originalPartition: 'cx-dlq-original-partition',
  originalOffset: 'cx-dlq-original-offset',
} as const;
