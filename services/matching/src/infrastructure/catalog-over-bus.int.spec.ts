// Proves matching lists instruments from the catalog heard on the guidance topic alone, as in distributed mode
// where its store holds no catalog of its own: each entry recorded once (redelivery changes nothing), instruments
// listed for every class × region × delivery day, and still listed after a restart without the messages.
import 'reflect-metadata';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createEvent, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { InProcessBus, MessagingModule } from '@cx/messaging';
import { configureHttpApp } from '@cx/platform';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, tempDir, testHost, waitFor } from '@cx/testing';
import { MATCHING_CATALOG_PREFIX } from '../application/matching.engine';
import { MatchingModule } from '../matching.module';
import { GUIDANCE_TOPIC, MARKET_STATUS_TOPIC } from './matching-integration';

const H100 = 'nvidia-h100-sxm-80g';

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  bus: InProcessBus;
  url: string;
}

const start = async (file: string, clock: SimulatedClock): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  const bus = new InProcessBus({ logger: { warn: () => undefined, error: () => undefined } });
  await bus.declareTopics([
    { name: GUIDANCE_TOPIC, partitions: 2 },
    { name: MARKET_STATUS_TOPIC, partitions: 1 },
  ]);
  const app = await NestFactory.create<NestFastifyApplication>(
    testHost(store, clock, [
      IdentityModule,
      MessagingModule.forBus(bus),
      MatchingModule.forRoot({ maxGuidanceLagMs: 24 * 3_600_000, listingDays: 2 }),
    ]),
    new FastifyAdapter(),
    { logger: false },
  );
  await configureHttpApp(app);
  await app.listen(0, '127.0.0.1');
  return { app, store, bus, url: await app.getUrl() };
};

let n = 0;
const message = (aggregateId: string, event: Parameters<typeof createEvent<typeof GUIDANCE_TOPIC>>[1]['event']) => {
  n += 1;
  const id = `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
  return toKafkaRecord(
    GUIDANCE_TOPIC,
    createEvent(GUIDANCE_TOPIC, {
      envelope: {
        eventId: id,
        aggregateId,
        occurredAt: timestampFromDate(new Date('2026-03-10T08:00:00Z')),
        correlationId: id,
        causationId: id,
        source: {
          streamId: `resource-class-${aggregateId}`,
          streamRevision: 0n,
          position: { commit: 1n, prepare: 1n },
        },
      },
      event,
    }),
  );
};

describe('matching lists instruments from the catalog heard over the bus', () => {
  const dir = tempDir('cx-catalog-');
  const file = join(dir.path, 'matching.sqlite');
  const clock = new SimulatedClock(new Date('2026-03-10T08:00:00Z'));
  let r: Running;
  let admin: string;

  afterAll(async () => {
    await r.app.close();
    await r.bus.close();
    await r.store.close();
    dir.remove();
  });

  const instruments = async (): Promise<string[]> =>
    (await httpCall(r.url, 'GET', '/v1/instruments?limit=500', admin)).body.items.map(
      (i: { instrumentId: string }) => i.instrumentId,
    );
  const catalogStreams = async (): Promise<string[]> => {
    const out: string[] = [];
    for await (const e of r.store.readAll({ filter: { streamNamePrefixes: [MATCHING_CATALOG_PREFIX] } })) {
      out.push(e.streamId);
    }
    return out;
  };

  it('records each entry once and lists class × region × day', async () => {
    r = await start(file, clock);
    admin = (await r.app.get(IdentityService).ensureAdminKey()) as string;
    expect(await instruments()).toEqual([]);
    const rc = message(H100, {
      case: 'resourceClassListed',
      value: {
        resourceClassId: H100,
        vendor: 'NVIDIA',
        model: 'H100 SXM',
        memoryGib: 80,
        interconnect: 'NVLink',
        units: [],
      },
    });
    const region = message('cn-east-1', { case: 'regionListed', value: { regionId: 'cn-east-1', name: 'East' } });
    // Delivered twice, as at-least-once delivery may.
    await r.bus.publish(GUIDANCE_TOPIC, [rc, region, rc, region]);
    await waitFor(async () => (await instruments()).length === 2);
    expect(await instruments()).toEqual([`${H100}.cn-east-1.2026-03-11`, `${H100}.cn-east-1.2026-03-12`]);
    expect((await catalogStreams()).sort()).toEqual([
      `${MATCHING_CATALOG_PREFIX}region-cn-east-1`,
      `${MATCHING_CATALOG_PREFIX}resource-class-${H100}`,
    ]);
  });

  it('keeps listing after a restart, from its own store', async () => {
    await r.app.close();
    await r.bus.close();
    await r.store.close();
    r = await start(file, clock);
    await waitFor(async () => (await instruments()).length === 2);
  });
});
