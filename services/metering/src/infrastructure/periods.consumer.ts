import { Inject, Injectable } from '@nestjs/common';
import { decodeEvent, timestampMs } from '@cx/contracts';
import { type DeliveredMessage, TopicHandler } from '@cx/messaging';
import { closedPeriodOf } from '../domain/period/closed-periods';
import { MeteringService } from '../interface/metering.service';
import { PERIODS_TOPIC } from './metering-integration';

// Billing publishes a period's close after its grace period. Metering keeps the closed periods so that usage that
// arrives for one is still accepted but marked late (billing books it in the next open period). Delivery is at
// least once; recording is idempotent (one stream per period, appended at `no_stream`), and the handler resolves
// only once the projection has it, so usage accepted after the offset was committed is judged against it.

export class MalformedPeriodClose extends Error {
  // Trying again cannot fix the message: it goes to the dead-letter topic.
  readonly retriable = false;
}

@Injectable()
export class PeriodsConsumer {
  constructor(@Inject(MeteringService) private readonly metering: MeteringService) {}

  @TopicHandler(PERIODS_TOPIC, { group: 'metering' })
  async onPeriod(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(PERIODS_TOPIC, m.value);
    if (event.event.case !== 'periodClosed') return;
    const p = event.event.value;
    const closed = closedPeriodOf(p.period, p.start ? timestampMs(p.start) : null, p.end ? timestampMs(p.end) : null);
    if ('error' in closed) throw new MalformedPeriodClose(closed.error);
    const where = `${m.topic}/${m.partition}/${m.offset}`;
    await this.metering.recordPeriodClosed(closed.ok, {
      eventId: event.envelope?.eventId || where,
      correlationId: event.envelope?.correlationId || where,
    });
  }
}
