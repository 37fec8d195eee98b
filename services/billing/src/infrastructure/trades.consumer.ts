import { Inject, Injectable } from '@nestjs/common';
import { decodeEvent, Side } from '@cx/contracts';
import type { DeliveredMessage } from '@cx/messaging';
import { BillingFactsService } from '../application/billing-facts.service';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { BillingLedgerService } from '../interface/ledger.http.service';
import { causeOf, TRADES_TOPIC } from './billing-integration';

// Trades reach billing as integration events (services never import each other). Each TradeExecuted places a hold
// of the buyer's notional and records which side took liquidity (fees differ for maker and taker). Delivery is at
// least once: the hold's id derives from the trade id (a redelivered trade answers `exists`) and the trade is
// recorded at `no_stream` in its own stream. A refused hold records nothing (logged by the ledger service).

@Injectable()
export class TradesConsumer {
  constructor(
    @Inject(BillingLedgerService) private readonly ledger: BillingLedgerService,
    @Inject(BillingFactsService) private readonly facts: BillingFactsService,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
  ) {}

  async onTrade(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(TRADES_TOPIC, m.value);
    if (event.event.case !== 'tradeExecuted') return;
    const t = event.event.value;
    const meta = causeOf(m, event.envelope);
    await this.facts.recordTrade(
      {
        tradeId: t.tradeId,
        aggressorSide: t.aggressorSide === Side.BID ? 'buy' : t.aggressorSide === Side.ASK ? 'sell' : null,
      },
      meta,
    );
    if (!this.config.tradeHolds) return;
    await this.ledger.holdForTrade(
      {
        tradeId: t.tradeId,
        buyerAccountId: t.buyerAccountId,
        price: t.price?.amount ?? '',
        quantity: t.quantity,
        currency: t.price?.currency ?? '',
      },
      meta,
    );
  }
}
