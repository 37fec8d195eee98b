import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeEvent, timestampMs } from '@cx/contracts';
import { bandVersionFromContract } from '@cx/guidance';
import { type DeliveredMessage, TopicHandler } from '@cx/messaging';
import { MatchingEngine } from '../application/matching.engine';
import { GUIDANCE_TOPIC, MARKET_STATUS_TOPIC } from './matching-integration';

// Guidance and market status reach matching as integration events (DESIGN.md: services never import each
// other), in embedded mode on the in-process bus and in distributed mode on Kafka. Delivery is at least once;
// every effect here is idempotent: a book ignores a band version it has heard of, a heartbeat only ever moves
// the freshness mark forward, and a halt is a state the book is put in (or left in). A handler resolves only
// once its effect is durable in the book streams, so the offset is committed after the effect.

@Injectable()
export class GuidanceConsumer {
  private readonly logger = new Logger('matching.guidance');

  constructor(@Inject(MatchingEngine) private readonly engine: MatchingEngine) {}

  @TopicHandler(GUIDANCE_TOPIC, { group: 'matching' })
  async onGuidance(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(GUIDANCE_TOPIC, m.value);
    const e = event.event;
    if (e.case === 'guidanceHeartbeat') {
      if (e.value.completeUpTo) this.engine.guidanceHeard(e.value.resourceClass, timestampMs(e.value.completeUpTo));
      return;
    }
    // The catalog: each resource class and region is recorded once in matching's own store, then listed.
    if (e.case === 'resourceClassListed') {
      await this.engine.catalogHeard('resource-class', e.value.resourceClassId, event.envelope?.eventId);
      return;
    }
    if (e.case === 'regionListed') {
      await this.engine.catalogHeard('region', e.value.regionId, event.envelope?.eventId);
      return;
    }
    if (e.case !== 'guidanceChanged') return;
    // The one mapping from the contract to a band version (@cx/guidance), the same the audit resolves over.
    const mapped = bandVersionFromContract(e.value);
    if (!mapped.ok) {
      // Not a complete version: never half-applied (a band without its floor would read as "no floor").
      this.logger.warn(`guidance message ${m.topic}/${m.offset} is not a band version (${mapped.problem}); skipped`);
      return;
    }
    const v = mapped.version;
    // Withdrawals too: the book resolves the band in force from every version it heard, and a withdrawal ends
    // the band from its effectiveFrom (there is then no floor, unless the national band applies again).
    await this.engine.applyBand({
      bandId: v.bandId,
      versionId: v.versionId,
      version: v.version,
      kind: v.kind,
      resourceClass: v.resourceClass,
      region: v.region,
      floor: v.floorPerAcceleratorHour,
      ceiling: v.ceilingPerAcceleratorHour,
      effectiveFrom: v.effectiveFrom,
      effectiveTo: v.effectiveTo,
    });
  }

  @TopicHandler(MARKET_STATUS_TOPIC, { group: 'matching' })
  async onMarketStatus(m: DeliveredMessage): Promise<void> {
    const e = decodeEvent(MARKET_STATUS_TOPIC, m.value).event;
    if (e.case === 'marketHalted') {
      const s = e.value.scope;
      await this.engine.setHalt(
        e.value.haltId,
        {
          ...(s?.resourceClass !== undefined ? { resourceClass: s.resourceClass } : {}),
          ...(s?.region !== undefined ? { region: s.region } : {}),
          ...(s?.instrumentId !== undefined ? { instrument: s.instrumentId } : {}),
        },
        e.value.reason,
      );
    } else if (e.case === 'marketResumed') {
      await this.engine.setHalt(e.value.haltId, null, e.value.reason);
    }
  }
}
