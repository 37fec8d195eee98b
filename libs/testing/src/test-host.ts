import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from '@cx/auth';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { CLOCK, type Clock } from '@cx/shared-kernel';

/**
 * What a host process gives the modules it hosts, as apps/exchange does it: the store and the clock, globally,
 * and the auth guard. Integration tests host the modules under test with it and add what else they need.
 */
export const testHost = (store: EventStore, clock: Clock, imports: (Type | DynamicModule)[]): DynamicModule => {
  @Module({})
  class TestPorts {}
  @Module({})
  class TestHost {}
  return {
    module: TestHost,
    imports: [
      {
        module: TestPorts,
        global: true,
        providers: [
          { provide: EVENT_STORE, useValue: store },
          { provide: CLOCK, useValue: clock },
        ],
        exports: [EVENT_STORE, CLOCK],
      },
      ...imports,
    ],
    providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
  };
};
