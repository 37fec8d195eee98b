import { createEvent, ReporterRole as WireReporterRole, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import type { RecordedEvent } from '@cx/event-store';
import { envelopeFor, type RelayRoute, type TopicSpec } from '@cx/messaging';
import { USAGE_STREAM_PREFIX, type UsageRecordedData } from '../domain/usage/usage.events';

// Metering's integration events (proto/cx/metering/v1/usage.proto): the relay follows the usage streams and
// publishes accepted usage on `cx.metering.usage.v1`, keyed by subject so one allocation's usage stays in order.

export const USAGE_TOPIC = 'cx.metering.usage.v1';
export const ALLOCATIONS_TOPIC = 'cx.matching.allocations.v1';

export const meteringTopicSpecs: TopicSpec[] = [{ name: USAGE_TOPIC, partitions: 8 }];

const ROLE: Readonly<Record<UsageRecordedData['reporterRole'], WireReporterRole>> = {
  provider: WireReporterRole.PROVIDER,
  buyer: WireReporterRole.BUYER,
  // Offer usage: the contract has no role for "the consuming account"; UNSPECIFIED rather than a wrong one.
  account: WireReporterRole.UNSPECIFIED,
};

export const usageRelayRoute: RelayRoute = {
  streamPrefixes: [USAGE_STREAM_PREFIX],
  toMessage: (e: RecordedEvent) => {
    if (e.type !== 'UsageRecorded') return null;
    const d = e.data as UsageRecordedData;
    const ev = createEvent(USAGE_TOPIC, {
      envelope: envelopeFor(e, d.subject, new Date(d.time)),
      event: {
        case: 'usageRecorded',
        value: {
          ref: { source: d.source, id: d.id },
          subject:
            d.subjectKind === 'allocation'
              ? { case: 'allocationId', value: d.subject }
              : { case: 'accountId', value: d.subject },
          ...(d.offerId !== null ? { offerId: d.offerId } : {}),
          meter: d.meter,
          quantity: d.quantity,
          usageTime: timestampFromDate(new Date(d.time)),
          reporterRole: ROLE[d.reporterRole],
          reporterAccountId: d.reporterAccount ?? '',
        },
      },
    });
    return { topic: USAGE_TOPIC, message: toKafkaRecord(USAGE_TOPIC, ev) };
  },
};

/** The relay routes of metering, for the host's Relay. */
export const meteringRelayRoutes: RelayRoute[] = [usageRelayRoute];
