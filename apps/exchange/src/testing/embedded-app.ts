import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuditCheckpointer, ChainedEventStore, generateSigningKey } from '@cx/audit';
import { billingConfig, type BillingConfig } from '@cx/billing';
import { type EventStore, openEventStore, positionToString } from '@cx/event-store';
import { IdentityService } from '@cx/identity';
import { matchingConfig, type MatchingConfig } from '@cx/matching';
import { meteringConfig } from '@cx/metering';
import { buildConfig, configureHttpApp, fastifyOptions } from '@cx/platform';
import { pricingGuidanceConfig, type PricingGuidanceConfig } from '@cx/pricing-guidance';
import type { SimulatedClock } from '@cx/shared-kernel';
import { waitFor } from '@cx/testing';
import type { WebhooksConfig } from '@cx/webhooks';
import { createEmbeddedBus } from '../embedded-messaging';
import { ExchangeModule } from '../exchange.module';

// The embedded exchange in the test's own process, on a real SQLite file and real HTTP, with the simulated clock
// the test drives. In-process (not a child) so a test can wait on a service's own view (e.g. billing has heard a
// reading) instead of sleeping.

export interface EmbeddedApp {
  app: NestFastifyApplication;
  store: EventStore;
  url: string;
  clock: SimulatedClock;
  adminKey: string | null;
}

export const DAY_MS = 86_400_000;
/** Guidance lag and notice in these tests: the clock jumps days, so matching never waits for a heartbeat. */
export const LAG_MS = 5 * DAY_MS;

export const startEmbedded = async (
  file: string,
  clock: SimulatedClock,
  overrides: {
    guidance?: Partial<PricingGuidanceConfig>;
    matching?: Partial<MatchingConfig>;
    billing?: Partial<BillingConfig>;
    /** The webhooks module's settings (tests deliver to a receiver on loopback: allowPrivate and allowHttp). */
    webhooks?: Partial<WebhooksConfig>;
    auditCheckpointMs?: number;
    /** Serve the built web console from this folder at / (the console's end-to-end test). */
    console?: { root: string };
    /** Listen on this port (default: any free one). */
    port?: number;
  } = {},
): Promise<EmbeddedApp> => {
  const store = new ChainedEventStore(await openEventStore(`sqlite:${file}`));
  const key = generateSigningKey();
  const intervalMs = overrides.auditCheckpointMs ?? 3_600_000;
  const checkpointer = new AuditCheckpointer({ store, node: 'test', key, intervalMs });
  const bus = await createEmbeddedBus();
  const app = await NestFactory.create<NestFastifyApplication>(
    ExchangeModule.forRoot({
      config: buildConfig({ clock: 'simulated' }),
      store,
      clock,
      guidance: pricingGuidanceConfig({ minNoticeMs: LAG_MS, maxPropagationLagMs: LAG_MS, ...overrides.guidance }),
      matching: matchingConfig({ maxGuidanceLagMs: LAG_MS, listingDays: 3, ...overrides.matching }),
      metering: meteringConfig({}),
      billing: billingConfig({ periodGraceMs: 0, ...overrides.billing }),
      ...(overrides.webhooks !== undefined ? { webhooks: overrides.webhooks } : {}),
      bus,
      audit: { key, checkpointer },
    }),
    new FastifyAdapter(fastifyOptions({ bodyLimit: 1024 * 1024 })),
    { logger: false },
  );
  await configureHttpApp(app, overrides.console === undefined ? {} : { console: overrides.console });
  const identity = app.get(IdentityService);
  await identity.ready();
  const adminKey = await identity.ensureAdminKey();
  await app.listen(overrides.port ?? 0, '127.0.0.1');
  return { app, store, url: await app.getUrl(), clock, adminKey };
};

/** The store's head position as text ('' before the first event): equal heads mean nothing was written between. */
export const storeHead = async (app: EmbeddedApp): Promise<string> => {
  const head = await app.store.headPosition();
  return head === null ? '' : positionToString(head);
};

/**
 * Waits until start-up writes have settled (the catalog heard on the bus, books opened): the head stays put for
 * five polls in a row. From then on the head moves only on a write, so a test can prove a refusal wrote nothing.
 */
export const startUpSettled = async (app: EmbeddedApp, opts: { intervalMs?: number; timeoutMs?: number } = {}) => {
  let last: string | null = null;
  let still = 0;
  await waitFor(
    async () => {
      const now = await storeHead(app);
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 5;
    },
    { intervalMs: opts.intervalMs ?? 100, timeoutMs: opts.timeoutMs ?? 60_000, what: 'start-up writes to settle' },
  );
};
