import { Inject, Injectable } from '@nestjs/common';
import { decodeEvent, timestampDate } from '@cx/contracts';
import { type DeliveredMessage, TopicHandler } from '@cx/messaging';
import { MeteringService } from '../interface/metering.service';
import { ALLOCATIONS_TOPIC } from './metering-integration';

// Allocations reach metering as integration events (services never import each other): they say whose usage
// may be published for which allocation. Delivery is at least once; recording is idempotent (one stream per
// allocation, appended at `no_stream`), and the handler resolves only once the projection has it, so usage
// posted after the offset was committed finds its allocation.

@Injectable()
export class AllocationsConsumer {
  constructor(@Inject(MeteringService) private readonly metering: MeteringService) {}

  @TopicHandler(ALLOCATIONS_TOPIC, { group: 'metering' })
  async onAllocation(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(ALLOCATIONS_TOPIC, m.value);
    if (event.event.case !== 'allocationCreated') return;
    const a = event.event.value;
    await this.metering.recordAllocation(
      {
        allocationId: a.allocationId,
        providerAccount: a.providerAccountId,
        buyerAccount: a.buyerAccountId,
        instrument: a.instrumentId,
        deliveryStart: a.deliveryStart ? timestampDate(a.deliveryStart).toISOString() : null,
        deliveryEnd: a.deliveryEnd ? timestampDate(a.deliveryEnd).toISOString() : null,
      },
      {
        eventId: event.envelope?.eventId || `${m.topic}/${m.partition}/${m.offset}`,
        correlationId: event.envelope?.correlationId || `${m.topic}/${m.partition}/${m.offset}`,
      },
    );
  }
}
