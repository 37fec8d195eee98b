import {
  DynamicModule,
  Global,
  Inject,
  Module,
  OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { MESSAGE_BUS, type MessageBus, telemetryOf } from '@cx/messaging';
import type { CxConfig } from './config';
import { installCorrelation } from './correlation';
import { HealthController } from './health.controller';
import { MeteredEventStore, Metrics, METRICS, MetricsController } from './metrics';
import { SimClockController } from './sim-clock.controller';

export const CX_CONFIG = 'cx.Config';

/**
 * The ports every module needs (event store, clock, config), opened once by the host process and shared.
 * The host owns their lifetime: the store is closed when the app shuts down.
 */
@Global()
@Module({})
export class CoreModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(METRICS) private readonly metrics: Metrics,
    private readonly http: HttpAdapterHost,
    @Optional() @Inject(MESSAGE_BUS) private readonly bus?: MessageBus,
  ) {}

  /**
   * Times every HTTP request and gives it a correlation id (before the server starts listening, when Fastify
   * still takes hooks), and adds the host's bus (if it has one) to /metrics.
   */
  onModuleInit(): void {
    const adapter = this.http.httpAdapter as { getInstance?: () => unknown } | undefined;
    const instance = adapter?.getInstance?.() as FastifyInstance | undefined;
    if (instance?.addHook !== undefined) {
      installCorrelation(instance);
      this.metrics.instrument(instance);
    }
    const telemetry = telemetryOf(this.bus);
    if (telemetry !== undefined) this.metrics.observeBus(telemetry);
  }

  static forRoot(deps: { config: CxConfig; store: EventStore; clock: Clock; metrics?: Metrics }): DynamicModule {
    const metrics = deps.metrics ?? new Metrics();
    const controllers = [HealthController, MetricsController];
    return {
      module: CoreModule,
      controllers: deps.config.clock === 'simulated' ? [...controllers, SimClockController] : controllers,
      providers: [
        { provide: CX_CONFIG, useValue: deps.config },
        // Every module appends through the metered store, so /metrics counts every event by type.
        { provide: EVENT_STORE, useValue: new MeteredEventStore(deps.store, metrics) },
        { provide: CLOCK, useValue: deps.clock },
        { provide: METRICS, useValue: metrics },
      ],
      exports: [CX_CONFIG, EVENT_STORE, CLOCK, METRICS],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
