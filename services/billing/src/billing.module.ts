import { type DynamicModule, Module } from '@nestjs/common';
import { IdentityModule } from '@cx/identity';
import { BILLING_CONFIG, type BillingConfig, billingConfig, loadBillingConfig } from './config';
import { TradesConsumer } from './infrastructure/trades.consumer';
import { LedgerController } from './interface/ledger.controllers';
import { BillingLedgerService } from './interface/ledger.http.service';

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
  controllers: [LedgerController],
  providers: [
    { provide: BILLING_CONFIG, useFactory: () => loadBillingConfig(process.env) },
    BillingLedgerService,
    TradesConsumer,
  ],
  exports: [BillingLedgerService, BILLING_CONFIG],
})
export class BillingModule {
  static forRoot(config: Partial<BillingConfig> = {}): DynamicModule {
    return {
      module: BillingModule,
      providers: [{ provide: BILLING_CONFIG, useValue: billingConfig(config) }],
    };
  }
}
