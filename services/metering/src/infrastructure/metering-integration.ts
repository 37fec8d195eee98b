import { createEvent, ReporterRole as WireReporterRole, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import type { RecordedEvent } from '@cx/event-store';
import { envelopeFor, type RelayRoute, type TopicSpec } from '@cx/messaging';
import { USAGE_REJECTION_STREAM_PREFIX, type UsageRejectedData } from '../domain/usage/usage-rejection.events';
import {
  type UsageAmended,
  USAGE_STREAM_PREFIX,
  type UsageRecordedData,
  type UsageVoided,
} from '../domain/usage/usage.events';

// Metering's integration events (proto/cx/metering/v1/usage.proto): the relay follows the usage streams and
// publishes accepted usage and its corrections on `cx.metering.usage.v1`, keyed by subject so one allocation's
// usage stays in order.

export const USAGE_TOPIC = 'cx.metering.usage.v1';
export const ALLOCATIONS_TOPIC = 'cx.matching.allocations.v1';
/** Integrators produce CloudEvents here (Kafka protocol binding, binary or structured mode). */
export const USAGE_SUBMITTED_TOPIC = 'cx.metering.usage-submitted.v1';
/** Billing's period closes (proto cx.billing.v1.PeriodEvent), keyed by period. */
export const PERIODS_TOPIC = 'cx.billing.periods.v1';

export const meteringTopicSpecs: TopicSpec[] = [
  { name: USAGE_TOPIC, partitions: 8 },
  // Keyed by whatever the integrator chose (the binding's partitionkey, or none); 8 partitions so that two
  // metering processes can share the work.
  { name: USAGE_SUBMITTED_TOPIC, partitions: 8 },
  // Billing owns this topic. Metering declares it too because it subscribes to it and a subscription to an
  // undeclared topic fails at boot; declaring a topic that exists is a no-op on both buses. The layout must be
  // billing's (billingTopicSpecs: one partition), since whichever declaration comes first wins.
  { name: PERIODS_TOPIC, partitions: 1 },
];

const ROLE: Readonly<Record<UsageRecordedData['reporterRole'], WireReporterRole>> = {
  provider: WireReporterRole.PROVIDER,
  buyer: WireReporterRole.BUYER,
  // Offer usage: the contract has no role for "the consuming account"; UNSPECIFIED rather than a wrong one.
  account: WireReporterRole.UNSPECIFIED,
};

const subjectOf = (d: { subject: string; subjectKind: 'allocation' | 'account' }) =>
  d.subjectKind === 'allocation'
    ? ({ case: 'allocationId', value: d.subject } as const)
    : ({ case: 'accountId', value: d.subject } as const);

export const usageRelayRoute: RelayRoute = {
  streamPrefixes: [USAGE_STREAM_PREFIX],
  toMessage: (e: RecordedEvent) => {
    if (e.type === 'UsageRecorded') {
      const d = e.data as UsageRecordedData;
      const ev = createEvent(USAGE_TOPIC, {
        envelope: envelopeFor(e, d.subject, new Date(d.time)),
        event: {
          case: 'usageRecorded',
          value: {
            ref: { source: d.source, id: d.id },
            subject: subjectOf(d),
            ...(d.offerId !== null ? { offerId: d.offerId } : {}),
            meter: d.meter,
            quantity: d.quantity,
            usageTime: timestampFromDate(new Date(d.time)),
            reporterRole: ROLE[d.reporterRole],
            reporterAccountId: d.reporterAccount ?? '',
            late: d.late === true,
          },
        },
      });
      return { topic: USAGE_TOPIC, message: toKafkaRecord(USAGE_TOPIC, ev) };
    }
    if (e.type === 'UsageAmended') {
      const d = e.data as UsageAmended['data'];
      const ev = createEvent(USAGE_TOPIC, {
        envelope: envelopeFor(e, d.subject, new Date(d.correctedAt)),
        event: {
          case: 'usageAmended',
          value: {
            ref: { source: d.source, id: d.id },
            quantity: d.quantity,
            previousQuantity: d.previousQuantity,
            reason: d.reason,
            late: d.late,
          },
        },
      });
      return { topic: USAGE_TOPIC, message: toKafkaRecord(USAGE_TOPIC, ev) };
    }
    if (e.type === 'UsageVoided') {
      const d = e.data as UsageVoided['data'];
      const ev = createEvent(USAGE_TOPIC, {
        envelope: envelopeFor(e, d.subject, new Date(d.correctedAt)),
        event: {
          case: 'usageVoided',
          value: {
            ref: { source: d.source, id: d.id },
            reason: d.reason,
            previousQuantity: d.previousQuantity,
            late: d.late,
          },
        },
      });
      return { topic: USAGE_TOPIC, message: toKafkaRecord(USAGE_TOPIC, ev) };
    }
    return null;
  },
};

/**
 * Refused Kafka submissions, on the same topic as accepted usage (an additive case of UsageEvent, so every
 * consumer of the topic that does not know it skips it). Keyed by the account the record reported for, or by its
 * position on the submissions topic when it named none.
 */
export const usageRejectionRelayRoute: RelayRoute = {
  streamPrefixes: [USAGE_REJECTION_STREAM_PREFIX],
  toMessage: (e: RecordedEvent) => {
    if (e.type !== 'UsageRejected') return null;
    const d = e.data as UsageRejectedData;
    const at = new Date(d.rejectedAt);
    const ev = createEvent(USAGE_TOPIC, {
      envelope: envelopeFor(e, d.account ?? d.position, at),
      event: {
        case: 'usageRejected',
        value: {
          ref: { source: d.source ?? '', id: d.id ?? '' },
          accountId: d.account ?? '',
          code: d.code,
          field: d.field,
          message: d.message,
          ...(d.subject !== null ? { subject: d.subject } : {}),
          rejectedAt: timestampFromDate(at),
          recordPosition: d.position,
        },
      },
    });
    return { topic: USAGE_TOPIC, message: toKafkaRecord(USAGE_TOPIC, ev) };
  },
};

/** The relay routes of metering, for the host's Relay. */
export const meteringRelayRoutes: RelayRoute[] = [usageRelayRoute, usageRejectionRelayRoute];
