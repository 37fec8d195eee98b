import { createEvent, PeriodKind, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import type { CommandMetadata, RecordedEvent } from '@cx/event-store';
import type { Currency } from '@cx/shared-kernel';
import { envelopeFor, type DeliveredMessage, type RelayRoute, type TopicSpec } from '@cx/messaging';
import { ALLOCATION_BILLING_PREFIX, type AllocationSettled } from '../domain/settlement/allocation-billing.events';
import { OFFER_USAGE_PREFIX, type OfferUsageSettled } from '../domain/settlement/offer-usage';
import { PERIOD_STREAM_PREFIX, type PeriodClosed } from '../domain/settlement/period.events';
import { STATEMENT_STREAM_PREFIX, type StatementIssued } from '../domain/statement/statement.events';
import { canonicalToMinor, formatAmount } from '../domain/ledger/ledger.amounts';

// Billing's integration topics. It consumes the tape (holds, maker/taker), allocations and usage; it publishes
// period closes, settlements and statements through the relay (proto/cx/billing/v1).
export const TRADES_TOPIC = 'cx.matching.trades.v1';
export const ALLOCATIONS_TOPIC = 'cx.matching.allocations.v1';
export const USAGE_TOPIC = 'cx.metering.usage.v1';
export const GUIDANCE_TOPIC = 'cx.pricing.guidance.v1';
export const PERIODS_TOPIC = 'cx.billing.periods.v1';
export const SETTLEMENTS_TOPIC = 'cx.billing.settlements.v1';
export const STATEMENTS_TOPIC = 'cx.billing.statements.v1';
/** The consumer group billing reads integration topics in. */
export const BILLING_GROUP = 'billing';

export const billingTopicSpecs: TopicSpec[] = [
  // Period closes are few and every consumer wants them in order: one partition.
  { name: PERIODS_TOPIC, partitions: 1 },
  { name: SETTLEMENTS_TOPIC, partitions: 8 },
  { name: STATEMENTS_TOPIC, partitions: 8 },
];

/** The topics billing hears (their owners declare them; a host running billing alone declares these). */
export const billingConsumedTopics = [TRADES_TOPIC, ALLOCATIONS_TOPIC, USAGE_TOPIC, GUIDANCE_TOPIC] as const;

/** Who caused a consumer's effect: the integration event's envelope, else its place on the topic. */
export const causeOf = (
  m: DeliveredMessage,
  envelope: { eventId: string; correlationId: string } | undefined,
): CommandMetadata => {
  const fallback = `${m.topic}/${m.partition}/${m.offset}`;
  return {
    correlationId: envelope?.correlationId || fallback,
    causationId: envelope?.eventId || fallback,
    actor: { service: 'billing' },
  };
};

const money = (amount: string, currency: string) => ({ amount, currency });

/** a + b (b absent: a), exact in minor units. */
const addAmounts = (a: string, b: string | undefined, currency: Currency): string =>
  b === undefined ? a : formatAmount(canonicalToMinor(a, currency) + canonicalToMinor(b, currency), currency);

export const billingRelayRoutes: RelayRoute[] = [
  {
    streamPrefixes: [PERIOD_STREAM_PREFIX],
    toMessage: (e: RecordedEvent) => {
      if (e.type !== 'PeriodClosed') return null;
      const d = e.data as PeriodClosed['data'];
      const ev = createEvent(PERIODS_TOPIC, {
        envelope: envelopeFor(e, d.period, new Date(d.closedAt)),
        event: {
          case: 'periodClosed',
          value: {
            period: d.period,
            kind: d.kind === 'day' ? PeriodKind.DAY : PeriodKind.MONTH,
            start: timestampFromDate(new Date(d.start)),
            end: timestampFromDate(new Date(d.end)),
            closedAtPosition: { commit: e.position.commit, prepare: e.position.prepare },
          },
        },
      });
      return { topic: PERIODS_TOPIC, message: toKafkaRecord(PERIODS_TOPIC, ev) };
    },
  },
  {
    streamPrefixes: [ALLOCATION_BILLING_PREFIX],
    toMessage: (e: RecordedEvent) => {
      if (e.type !== 'AllocationSettled') return null;
      const d = e.data as AllocationSettled['data'];
      const allocationId = e.streamId.slice(ALLOCATION_BILLING_PREFIX.length);
      const ev = createEvent(SETTLEMENTS_TOPIC, {
        envelope: envelopeFor(e, allocationId, new Date(d.at)),
        event: {
          case: 'settlementPosted',
          value: {
            settlementId: d.settlementId,
            period: d.period,
            subject: { case: 'allocationId', value: allocationId },
            buyerAccountId: d.buyerAccount,
            providerAccountId: d.providerAccount,
            quantity: d.deliveredHoursDelta,
            unit: 'accelerator-hour',
            amount: money(d.chargeDelta, d.currency),
            buyerFee: money(d.buyerFeeDelta, d.currency),
            providerFee: money(d.providerFeeDelta, d.currency),
            shortfall: money('0', d.currency),
            transferIds: d.transfers.map((t) => t.id),
          },
        },
      });
      return { topic: SETTLEMENTS_TOPIC, message: toKafkaRecord(SETTLEMENTS_TOPIC, ev) };
    },
  },
  {
    streamPrefixes: [OFFER_USAGE_PREFIX],
    toMessage: (e: RecordedEvent) => {
      if (e.type !== 'OfferUsageSettled') return null;
      const d = e.data as OfferUsageSettled['data'];
      const ev = createEvent(SETTLEMENTS_TOPIC, {
        envelope: envelopeFor(e, d.offerId, new Date(d.at)),
        event: {
          case: 'settlementPosted',
          value: {
            settlementId: d.settlementId,
            period: d.period,
            subject: { case: 'offerId', value: d.offerId },
            buyerAccountId: d.consumerAccount,
            providerAccountId: d.providerAccount,
            quantity: d.quantityDelta,
            unit: d.unit,
            amount: money(d.chargeDelta, d.currency),
            buyerFee: money(d.consumerFeeDelta, d.currency),
            providerFee: money(d.providerFeeDelta, d.currency),
            shortfall: money('0', d.currency),
            transferIds: d.transfers.map((t) => t.id),
            ...(d.guidanceVersions[0] !== undefined ? { guidanceVersionId: d.guidanceVersions.join(',') } : {}),
          },
        },
      });
      return { topic: SETTLEMENTS_TOPIC, message: toKafkaRecord(SETTLEMENTS_TOPIC, ev) };
    },
  },
  {
    streamPrefixes: [STATEMENT_STREAM_PREFIX],
    toMessage: (e: RecordedEvent) => {
      if (e.type !== 'StatementIssued') return null;
      const d = e.data as StatementIssued['data'];
      const s = d.summary;
      const ev = createEvent(STATEMENTS_TOPIC, {
        envelope: envelopeFor(e, s.account, new Date(d.issuedAt)),
        event: {
          case: 'statementIssued',
          value: {
            statementId: d.statementId,
            accountId: s.account,
            period: s.period,
            openingBalance: money(s.openingBalance, s.currency),
            charges: money(s.totals.charges, s.currency),
            fees: money(s.totals.fees, s.currency),
            shortfalls: money('0', s.currency),
            // A reissued version counts its notes in: the statement's figures as corrected.
            adjustments: money(addAmounts(s.totals.notes, s.adjustedTotals?.adjustments, s.currency), s.currency),
            closingBalance: money(s.adjustedTotals?.closingBalance ?? s.closingBalance, s.currency),
            lineCount: s.lineCount,
            contentHash: d.contentHash,
            builtFromPosition: { commit: e.position.commit, prepare: e.position.prepare },
            ...(d.supersedes !== null ? { supersedesStatementId: d.supersedes } : {}),
            version: d.version,
          },
        },
      });
      return { topic: STATEMENTS_TOPIC, message: toKafkaRecord(STATEMENTS_TOPIC, ev) };
    },
  },
];
