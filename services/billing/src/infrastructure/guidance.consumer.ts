import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeEvent } from '@cx/contracts';
import { bandVersionFromContract } from '@cx/guidance';
import type { DeliveredMessage } from '@cx/messaging';
import { GuidanceView } from '../application/guidance-view';
import { GUIDANCE_TOPIC } from './billing-integration';

// Guidance reaches billing as integration events (services never import each other): every band version, issued,
// amended or withdrawn, is recorded once in billing's guidance view, which listing and offer rating resolve the
// band in force from. Delivery is at least once; the view records a version once however often it is heard, and
// the handler resolves only when the version is durable, so the offset is committed after the effect. Heartbeats
// carry no band and are not needed here: billing does not refuse on stale guidance (matching does).

@Injectable()
export class GuidanceConsumer {
  private readonly logger = new Logger('billing.guidance');

  constructor(@Inject(GuidanceView) private readonly view: GuidanceView) {}

  async onGuidance(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(GUIDANCE_TOPIC, m.value);
    if (event.event.case !== 'guidanceChanged') return;
    const mapped = bandVersionFromContract(event.event.value);
    if (!mapped.ok) {
      // A message that can never become a complete version: retrying will not change it.
      this.logger.warn(`guidance message ${m.topic}/${m.partition}/${m.offset} skipped: ${mapped.problem}`);
      return;
    }
    const fallback = `${m.topic}/${m.partition}/${m.offset}`;
    await this.view.record(mapped.version, {
      correlationId: event.envelope?.correlationId || fallback,
      causationId: event.envelope?.eventId || fallback,
      actor: { service: 'billing' },
    });
  }
}
