import { Inject, Injectable, Logger } from '@nestjs/common';
import { GuidanceChangeKind, decodeEvent, timestampDate, timestampMs } from '@cx/contracts';
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
    if (e.case !== 'guidanceChanged') return;
    const band = e.value.band;
    if (!band?.floorPerAcceleratorHour || !band.effectiveFrom) {
      this.logger.warn(`guidance message ${m.topic}/${m.offset} has no complete band; skipped`);
      return;
    }
    if (e.value.kind === GuidanceChangeKind.WITHDRAWN) {
      // The core schedules bands but cannot end one early (ApplyBand needs effectiveTo after effectiveFrom, and a
      // withdrawal is in force nowhere). Until it can, the last band stays in force: stricter, never looser.
      this.logger.warn(`band ${band.bandId} withdrawn (${band.versionId}); matching keeps its last band in force`);
      return;
    }
    await this.engine.applyBand({
      bandId: band.bandId,
      versionId: band.versionId,
      resourceClass: band.resourceClass,
      region: band.region ?? null,
      floor: band.floorPerAcceleratorHour.amount,
      ceiling: band.ceilingPerAcceleratorHour?.amount ?? null,
      effectiveFrom: timestampDate(band.effectiveFrom).toISOString(),
      effectiveTo: band.effectiveTo ? timestampDate(band.effectiveTo).toISOString() : null,
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
