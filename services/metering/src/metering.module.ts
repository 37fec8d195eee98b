import { type DynamicModule, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { MeteringProjection } from './application/metering.projection';
import { loadMeteringConfig, METERING_CONFIG, type MeteringConfig, meteringConfig } from './config';
import { AllocationsConsumer } from './infrastructure/allocations.consumer';
import { PeriodsConsumer } from './infrastructure/periods.consumer';
import { CloudEventsContentTypes } from './interface/cloudevents-content-types';
import { MetersController, UsageController } from './interface/metering.controllers';
import { MeteringService } from './interface/metering.service';
import { UsageSubmissionsConsumer } from './interface/usage-submissions.consumer';

/**
 * The metering service: meters, usage ingestion (exactly once per CloudEvent `(source, id)`) and usage
 * aggregates. Hosted with the other services by the embedded process (apps/exchange) or alone. The host provides
 * EVENT_STORE and CLOCK (globally), the AuthGuard, and MESSAGE_BUS (MessagingModule) with the topics it
 * consumes declared: `cx.matching.allocations.v1` (allocations), `cx.billing.periods.v1` (period closes) and,
 * unless `kafkaIngest` is off, the submissions topic (`meteringTopicSpecs` has the last two). It registers the CloudEvents content
 * types on Fastify itself. Imported as is, it reads its configuration from the environment (CX_METERING_*);
 * `forRoot(config)` passes one in instead.
 */
@Module({
  controllers: [MetersController, UsageController],
  providers: [
    { provide: METERING_CONFIG, useFactory: () => loadMeteringConfig(process.env) },
    {
      provide: MeteringProjection,
      useFactory: (store: EventStore) => new MeteringProjection(store),
      inject: [EVENT_STORE],
    },
    MeteringService,
    AllocationsConsumer,
    PeriodsConsumer,
    UsageSubmissionsConsumer,
    CloudEventsContentTypes,
  ],
  exports: [MeteringService, MeteringProjection, METERING_CONFIG],
})
export class MeteringModule {
  static forRoot(config: Partial<MeteringConfig> = {}): DynamicModule {
    // Validated here, at boot, exactly as the environment's values are.
    return {
      module: MeteringModule,
      providers: [{ provide: METERING_CONFIG, useValue: meteringConfig(config) }],
    };
  }
}
