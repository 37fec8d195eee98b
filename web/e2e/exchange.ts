import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuditCheckpointer, ChainedEventStore, generateSigningKey } from '@cx/audit';
import { billingConfig } from '@cx/billing';
import { openEventStore } from '@cx/event-store';
import { IdentityService } from '@cx/identity';
import { matchingConfig } from '@cx/matching';
import { meteringConfig } from '@cx/metering';
import { buildConfig, configureHttpApp, fastifyOptions } from '@cx/platform';
import { PricingGuidanceService, pricingGuidanceConfig } from '@cx/pricing-guidance';
import { SimulatedClock } from '@cx/shared-kernel';
import { createEmbeddedBus } from '../../apps/exchange/src/embedded-messaging';
import { ExchangeModule } from '../../apps/exchange/src/exchange.module';

// The embedded exchange as `npm start` runs it (every module, hash-chained store, the console served at /), in
// the test's own process on a real SQLite file and real HTTP, on a simulated clock the test moves. Like
// apps/exchange/src/testing/embedded-app.ts, plus the console option of configureHttpApp.

export const DAY_MS = 86_400_000;
/** Guidance notice and lag: the clock jumps days, and a heartbeat after each jump keeps matching fresh. */
export const LAG_MS = 5 * DAY_MS;

export interface ConsoleExchange {
  app: NestFastifyApplication;
  url: string;
  clock: SimulatedClock;
  adminKey: string;
  /** Moves the simulated clock and records a guidance heartbeat at the new instant. */
  moveTo(iso: string): Promise<void>;
}

export const startConsoleExchange = async (
  file: string,
  consoleRoot: string,
  t0: Date,
  opts: { port?: number } = {},
): Promise<ConsoleExchange> => {
  const clock = new SimulatedClock(t0);
  const store = new ChainedEventStore(await openEventStore(`sqlite:${file}`));
  const key = generateSigningKey();
  const checkpointer = new AuditCheckpointer({ store, node: 'console-e2e', key, intervalMs: 3_600_000 });
  const bus = await createEmbeddedBus();
  const app = await NestFactory.create<NestFastifyApplication>(
    ExchangeModule.forRoot({
      config: buildConfig({ clock: 'simulated' }),
      store,
      clock,
      guidance: pricingGuidanceConfig({ minNoticeMs: LAG_MS, maxPropagationLagMs: LAG_MS }),
      matching: matchingConfig({ maxGuidanceLagMs: LAG_MS, listingDays: 3 }),
      metering: meteringConfig({}),
      billing: billingConfig({ periodGraceMs: 0 }),
      bus,
      audit: { key, checkpointer },
    }),
    new FastifyAdapter(fastifyOptions({ bodyLimit: 1024 * 1024 })),
    { logger: false },
  );
  await configureHttpApp(app, { console: { root: consoleRoot } });
  const identity = app.get(IdentityService);
  await identity.ready();
  const adminKey = await identity.ensureAdminKey();
  if (adminKey === null) throw new Error('a fresh store must create the first admin key');
  await app.listen(opts.port ?? 0, '127.0.0.1');
  const guidance = app.get(PricingGuidanceService);
  return {
    app,
    url: await app.getUrl(),
    clock,
    adminKey,
    moveTo: async (iso) => {
      clock.set(new Date(iso));
      await guidance.heartbeat();
    },
  };
};
