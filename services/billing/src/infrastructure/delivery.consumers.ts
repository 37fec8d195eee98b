import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeEvent, ReporterRole, timestampDate } from '@cx/contracts';
import type { DeliveredMessage } from '@cx/messaging';
import { BillingFactsService } from '../application/billing-facts.service';
import { ALLOCATIONS_TOPIC, causeOf, USAGE_TOPIC } from './billing-integration';

// Allocations (from matching) and delivery readings (from metering) reach billing as integration events. Each is
// recorded once in the allocation's billing stream (usage of an offer: in the offer usage of its day), deciding
// against what that stream already holds, so a redelivered or replayed message changes nothing.

const keyOf = (ref: { source: string; id: string } | undefined): string | null =>
  ref === undefined || ref.source === '' || ref.id === '' ? null : `${ref.source}/${ref.id}`;

@Injectable()
export class DeliveryConsumers {
  private readonly logger = new Logger('billing.delivery');

  constructor(@Inject(BillingFactsService) private readonly facts: BillingFactsService) {}

  async onAllocation(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(ALLOCATIONS_TOPIC, m.value);
    if (event.event.case !== 'allocationCreated') return;
    const a = event.event.value;
    if (!a.price || !a.deliveryStart || !a.deliveryEnd) {
      this.logger.warn(`allocation ${a.allocationId} has no price or delivery window; not billable, skipped`);
      return;
    }
    await this.facts.recordAllocation(
      {
        allocationId: a.allocationId,
        tradeId: a.tradeId,
        instrumentId: a.instrumentId,
        resourceClass: a.resourceClass,
        region: a.region,
        providerAccount: a.providerAccountId,
        buyerAccount: a.buyerAccountId,
        quantity: a.quantity,
        price: a.price.amount,
        currency: a.price.currency,
        deliveryStart: timestampDate(a.deliveryStart).toISOString(),
        deliveryEnd: timestampDate(a.deliveryEnd).toISOString(),
        guidanceVersion: a.guidanceVersionId ?? null,
      },
      causeOf(m, event.envelope),
    );
  }

  async onUsage(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(USAGE_TOPIC, m.value);
    const meta = causeOf(m, event.envelope);
    const e = event.event;
    if (e.case === 'usageRecorded') {
      const u = e.value;
      const key = keyOf(u.ref);
      if (u.subject.case === 'accountId') {
        // Usage of an on-demand offer: rated by the offer's card at the close of its day.
        if (key === null || u.offerId === undefined || !u.usageTime) return;
        await this.facts.recordOfferReading(
          u.offerId,
          u.subject.value,
          {
            key,
            role: 'buyer',
            meter: u.meter,
            quantity: u.quantity,
            usageTime: timestampDate(u.usageTime).toISOString(),
            late: lateOf(u),
          },
          meta,
        );
        return;
      }
      if (u.subject.case !== 'allocationId') return;
      const role =
        u.reporterRole === ReporterRole.PROVIDER ? 'provider' : u.reporterRole === ReporterRole.BUYER ? 'buyer' : null;
      if (key === null || role === null || !u.usageTime) {
        this.logger.warn(`usage ${m.topic}/${m.offset} lacks its ref, reporter role or time; skipped`);
        return;
      }
      const outcome = await this.facts.recordReading(
        u.subject.value,
        {
          key,
          role,
          meter: u.meter,
          quantity: u.quantity,
          usageTime: timestampDate(u.usageTime).toISOString(),
          late: lateOf(u),
        },
        meta,
      );
      if (outcome === 'conflict') this.logger.warn(`usage ${key}: a second body under one id; the first is kept`);
    } else if (e.case === 'usageAmended' || e.case === 'usageVoided') {
      // Corrections name the usage, not its allocation: find the allocation that holds the reading.
      const key = keyOf(e.value.ref);
      if (key === null) return;
      const stream = this.facts.streamOfReading(key);
      // A correction of usage billing never heard has nothing to correct.
      if (stream === null) return;
      if (e.case === 'usageAmended') {
        await this.facts.amendReading(
          stream,
          { key, quantity: e.value.quantity, previousQuantity: e.value.previousQuantity },
          meta,
        );
      } else {
        await this.facts.voidReading(stream, { key }, meta);
      }
    }
  }
}

/** The `late` flag metering sets on usage whose period had closed (absent from older producers: not late). */
const lateOf = (u: object): boolean => (u as { late?: boolean }).late === true;
