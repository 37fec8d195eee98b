import { type DynamicModule, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { GuidanceProjection } from './application/guidance.projection';
import { SurveillanceProjection } from './application/surveillance.read-model';
import {
  loadPricingGuidanceConfig,
  PRICING_GUIDANCE_CONFIG,
  pricingGuidanceConfig,
  type PricingGuidanceConfigInput,
} from './config';
import {
  GuidanceController,
  RegionsController,
  ResourceClassesController,
} from './interface/pricing-guidance.controllers';
import { PricingGuidanceService } from './interface/pricing-guidance.service';
import { AlertsController, IndexController, MarketStatusController } from './interface/surveillance.controllers';
import { SurveillanceService } from './interface/surveillance.service';
import { TradesConsumer } from './infrastructure/trades.consumer';

/**
 * The pricing-guidance service: the resource-class and region catalog, the price bands, and (from the tape) the
 * reference index, surveillance alerts and market halts. Hosted with the other
 * services by the embedded process (apps/exchange) or alone. The host provides EVENT_STORE and CLOCK (globally,
 * e.g. CoreModule) and the AuthGuard. Imported as is, it reads its configuration from the environment
 * (CX_GUIDANCE_*); `forRoot(config)` passes one in instead (tests, other hosts).
 */
@Module({
  controllers: [
    ResourceClassesController,
    RegionsController,
    GuidanceController,
    IndexController,
    AlertsController,
    MarketStatusController,
  ],
  providers: [
    { provide: PRICING_GUIDANCE_CONFIG, useFactory: () => loadPricingGuidanceConfig(process.env) },
    {
      provide: GuidanceProjection,
      useFactory: (store: EventStore) => new GuidanceProjection(store),
      inject: [EVENT_STORE],
    },
    {
      provide: SurveillanceProjection,
      useFactory: (store: EventStore) => new SurveillanceProjection(store),
      inject: [EVENT_STORE],
    },
    PricingGuidanceService,
    SurveillanceService,
    // Heard only where the host provides MESSAGE_BUS (MessagingModule) with `cx.matching.trades.v1` declared.
    TradesConsumer,
  ],
  exports: [PricingGuidanceService, SurveillanceService, GuidanceProjection, PRICING_GUIDANCE_CONFIG],
})
export class PricingGuidanceModule {
  static forRoot(config: PricingGuidanceConfigInput = {}): DynamicModule {
    // Validated here, at boot, exactly as the environment's values are.
    return {
      module: PricingGuidanceModule,
      providers: [{ provide: PRICING_GUIDANCE_CONFIG, useValue: pricingGuidanceConfig(config) }],
    };
  }
}
