import { GuidanceChangeKind, type GuidanceEvent, createEvent, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import { v5 as uuidv5 } from 'uuid';
import type { RecordedEvent } from '@cx/event-store';
import { type RelayMessage, type RelayRoute, type TopicSpec, envelopeFor } from '@cx/messaging';
import { type GuidanceHeartbeatRecorded, HEARTBEAT_STREAM } from '../domain/heartbeat/guidance-heartbeat.events';
import type { PriceBandEvent, PriceBandVersion } from '../domain/price-band/price-band.events';
import { REGION_STREAM_PREFIX, type RegionCreated } from '../domain/catalog/region.events';
import { RESOURCE_CLASS_STREAM_PREFIX, type ResourceClassCreated } from '../domain/catalog/resource-class.events';

// What pricing-guidance publishes on `cx.pricing.guidance.v1`: every band version as it is recorded (before it
// takes effect: the notice rule sees to that) and the heartbeats, all keyed by resource class, so one class's
// changes and heartbeats share a partition and arrive in the order they were recorded.

export const GUIDANCE_TOPIC = 'cx.pricing.guidance.v1';
export const guidanceTopicSpec: TopicSpec = { name: GUIDANCE_TOPIC, partitions: 3, configs: { 'retention.ms': '-1' } };

const KIND: Readonly<Record<PriceBandEvent['type'], GuidanceChangeKind>> = {
  PriceBandIssued: GuidanceChangeKind.ISSUED,
  PriceBandAmended: GuidanceChangeKind.AMENDED,
  PriceBandWithdrawn: GuidanceChangeKind.WITHDRAWN,
};

const money = (amount: string | null, currency: string) => (amount === null ? undefined : { amount, currency });

const bandOf = (v: PriceBandVersion) => ({
  bandId: v.bandId,
  versionId: v.versionId,
  version: BigInt(v.version),
  resourceClass: v.resourceClass,
  ...(v.region !== null ? { region: v.region } : {}),
  floorPerAcceleratorHour: money(v.floorPerAcceleratorHour, v.currency),
  floorPerThousandTokens: money(v.floorPerThousandTokens, v.currency),
  ceilingPerAcceleratorHour: money(v.ceilingPerAcceleratorHour, v.currency),
  referencePrice: money(v.referencePrice, v.currency),
  effectiveFrom: timestampFromDate(new Date(v.effectiveFrom)),
  ...(v.effectiveTo !== null ? { effectiveTo: timestampFromDate(new Date(v.effectiveTo)) } : {}),
  issuedBy: v.issuedBy.keyId ?? '',
  reason: v.reason,
  documentRef: v.documentRef,
  issuerRole: v.issuedBy.role ?? '',
  issuedAt: timestampFromDate(new Date(v.issuedAt)),
});

/** The integration events for a recorded pricing-guidance event (none for catalog or internal events). */
export const toGuidanceEvents = (e: RecordedEvent): GuidanceEvent[] => {
  if (e.type in KIND) {
    const v = e.data as PriceBandVersion;
    return [
      createEvent(GUIDANCE_TOPIC, {
        envelope: envelopeFor(e, v.resourceClass, new Date(v.issuedAt)),
        event: {
          case: 'guidanceChanged',
          value: {
            kind: KIND[e.type as PriceBandEvent['type']],
            band: bandOf(v),
            ...(v.previousVersionId !== null ? { previousVersionId: v.previousVersionId } : {}),
          },
        },
      }),
    ];
  }
  if (e.type === 'GuidanceHeartbeatRecorded') {
    const d = e.data as GuidanceHeartbeatRecorded['data'];
    const at = new Date(d.completeUpTo);
    return d.classes.map((c) =>
      createEvent(GUIDANCE_TOPIC, {
        // One recorded heartbeat becomes one message per class; each needs its own id, or a consumer
        // deduplicating on event ids would keep only the first class's.
        envelope: { ...envelopeFor(e, c.resourceClass, at), eventId: uuidv5(c.resourceClass, e.id) },
        event: {
          case: 'guidanceHeartbeat',
          value: {
            resourceClass: c.resourceClass,
            completeUpTo: timestampFromDate(at),
            ...(c.latestVersionId !== null ? { latestVersionId: c.latestVersionId } : {}),
          },
        },
      }),
    );
  }
  return [];
};

export const guidanceRelayRoute: RelayRoute = {
  streamPrefixes: ['guidance-', HEARTBEAT_STREAM],
  toMessage: (e: RecordedEvent): RelayMessage[] =>
    toGuidanceEvents(e).map((event) => ({ topic: GUIDANCE_TOPIC, message: toKafkaRecord(GUIDANCE_TOPIC, event) })),
};

/**
 * The catalog on the guidance topic: each resource class and region as it is created, keyed by its id, so matching
 * (and anyone else) in another process lists instruments from Kafka. Amendments change descriptions, not listings.
 */
export const catalogRelayRoute: RelayRoute = {
  streamPrefixes: [RESOURCE_CLASS_STREAM_PREFIX, REGION_STREAM_PREFIX],
  toMessage: (e: RecordedEvent): RelayMessage | null => {
    if (e.type === 'ResourceClassCreated') {
      const d = e.data as ResourceClassCreated['data'];
      const event = createEvent(GUIDANCE_TOPIC, {
        envelope: envelopeFor(e, d.resourceClassId, new Date(d.createdAt)),
        event: {
          case: 'resourceClassListed',
          value: {
            resourceClassId: d.resourceClassId,
            vendor: d.vendor,
            model: d.model,
            memoryGib: d.memoryGiB,
            interconnect: d.interconnect,
            units: [...d.units],
          },
        },
      });
      return { topic: GUIDANCE_TOPIC, message: toKafkaRecord(GUIDANCE_TOPIC, event) };
    }
    if (e.type === 'RegionCreated') {
      const d = e.data as RegionCreated['data'];
      const event = createEvent(GUIDANCE_TOPIC, {
        envelope: envelopeFor(e, d.regionId, new Date(d.createdAt)),
        event: { case: 'regionListed', value: { regionId: d.regionId, name: d.name } },
      });
      return { topic: GUIDANCE_TOPIC, message: toKafkaRecord(GUIDANCE_TOPIC, event) };
    }
    return null;
  },
};

/** Halts and resumes (issue 4, surveillance); declared now so that consumers can subscribe before it is fed. */
export const MARKET_STATUS_TOPIC = 'cx.pricing.market-status.v1';
export const marketStatusTopicSpec: TopicSpec = {
  name: MARKET_STATUS_TOPIC,
  partitions: 3,
  configs: { 'retention.ms': '-1' },
};
