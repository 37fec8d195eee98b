import { type DynamicModule, Module } from '@nestjs/common';
import { IdentityModule } from '@cx/identity';
import { BILLING_CONFIG, type BillingConfig, billingConfig, loadBillingConfig } from './config';
import { BillingFactsService } from './application/billing-facts.service';
import { PeriodCloseService, REFERENCE_PRICES, type ReferencePrices } from './application/period-close.service';
import { StatementsService } from './application/statements.service';
import { CorrectionsService } from './application/corrections.service';
import { CorrectionsController } from './interface/corrections.controllers';
import { DeliveryConsumers } from './infrastructure/delivery.consumers';
import { TradesConsumer } from './infrastructure/trades.consumer';
import { LedgerController } from './interface/ledger.controllers';
import { BillingLedgerService } from './interface/ledger.http.service';
import { StatementsController } from './interface/statements.controllers';
import { StatementsHttpService } from './interface/statements.http.service';
import { GuidanceView } from './application/guidance-view';
import { OFFERS_CONTROLLERS, OFFERS_EXPORTS, OFFERS_PROVIDERS } from './interface/offers.providers';

/**
 * The billing service; for now its settlement ledger: deposits, withdrawals, balances, and holds for trades.
 * Hosted with the other services by the embedded process (apps/exchange). The host provides EVENT_STORE and CLOCK
 * (globally), the AuthGuard, and MESSAGE_BUS (MessagingModule) with the topic `cx.matching.trades.v1` declared,
 * on which it hears trades (group `billing`). Credit lines come from the identity projection (IdentityModule, a
 * lib, imported here), so this module runs embedded only until billing keeps its own projection of
 * `cx.identity.v1`. Imported as is, it reads CX_BILLING_*; `forRoot(config)` passes a configuration in instead.
 */
@Module({
  imports: [IdentityModule],
  controllers: [LedgerController, StatementsController, CorrectionsController, ...OFFERS_CONTROLLERS],
  providers: [
    { provide: BILLING_CONFIG, useFactory: () => loadBillingConfig(process.env) },
    ...OFFERS_PROVIDERS,
    {
      // Overage is rated at the reference price of the band in force at delivery, as billing heard the guidance.
      provide: REFERENCE_PRICES,
      inject: [GuidanceView],
      useFactory: (view: GuidanceView): ReferencePrices => ({
        referenceAt: (resourceClass, region, at) => {
          const band = view.bandAt(resourceClass, region, at);
          return band?.referencePrice ? { price: band.referencePrice, version: band.versionId } : null;
        },
      }),
    },
    BillingLedgerService,
    BillingFactsService,
    StatementsService,
    PeriodCloseService,
    StatementsHttpService,
    CorrectionsService,
    TradesConsumer,
    DeliveryConsumers,
  ],
  exports: [
    BillingLedgerService,
    BillingFactsService,
    PeriodCloseService,
    StatementsService,
    BILLING_CONFIG,
    ...OFFERS_EXPORTS,
  ],
})
export class BillingModule {
  static forRoot(config: Partial<BillingConfig> = {}): DynamicModule {
    return {
      module: BillingModule,
      providers: [{ provide: BILLING_CONFIG, useValue: billingConfig(config) }],
    };
  }
}
