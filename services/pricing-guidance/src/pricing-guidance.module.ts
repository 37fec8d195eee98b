import { type DynamicModule, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { GuidanceProjection } from './application/guidance.projection';
import {
  loadPricingGuidanceConfig,
  PRICING_GUIDANCE_CONFIG,
  type PricingGuidanceConfig,
  pricingGuidanceConfig,
} from './config';
import {
  GuidanceController,
  RegionsController,
  ResourceClassesController,
} from './interface/pricing-guidance.controllers';
import { PricingGuidanceService } from './interface/pricing-guidance.service';

/**
 * The pricing-guidance service: the resource-class and region catalog and the price bands. Hosted with the other
 * services by the embedded process (apps/exchange) or alone. The host provides EVENT_STORE and CLOCK (globally,
 * e.g. CoreModule) and the AuthGuard. Imported as is, it reads its configuration from the environment
 * (CX_GUIDANCE_*); `forRoot(config)` passes one in instead (tests, other hosts).
 */
@Module({
  controllers: [ResourceClassesController, RegionsController, GuidanceController],
  providers: [
    { provide: PRICING_GUIDANCE_CONFIG, useFactory: () => loadPricingGuidanceConfig(process.env) },
    {
      provide: GuidanceProjection,
      useFactory: (store: EventStore) => new GuidanceProjection(store),
      inject: [EVENT_STORE],
    },
    PricingGuidanceService,
  ],
  exports: [PricingGuidanceService, GuidanceProjection, PRICING_GUIDANCE_CONFIG],
})
export class PricingGuidanceModule {
  static forRoot(config: Partial<PricingGuidanceConfig> = {}): DynamicModule {
    // Validated here, at boot, exactly as the environment's values are.
    return {
      module: PricingGuidanceModule,
      providers: [{ provide: PRICING_GUIDANCE_CONFIG, useValue: pricingGuidanceConfig(config) }],
    };
  }
}
