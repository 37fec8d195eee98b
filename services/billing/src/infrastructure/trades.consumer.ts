import { Inject, Injectable } from '@nestjs/common';
import { decodeEvent } from '@cx/contracts';
import { type DeliveredMessage, TopicHandler } from '@cx/messaging';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { BillingLedgerService } from '../interface/ledger.http.service';
import { BILLING_GROUP, TRADES_TOPIC } from './billing-integration';

// Trades reach billing as integration events (services never import each other). Each TradeExecuted places a hold
// of the buyer's notional; delivery is at least once and the hold's id derives from the trade id, so a redelivered
// trade answers `exists` and is counted once. A refused hold records nothing (logged by the ledger service).

@Injectable()
export class TradesConsumer {
  constructor(
    @Inject(BillingLedgerService) private readonly ledger: BillingLedgerService,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
  ) {}

  @TopicHandler(TRADES_TOPIC, { group: BILLING_GROUP })
  async onTrade(m: DeliveredMessage): Promise<void> {
    if (!this.config.tradeHolds) return;
    const event = decodeEvent(TRADES_TOPIC, m.value);
    if (event.event.case !== 'tradeExecuted') return;
    const t = event.event.value;
    const fallback = `${m.topic}/${m.partition}/${m.offset}`;
    await this.ledger.holdForTrade(
      {
        tradeId: t.tradeId,
        buyerAccountId: t.buyerAccountId,
        price: t.price?.amount ?? '',
        quantity: t.quantity,
        currency: t.price?.currency ?? '',
      },
      {
        correlationId: event.envelope?.correlationId || fallback,
        causationId: event.envelope?.eventId || fallback,
      },
    );
  }
}
