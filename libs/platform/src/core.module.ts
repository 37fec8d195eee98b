import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import type { CxConfig } from './config';
import { HealthController } from './health.controller';
import { SimClockController } from './sim-clock.controller';

export const CX_CONFIG = 'cx.Config';

/**
 * The ports every module needs (event store, clock, config), opened once by the host process and shared.
 * The host owns their lifetime: the store is closed when the app shuts down.
 */
@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  static forRoot(deps: { config: CxConfig; store: EventStore; clock: Clock }): DynamicModule {
    return {
      module: CoreModule,
      controllers: deps.config.clock === 'simulated' ? [HealthController, SimClockController] : [HealthController],
      providers: [
        { provide: CX_CONFIG, useValue: deps.config },
        { provide: EVENT_STORE, useValue: deps.store },
        { provide: CLOCK, useValue: deps.clock },
      ],
      exports: [CX_CONFIG, EVENT_STORE, CLOCK],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
