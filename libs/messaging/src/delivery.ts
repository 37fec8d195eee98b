// The retry and dead-letter rules both adapters share, so a handler behaves the same under Kafka and in-process:
// a partition's messages are handled in offset order; a retriable failure is retried with bounded exponential
// backoff; a non-retriable failure, or one that outlasts `maxAttempts`, sends the message to `<topic>.dlq` with
// the error in headers, after which the partition moves on. A message is "done" (its offset may be committed)
// only when its handler resolved or it is safely in the dead-letter topic.
import type {
  BackoffOptions,
  BatchHandler,
  DeliveredMessage,
  MessageBatch,
  MessageHandler,
  SubscribeOptions,
} from './bus.port';
import { DLQ_HEADERS, deadLetterTopic } from './bus.port';
import { InvalidBusCall, isRetriable } from './bus.errors';
import { inContextOf } from './correlation';

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, multiplier: 2 };
/** Header values are bounded: a stack trace in every dead letter would swamp the topic. */
const MAX_ERROR_HEADER_CHARS = 2_000;

export interface RetryPolicy {
  maxAttempts: number;
  backoff: BackoffOptions;
}

export const retryPolicy = (opts: Pick<SubscribeOptions, 'maxAttempts' | 'backoff'>): RetryPolicy => {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidBusCall(`maxAttempts must be an integer >= 1, got ${String(maxAttempts)}`);
  }
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  if (!(backoff.initialMs >= 0) || !(backoff.maxMs >= backoff.initialMs) || !((backoff.multiplier ?? 2) >= 1)) {
    throw new InvalidBusCall('backoff needs 0 <= initialMs <= maxMs and multiplier >= 1');
  }
  return { maxAttempts, backoff };
};

/** The wait before try `attempt + 1`: initial × multiplier^(attempt-1), capped, with ±20 % jitter so peers spread out. */
export const backoffMs = (backoff: BackoffOptions, attempt: number): number => {
  const base = Math.min(backoff.maxMs, backoff.initialMs * (backoff.multiplier ?? 2) ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
};

/** The handler a subscription runs: exactly one of the two kinds. */
export type Handling = { kind: 'message'; handle: MessageHandler } | { kind: 'batch'; handle: BatchHandler };

export const handlingOf = (opts: SubscribeOptions): Handling => {
  if (opts.handler && !opts.batchHandler) return { kind: 'message', handle: opts.handler };
  if (opts.batchHandler && !opts.handler) return { kind: 'batch', handle: opts.batchHandler };
  throw new InvalidBusCall('subscribe needs exactly one of handler or batchHandler');
};

/** What the adapter provides around one partition batch. */
export interface DeliveryContext {
  group: string;
  policy: RetryPolicy;
  handling: Handling;
  /** Publishes a dead letter durably; rejects if it could not (then nothing is marked done). */
  deadLetter(letter: DeadLetter): Promise<void>;
  /**
   * The message, and every earlier one of its partition, is done; the adapter may commit offset + 1. Called in
   * offset order, not necessarily for every message (a handled batch marks only its last one).
   */
  markDone(message: DeliveredMessage): Promise<void> | void;
  /** False once the partition was taken away (rebalance, close): stop, leave the rest to the next owner. */
  isActive(): boolean;
  /** Keeps the group membership alive during long retries (Kafka heartbeat). */
  heartbeat(): Promise<void>;
  /** Waits between tries; resolves early when the consumer stops. */
  delay(ms: number): Promise<void>;
  /** Reports a failure that is being retried or dead-lettered (logging). */
  onFailure?(message: DeliveredMessage, error: unknown, willRetry: boolean): void;
}

/** The dead-letter copy of a message: same key and value, its headers plus the cx-dlq-* ones. */
export interface DeadLetter {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export const deadLetterOf = (message: DeliveredMessage, error: unknown, attempts: number): DeadLetter => ({
  topic: deadLetterTopic(message.topic),
  key: message.key,
  value: message.value,
  headers: {
    ...message.headers,
    [DLQ_HEADERS.error]: describeError(error).slice(0, MAX_ERROR_HEADER_CHARS),
    [DLQ_HEADERS.attempts]: String(attempts),
    [DLQ_HEADERS.originalTopic]: message.topic,
    [DLQ_HEADERS.originalPartition]: String(message.partition),
    [DLQ_HEADERS.originalOffset]: message.offset,
  },
});

const describeError = (e: unknown): string => {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? ` (cause: ${e.cause.name}: ${e.cause.message})` : '';
  return `${e.name}: ${e.message}${cause}`;
};

/**
 * Handles one partition's batch under the retry/dead-letter rules. Returns when every message is done, or early
 * when the partition is no longer ours. Rejects only if a dead letter could not be published: the caller must then
 * not commit past the last done message, so the poison message is retried later rather than lost.
 */
export const deliverBatch = async (batch: MessageBatch, ctx: DeliveryContext): Promise<void> => {
  if (ctx.handling.kind === 'message') {
    for (const message of batch.messages) {
      if (!ctx.isActive()) return;
      if (!(await deliverOne(message, ctx.handling.handle, ctx))) return;
    }
    return;
  }
  const handleBatch = ctx.handling.handle;
  const last = batch.messages[batch.messages.length - 1];
  if (last === undefined) return;
  // Adapters deliver every message with attempt 1, so the first try hands over the batch as it is; only a retry
  // pays for copies that carry the new attempt count.
  // Each try runs in the batch's correlation context (see inContextOf), so what the handler appends names its cause.
  const outcome = await withRetries(batch.messages[0], ctx, (attempt) =>
    inContextOf(batch.messages, () =>
      handleBatch(attempt === 1 ? batch : { ...batch, messages: batch.messages.map((m) => ({ ...m, attempt })) }),
    ),
  );
  if (outcome === 'stopped') return;
  if (outcome === 'ok') {
    // Done is "this offset and all before it" (a committed offset covers the whole partition prefix), so marking
    // the last message marks the batch: one call instead of one (awaited) call per message.
    await ctx.markDone(last);
    return;
  }
  // The batch keeps failing: find the poison message by handling the messages one by one, each with fresh tries.
  // The ones before it are handled again (at-least-once; handlers are idempotent).
  for (const message of batch.messages) {
    if (!ctx.isActive()) return;
    const single: MessageHandler = (m) => handleBatch({ topic: m.topic, partition: m.partition, messages: [m] });
    if (!(await deliverOne(message, single, ctx))) return;
  }
};

/** True when the message is done (handled or dead-lettered), false when the partition was taken away. */
const deliverOne = async (
  message: DeliveredMessage,
  handle: MessageHandler,
  ctx: DeliveryContext,
): Promise<boolean> => {
  const outcome = await withRetries(message, ctx, (attempt) =>
    inContextOf([message], () => handle({ ...message, attempt })),
  );
  if (outcome === 'stopped') return false;
  if (outcome !== 'ok') await ctx.deadLetter(deadLetterOf(message, outcome.error, outcome.attempts));
  await ctx.markDone(message);
  return true;
};

interface Failed {
  error: unknown;
  attempts: number;
}

const withRetries = async (
  subject: DeliveredMessage | undefined,
  ctx: DeliveryContext,
  run: (attempt: number) => Promise<void>,
): Promise<'ok' | 'stopped' | Failed> => {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(attempt);
      return 'ok';
    } catch (error) {
      const willRetry = isRetriable(error) && attempt < ctx.policy.maxAttempts;
      // Reported in the message's context, so the log line of a retry or a dead letter names the request behind it.
      if (subject) inContextOf([subject], () => ctx.onFailure?.(subject, error, willRetry));
      if (!willRetry) return { error, attempts: attempt };
      await ctx.heartbeat();
      await ctx.delay(backoffMs(ctx.policy.backoff, attempt));
      if (!ctx.isActive()) return 'stopped';
    }
  }
};
