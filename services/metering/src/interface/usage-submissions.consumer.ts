import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  type Consumer,
  DLQ_HEADERS,
  deadLetterTopic,
  type DeliveredMessage,
  MESSAGE_BUS,
  type MessageBatch,
  type MessageBus,
  type OutgoingMessage,
} from '@cx/messaging';
import type { Publisher, UsageResult } from '../application/usage.handlers';
import { METERING_CONFIG, type MeteringConfig } from '../config';
import type { Rejection } from '../domain/usage/usage.validation';
import type { RejectionFacts } from '../application/rejection.handlers';
import { ACCOUNT_ATTRIBUTE, fromKafkaRecord, reportingAccountOf } from './cloudevents-kafka';
import { MeteringService } from './metering.service';

// Integrators' usage over Kafka (`cx.metering.usage-submitted.v1`, CloudEvents Kafka binding). A partition's batch
// goes through the same ingestion as an HTTP batch (validation, tenancy, the exactly-once claim per (source, id))
// in one call, so the store's group commit writes it in one or a few transactions. Every rejected record is
// recorded as a UsageRejected event (once per record and reason; the relay publishes it on cx.metering.usage.v1,
// from where the account it reported for is told by webhook) and published to `<topic>.dlq` with its reason in
// headers before the batch resolves; only then is the offset committed. Redelivery (a crash, a rebalance, a
// restart) re-runs a batch: accepted events come back as duplicates and count zero times, a rejected record is
// not recorded again, and it may appear on the dead-letter topic twice (its `cx-dlq-original-*` headers say which
// record it was). Nothing is dropped silently.
//
// Usage refused over HTTP is not recorded: the caller has every code and field in the answer, and recording each
// refusal would let a misbehaving client turn its retries into store writes and webhook traffic.
//
// Kafka carries no API key, so the broker's ACLs decide who may produce to the topic, and each event names the
// account it reports for in the `cxaccount` extension attribute; that account must be a party of the subject,
// exactly as an HTTP key's accounts must be.

/** Headers a metering rejection adds to its dead letter beside the bus's own `cx-dlq-*` ones. */
export const REJECTION_HEADERS = { code: 'cx-dlq-reason-code', field: 'cx-dlq-reason-field' } as const;

// A store outage is retried for a while (the batch is blocked, not lost) before the bus dead-letters it.
const MAX_ATTEMPTS = 20;

@Injectable()
export class UsageSubmissionsConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: Consumer | null = null;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(MeteringService) private readonly metering: MeteringService,
    @Inject(METERING_CONFIG) private readonly config: MeteringConfig,
  ) {}

  // After every module's init: the projection is caught up and the meters exist before the first batch.
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.kafkaIngest) return;
    this.consumer = await this.bus.subscribe({
      group: this.config.submissionsGroup,
      topics: [this.config.submissionsTopic],
      batchHandler: (batch) => this.handle(batch),
      maxAttempts: MAX_ATTEMPTS,
      backoff: { initialMs: 100, maxMs: 5_000 },
    });
  }

  /** Leaves the group after the batch in hand, committing what was handled. */
  async onModuleDestroy(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    await c?.close();
  }

  async handle(batch: MessageBatch): Promise<void> {
    const { messages } = batch;
    const rejected: { message: DeliveredMessage; why: Rejection }[] = [];
    // The records that decode as CloudEvents, and the account each reports for (or why it names none).
    const events: unknown[] = [];
    const from: DeliveredMessage[] = [];
    const publishers: (Publisher | Rejection)[] = [];
    for (const message of messages) {
      const decoded = fromKafkaRecord(message);
      if ('rejected' in decoded) {
        rejected.push({ message, why: decoded.rejected });
        continue;
      }
      const account = reportingAccountOf(decoded.event);
      events.push(decoded.event);
      from.push(message);
      publishers.push(typeof account === 'string' ? { role: 'integrator', accounts: [account] } : account);
    }
    if (events.length > 0) {
      const first = messages[0] as DeliveredMessage;
      const cause = `${batch.topic}/${batch.partition}/${first.offset}`;
      const outcome = await this.metering.ingestSubmissions(events, (i) => publishers[i] as Publisher | Rejection, {
        correlationId: cause,
        causationId: cause,
        actor: { service: 'metering', role: 'integrator' },
      });
      for (const r of outcome.results) {
        if (r.status === 'rejected') rejected.push({ message: from[r.index] as DeliveredMessage, why: whyOf(r) });
      }
    }
    if (rejected.length > 0) {
      const first = messages[0] as DeliveredMessage;
      const cause = `${batch.topic}/${batch.partition}/${first.offset}`;
      // Recorded before the dead letters: a store failure fails the batch, which is redelivered and judged again.
      await this.metering.recordRejections(
        rejected.map(({ message, why }) => factsOf(message, why)),
        { correlationId: cause, causationId: cause, actor: { service: 'metering', role: 'integrator' } },
      );
      // Offset order, so the dead-letter topic reads like the source partition.
      rejected.sort((a, b) => (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
      await this.bus.publish(
        deadLetterTopic(batch.topic),
        rejected.map(({ message, why }) => deadLetterFor(message, why)),
      );
    }
  }
}

const whyOf = (r: UsageResult & { status: 'rejected' }): Rejection => ({
  code: r.code,
  field: r.field,
  message: r.message,
});

/**
 * A string attribute of the record: from the structured event if it decoded, else from its `ce_` header. The
 * attributes of a refused record are unvalidated, so one longer than any valid one counts as absent rather than
 * being stored and published at whatever size the producer chose.
 */
const attributeOf = (m: DeliveredMessage, event: unknown, name: string): string | null => {
  const o = typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : {};
  const v = o[name] ?? m.headers[`ce_${name}`];
  return typeof v === 'string' && v !== '' && v.length <= MAX_ATTRIBUTE_LENGTH ? v : null;
};
const MAX_ATTRIBUTE_LENGTH = 256;

/** What metering records about a refused record: its identity (as far as it has one), its account and the reason. */
const factsOf = (m: DeliveredMessage, why: Rejection): RejectionFacts => {
  // Decoded again rather than carried through the batch: only refused records pay for it, and it is pure.
  const decoded = fromKafkaRecord(m);
  const event = 'event' in decoded ? decoded.event : null;
  return {
    source: attributeOf(m, event, 'source'),
    id: attributeOf(m, event, 'id'),
    account: attributeOf(m, event, ACCOUNT_ATTRIBUTE),
    subject: attributeOf(m, event, 'subject'),
    code: why.code,
    field: why.field,
    message: why.message,
    position: `${m.topic}/${m.partition}/${m.offset}`,
  };
};

const deadLetterFor = (m: DeliveredMessage, why: Rejection): OutgoingMessage => ({
  // The integrator's key if it gave one; a dead letter needs some key, and its own position is unique.
  key: m.key || `${m.topic}/${m.partition}/${m.offset}`,
  value: m.value,
  headers: {
    ...m.headers,
    [DLQ_HEADERS.error]: `${why.code}: ${why.message}`.slice(0, 2_000),
    [DLQ_HEADERS.attempts]: String(m.attempt),
    [DLQ_HEADERS.originalTopic]: m.topic,
    [DLQ_HEADERS.originalPartition]: String(m.partition),
    [DLQ_HEADERS.originalOffset]: m.offset,
    [REJECTION_HEADERS.code]: why.code,
    [REJECTION_HEADERS.field]: why.field,
  },
});
