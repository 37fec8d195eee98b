import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from '@cx/auth';
import { IdentityModule } from '@cx/identity';
import { CoreModule } from '@cx/platform';
import { BillingModule } from '@cx/billing';
import { MatchingModule } from '@cx/matching';
import { MeteringModule } from '@cx/metering';
import { type PricingGuidanceConfig, PricingGuidanceModule } from '@cx/pricing-guidance';
import type { Clock } from '@cx/shared-kernel';
import type { EventStore } from '@cx/event-store';
import type { CxConfig } from '@cx/platform';

/** Embedded mode: one process hosts identity and all four services over one store and an in-process bus. */
@Module({})
export class ExchangeModule {
  static forRoot(deps: {
    config: CxConfig;
    store: EventStore;
    clock: Clock;
    guidance: PricingGuidanceConfig;
  }): DynamicModule {
    return {
      module: ExchangeModule,
      imports: [
        CoreModule.forRoot(deps),
        IdentityModule,
        PricingGuidanceModule,
        MatchingModule,
        MeteringModule,
        BillingModule,
      ],
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
    };
  }
}
