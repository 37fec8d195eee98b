import 'reflect-metadata';
import { dirname, join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuditCheckpointer, ChainedEventStore, loadOrCreateSigningKey } from '@cx/audit';
import { openEventStore } from '@cx/event-store';
import { IdentityService } from '@cx/identity';
import { loadBillingConfig } from '@cx/billing';
import { loadMatchingConfig } from '@cx/matching';
import { loadMeteringConfig } from '@cx/metering';
import { loadPricingGuidanceConfig } from '@cx/pricing-guidance';
import { loadWebhooksConfig } from '@cx/webhooks';
import {
  ConfigError,
  configureHttpApp,
  createLogger,
  exitOnSignals,
  fastifyOptions,
  loadConfig,
  PinoNestLogger,
} from '@cx/platform';
import { SimulatedClock, systemClock } from '@cx/shared-kernel';
import { createEmbeddedBus } from './embedded-messaging';
import { ExchangeModule } from './exchange.module';

// `npm start`: the whole exchange in one process (embedded mode), data in ./data/cx.sqlite unless CX_STORE says.
async function main(): Promise<void> {
  const config = loadConfig();
  const guidance = loadPricingGuidanceConfig();
  const matching = loadMatchingConfig();
  const metering = loadMeteringConfig();
  const billing = loadBillingConfig();
  const webhooks = loadWebhooksConfig(process.env, dirname(config.auditKeyPath));
  const logger = createLogger(config.logLevel, 'cx-exchange');
  const clock = config.clock === 'simulated' ? new SimulatedClock(config.simStart ?? new Date()) : systemClock;
  if (config.clock === 'simulated') logger.warn('CX_CLOCK=simulated: time moves only through POST /v1/sim/clock');
  // Every append of every module goes through the hash-chain decorator: no writer can forget it.
  const store = new ChainedEventStore(await openEventStore(config.store));
  const auditKey = loadOrCreateSigningKey(config.auditKeyPath);
  const checkpointer = new AuditCheckpointer({
    store,
    node: config.node,
    key: auditKey,
    intervalMs: config.auditCheckpointMs,
    onError: (e) => logger.warn({ err: e }, 'audit checkpoint failed; the next one retries'),
  });
  const bus = await createEmbeddedBus();

  const app = await NestFactory.create<NestFastifyApplication>(
    ExchangeModule.forRoot({
      config,
      store,
      clock,
      guidance,
      matching,
      metering,
      billing,
      webhooks,
      bus,
      audit: { key: auditKey, checkpointer },
    }),
    new FastifyAdapter(fastifyOptions({ bodyLimit: config.bodyLimitBytes })),
    { logger: new PinoNestLogger(logger), bufferLogs: true },
  );
  await configureHttpApp(app, {
    rateLimit: { perSecond: config.rateLimitPerS, burst: config.rateLimitBurst },
    // The web console, built by `npm run build` into dist/web (this file runs from dist/apps/exchange/src).
    console: { root: join(__dirname, '../../../web') },
  });

  const identity = app.get(IdentityService);
  await identity.ready();
  const adminKey = await identity.ensureAdminKey();
  if (adminKey) {
    // Printed once, on the very first start: the key itself is stored only as a hash.
    process.stdout.write(`\nAdmin API key: ${adminKey}\n(store it now: it is shown only once)\n\n`);
  }

  // Graceful shutdown: stop taking requests, let modules finish (the store is closed last by CoreModule), exit 0.
  exitOnSignals(app, logger);

  await app.listen(config.port, config.host);
  logger.info(
    { url: await app.getUrl(), store: config.store.replace(/\/\/[^@]*@/, '//***@'), clock: config.clock },
    'cx exchange listening',
  );
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) {
    process.stderr.write(`configuration error: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
