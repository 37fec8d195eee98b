import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { IdentityModule, IdentityProjection } from '@cx/identity';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import { MatchingEngine } from './application/matching.engine';
import { MATCHING_CONFIG, type MatchingConfig, loadMatchingConfig, matchingConfig } from './config';
import type { AccountLimits } from './domain/order-book/order-book.decider';
import { GuidanceConsumer } from './infrastructure/guidance.consumer';
import { MarketController, OrdersController } from './interface/matching.controllers';
import { MatchingService } from './interface/matching.service';

// Identity keeps limits as decimal strings; the core counts lots as integers. A limit that is not a whole number
// of lots cannot be honoured exactly, so it is read as its whole part (stricter, never looser).
const limitsFrom =
  (projection: IdentityProjection) =>
  (account: string): AccountLimits | null => {
    const a = projection.model.account(account);
    if (a === undefined) return null;
    const lots = a.orderLimits.maxOpenQuantityLots;
    return {
      maxOpenQuantityLots: lots === null ? null : Math.floor(Number(lots)),
      maxOpenNotional: a.orderLimits.maxOpenNotional,
    };
  };

/**
 * The matching service: instruments, order books, trades and allocations. The host provides EVENT_STORE and
 * CLOCK (globally, e.g. CoreModule), MESSAGE_BUS (MessagingModule, with `cx.pricing.guidance.v1` and
 * `cx.pricing.market-status.v1` declared) and the AuthGuard. Imported as is, it reads CX_MATCHING_* from the
 * environment; `forRoot(config)` passes a configuration in instead (tests, other hosts).
 */
@Module({
  imports: [IdentityModule],
  controllers: [OrdersController, MarketController],
  providers: [
    { provide: MATCHING_CONFIG, useFactory: () => loadMatchingConfig(process.env) },
    {
      provide: MatchingEngine,
      useFactory: (store: EventStore, clock: Clock, config: MatchingConfig, identity: IdentityProjection) => {
        const logger = new Logger('matching');
        return new MatchingEngine({
          store,
          clock,
          config,
          limitsOf: limitsFrom(identity),
          onError: (message, e) =>
            logger.error(`${message}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
        });
      },
      inject: [EVENT_STORE, CLOCK, MATCHING_CONFIG, IdentityProjection],
    },
    MatchingService,
    GuidanceConsumer,
  ],
  exports: [MatchingService, MatchingEngine, MATCHING_CONFIG],
})
export class MatchingModule {
  static forRoot(config: Partial<MatchingConfig> = {}): DynamicModule {
    // Validated here, at boot, exactly as the environment's values are.
    return { module: MatchingModule, providers: [{ provide: MATCHING_CONFIG, useValue: matchingConfig(config) }] };
  }
}
