import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { type BusLogger, InProcessBus, MessagingModule } from '@cx/messaging';
import { configureHttpApp } from '@cx/platform';
import { type Clock } from '@cx/shared-kernel';
import { testHost } from '@cx/testing';
import { BillingModule } from '../billing.module';
import { type BillingConfig } from '../config';
import { billingConsumedTopics } from '../infrastructure/billing-integration';

// Billing hosted in the test's process over real HTTP and a real SQLite file, hearing its input topics on the
// in-process bus. Each test passes the billing configuration it is about, so nothing rides on the defaults.

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };

export interface InProcessBilling {
  app: NestFastifyApplication;
  store: EventStore;
  bus: InProcessBus;
  url: string;
  adminKey: string;
}

/**
 * Opens the store in `file` and starts billing on it, listening on a free loopback port. The first start issues the
 * admin key; a restart passes the one issued then.
 */
export const startInProcessBilling = async (
  file: string,
  clock: Clock,
  config: Partial<BillingConfig>,
  adminKey?: string,
): Promise<InProcessBilling> => {
  const store = await openEventStore(`sqlite:${file}`);
  const bus = new InProcessBus({ logger: quiet });
  await bus.declareTopics(billingConsumedTopics.map((name) => ({ name, partitions: 2 })));
  const host = testHost(store, clock, [MessagingModule.forBus(bus), IdentityModule, BillingModule.forRoot(config)]);
  const app = await NestFactory.create<NestFastifyApplication>(host, new FastifyAdapter(), { logger: false });
  await configureHttpApp(app);
  const key = adminKey ?? ((await app.get(IdentityService).ensureAdminKey()) as string);
  await app.listen(0, '127.0.0.1');
  return { app, store, bus, url: await app.getUrl(), adminKey: key };
};

export const stopInProcessBilling = async (r: InProcessBilling): Promise<void> => {
  await r.app.close();
  await r.bus.close();
  await r.store.close();
};
