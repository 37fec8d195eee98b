// Proves the reference index, surveillance and halts end to end over real HTTP, a real SQLite file and the
// in-process bus carrying real encoded trades: index values from a scripted tape match hand-computed VWAPs to the
// cent (a redelivered trade counts once, a late one revises its day), alerts are raised and readable only by the
// regulator and the auditor, the breaker halts an instrument and resumes it after the cooling-off, the regulator
// halts and resumes by hand, halts and resumes reach cx.pricing.market-status.v1 through the relay, refused input
// changes nothing, and a restart (a replay of the store) answers the same.
import 'reflect-metadata';
import { join } from 'node:path';
import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createEvent, decodeEvent, type MarketStatusEvent, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { type BusLogger, type Consumer, InProcessBus, MessagingModule, Relay } from '@cx/messaging';
import { configureHttpApp } from '@cx/platform';
import { type Clock, SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, testHost, waitFor } from '@cx/testing';
import { pricingGuidanceConfig } from '../config';
import { MARKET_STATUS_TOPIC, marketStatusTopicSpec } from '../infrastructure/guidance-publication';
import {
  surveillanceRelayRoutes,
  surveillanceTopicSpecs,
  TRADES_TOPIC,
} from '../infrastructure/surveillance-publication';
import { PricingGuidanceModule } from '../pricing-guidance.module';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const T0 = new Date('2026-03-10T08:00:00Z');
const H100 = 'nvidia-h100-sxm-80g';
const EAST = `${H100}.cn-east-1.2026-03-20`;

const config = pricingGuidanceConfig({
  minNoticeMs: 60_000,
  maxPropagationLagMs: 10_000,
  heartbeatIntervalMs: 0,
  surveillance: {
    nearFloorPercent: '3',
    floorShareMinTrades: 3,
    breakerMovePercent: '10',
    breakerWindowMs: 300_000,
    coolingOffMs: 900_000,
    haltSweepIntervalMs: 20,
  },
});

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  bus: InProcessBus;
  relay: Relay;
  url: string;
  admin: string;
}

const hostModule = (store: EventStore, clock: Clock, bus: InProcessBus): DynamicModule =>
  testHost(store, clock, [MessagingModule.forBus(bus), IdentityModule, PricingGuidanceModule.forRoot(config)]);

const start = async (file: string, clock: Clock): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  const bus = new InProcessBus({ logger: quiet });
  await bus.declareTopics([{ name: TRADES_TOPIC, partitions: 2 }, marketStatusTopicSpec, ...surveillanceTopicSpecs]);
  const app = await NestFactory.create<NestFastifyApplication>(hostModule(store, clock, bus), new FastifyAdapter(), {
    logger: false,
  });
  await configureHttpApp(app);
  const admin = (await app.get(IdentityService).ensureAdminKey()) as string;
  await app.listen(0, '127.0.0.1');
  const relay = new Relay({ name: 'surveillance-test', store, bus, routes: surveillanceRelayRoutes, durable: false });
  await relay.start();
  return { app, store, bus, relay, url: await app.getUrl(), admin };
};

const stop = async (r: Running): Promise<void> => {
  await r.relay.stop();
  await r.app.close();
  await r.bus.close();
  await r.store.close();
};

type Reply = Pick<HttpReply, 'status' | 'body'>;
const call = async (r: Running, ...args: HttpCallArgs): Promise<Reply> => {
  const { status, body } = await httpCall(r.url, ...args);
  return { status, body };
};

/** Per instrument, the tape's sequence: the revision of the book stream the trade was recorded in. */
const sequences = new Map<string, number>();

interface TapeTrade {
  tradeId: string;
  at: string;
  price: string;
  quantity: string;
  instrument?: string;
  floor?: string;
}

const tradeRecord = (t: TapeTrade, revision?: number) => {
  const instrument = t.instrument ?? EAST;
  const seq = revision ?? (sequences.get(instrument) ?? 0) + 1;
  sequences.set(instrument, Math.max(seq, sequences.get(instrument) ?? 0));
  const [resourceClass, region, deliveryDay] = instrument.split('.') as [string, string, string];
  const event = createEvent(TRADES_TOPIC, {
    envelope: {
      eventId: `evt-${t.tradeId}`,
      aggregateId: instrument,
      occurredAt: timestampFromDate(new Date(t.at)),
      correlationId: `corr-${t.tradeId}`,
      causationId: `cmd-${t.tradeId}`,
      source: { streamId: `book-${instrument}`, streamRevision: BigInt(seq) },
    },
    event: {
      case: 'tradeExecuted',
      value: {
        tradeId: t.tradeId,
        instrumentId: instrument,
        resourceClass,
        region,
        deliveryDay,
        price: { amount: t.price, currency: 'CNY' },
        quantity: t.quantity,
        buyOrderId: `bo-${t.tradeId}`,
        sellOrderId: `so-${t.tradeId}`,
        buyerAccountId: 'buyer-01',
        sellerAccountId: 'prov-01',
        sequence: BigInt(seq),
        ...(t.floor !== undefined
          ? { floor: { amount: t.floor, currency: 'CNY' }, guidanceVersionId: `${H100}.v1` }
          : {}),
      },
    },
  });
  return { record: toKafkaRecord(TRADES_TOPIC, event), seq };
};

const publish = async (r: Running, trades: TapeTrade[]): Promise<void> => {
  for (const t of trades) await r.bus.publish(TRADES_TOPIC, [tradeRecord(t).record]);
};

const indexOf = (r: Running, key: string, query: string) => call(r, 'GET', `/v1/index/${H100}?${query}`, key);

describe('reference index, surveillance and halts over HTTP', () => {
  const dir = tempDir('cx-surveillance-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(T0);
  let r: Running;
  let regulator: string;
  let auditor: string;
  let trader: string;
  const statusMessages: MarketStatusEvent[] = [];
  let statusConsumer: Consumer;

  const subscribeStatus = async () => {
    statusConsumer = await r.bus.subscribe({
      group: 'test-market-status',
      topics: [MARKET_STATUS_TOPIC],
      handler: async (m) => {
        statusMessages.push(decodeEvent(MARKET_STATUS_TOPIC, m.value));
      },
    });
  };

  beforeAll(async () => {
    r = await start(file, clock);
    regulator = (await call(r, 'POST', '/v1/keys', r.admin, { role: 'regulator', label: 'desk' })).body.key;
    auditor = (await call(r, 'POST', '/v1/keys', r.admin, { role: 'auditor', label: 'audit' })).body.key;
    await call(r, 'POST', '/v1/accounts', r.admin, { accountId: 'acme-01', legalName: 'Acme', kind: 'buyer' });
    trader = (await call(r, 'POST', '/v1/keys', r.admin, { role: 'trader', accounts: ['acme-01'] })).body.key;
    await subscribeStatus();
  });

  afterAll(async () => {
    await statusConsumer?.close();
    if (r) await stop(r);
    dir.remove();
  });

  it('computes the daily and intraday VWAP of a scripted tape to the cent, counting a redelivered trade once', async () => {
    await publish(r, [
      { tradeId: 'a1', at: '2026-03-10T01:00:00Z', price: '20.00', quantity: '10' },
      { tradeId: 'a2', at: '2026-03-10T01:01:00Z', price: '21.00', quantity: '5' },
      { tradeId: 'a3', at: '2026-03-10T01:02:00Z', price: '21.333', quantity: '2.5' },
      {
        tradeId: 'a4',
        at: '2026-03-10T01:03:00Z',
        price: '30',
        quantity: '1',
        instrument: `${H100}.cn-north-1.2026-03-20`,
      },
    ]);
    // The same trade heard again (at-least-once delivery): same source event, same revision.
    await r.bus.publish(TRADES_TOPIC, [
      tradeRecord({ tradeId: 'a3', at: '2026-03-10T01:02:00Z', price: '21.333', quantity: '2.5' }, 3).record,
    ]);
    const day = await waitFor(
      async () => {
        const res = await indexOf(r, trader, 'region=cn-east-1&from=2026-03-10&to=2026-03-11');
        return res.body.items?.[0]?.tradeCount === 3 ? res : null;
      },
      { what: 'the east index with three trades' },
    );
    // (200 + 105 + 53.3325) / 17.5 = 20.4761… → 20.48.
    expect(day.status).toBe(200);
    expect(day.body.items).toEqual([
      {
        indexId: `${H100}.cn-east-1.CNY.daily:2026-03-10`,
        resourceClass: H100,
        region: 'cn-east-1',
        currency: 'CNY',
        window: 'daily',
        windowStart: '2026-03-10T00:00:00.000Z',
        windowEnd: '2026-03-11T00:00:00.000Z',
        version: 3,
        vwap: '20.48',
        notional: '358.3325',
        volume: '17.5',
        tradeCount: 3,
        revision: false,
        tradeId: 'a3',
        publishedAt: '2026-03-10T01:02:00.000Z',
      },
    ]);
    // National, with the north trade: 388.3325 / 18.5 = 20.9909… → 20.99.
    const national = await waitFor(async () => {
      const res = await indexOf(r, trader, 'from=2026-03-10&to=2026-03-11');
      return res.body.items?.[0]?.tradeCount === 4 ? res : null;
    });
    expect(national.body.items[0]).toEqual(expect.objectContaining({ region: null, vwap: '20.99', version: 4 }));
    const intraday = await indexOf(
      r,
      trader,
      'region=cn-east-1&window=intraday&from=2026-03-10T00:00:00Z&to=2026-03-11',
    );
    expect(intraday.body.items.map((v: { vwap: string }) => v.vwap)).toEqual(['20.00', '20.33', '20.48']);
  });

  it('publishes a revised value, a new version, when a late trade reaches a day already followed by another', async () => {
    await publish(r, [{ tradeId: 'b1', at: '2026-03-11T01:00:00Z', price: '22', quantity: '1' }]);
    await waitFor(
      async () => (await indexOf(r, trader, 'region=cn-east-1&from=2026-03-11&to=2026-03-12')).body.items?.length === 1,
    );
    await publish(r, [{ tradeId: 'b2', at: '2026-03-10T23:00:00Z', price: '25.6675', quantity: '2.5' }]);
    const revised = await waitFor(async () => {
      const res = await indexOf(r, trader, 'region=cn-east-1&from=2026-03-10&to=2026-03-11');
      return res.body.items?.[0]?.version === 4 ? res : null;
    });
    // (358.3325 + 64.16875) / 20 = 21.1250375 → 21.13.
    expect(revised.body.items[0]).toEqual(expect.objectContaining({ vwap: '21.13', revision: true, tradeCount: 4 }));
    const all = await indexOf(r, trader, 'region=cn-east-1&from=2026-03-10&to=2026-03-11&versions=all');
    expect(all.body.items.map((v: { version: number; vwap: string }) => `${v.version}:${v.vwap}`)).toEqual([
      '1:20.00',
      '2:20.33',
      '3:20.48',
      '4:21.13',
    ]);
  });

  it('refuses bad index queries with a code', async () => {
    for (const [path, status, code] of [
      [`/v1/index/nvidia-b300?from=2026-03-10`, 404, 'PRICING.RESOURCE_CLASS_NOT_FOUND'],
      [`/v1/index/${H100}?region=cn-west-9`, 422, 'PRICING.UNKNOWN_REGION'],
      [`/v1/index/${H100}?from=yesterday`, 400, 'PRICING.INVALID_INSTANT'],
      [`/v1/index/${H100}?from=2026-03-12&to=2026-03-10`, 400, 'PRICING.INVALID_RANGE'],
      [`/v1/index/${H100}?window=weekly`, 400, undefined],
    ] as const) {
      const res = await call(r, 'GET', path, trader);
      expect([path, res.status]).toEqual([path, status]);
      if (code !== undefined) expect(res.body.code).toBe(code);
    }
    expect((await call(r, 'GET', `/v1/index/${H100}`, undefined as unknown as string)).status).toBe(401);
  });

  it('raises spiral alerts, readable by the regulator and the auditor only', async () => {
    // Three trades at (or just above) the floor: the index is within 3% of it and the volume clusters at it.
    await publish(r, [
      {
        tradeId: 'c1',
        at: '2026-03-12T02:00:00Z',
        price: '18.50',
        quantity: '4',
        floor: '18.50',
        instrument: `${H100}.cn-south-1.2026-03-20`,
      },
      {
        tradeId: 'c2',
        at: '2026-03-12T02:01:00Z',
        price: '18.50',
        quantity: '4',
        floor: '18.50',
        instrument: `${H100}.cn-south-1.2026-03-20`,
      },
      {
        tradeId: 'c3',
        at: '2026-03-12T02:02:00Z',
        price: '19.00',
        quantity: '1',
        floor: '18.50',
        instrument: `${H100}.cn-south-1.2026-03-20`,
      },
    ]);
    const listed = await waitFor(async () => {
      const res = await call(r, 'GET', `/v1/alerts?resourceClass=${H100}&rule=floor-clustering`, regulator);
      return res.body.items?.length === 1 ? res : null;
    });
    expect(listed.body.items[0]).toEqual(
      expect.objectContaining({
        alertId: `floor-clustering.${H100}.cn-south-1.CNY.2026-03-12`,
        rule: 'floor-clustering',
        region: 'cn-south-1',
        observedPercent: '88.8889',
        thresholdPercent: '50',
        floor: '18.5',
        tradeId: 'c3',
      }),
    );
    const near = await call(r, 'GET', '/v1/alerts?rule=near-floor', auditor);
    expect(near.status).toBe(200);
    expect(near.body.items).toEqual([
      expect.objectContaining({ region: 'cn-south-1', observedPercent: '0', day: '2026-03-12' }),
    ]);
    expect((await call(r, 'GET', '/v1/alerts', trader)).status).toBe(403);
    expect((await call(r, 'GET', '/v1/alerts', r.admin)).status).toBe(403);
    expect((await call(r, 'GET', '/v1/alerts?rule=everything', regulator)).status).toBe(400);
  });

  it('halts an instrument when the breaker trips, publishes it, and resumes it after the cooling-off', async () => {
    clock.set(new Date('2026-03-13T10:00:00Z'));
    const instrument = `${H100}.cn-west-1.2026-03-20`;
    await publish(r, [
      { tradeId: 'd1', at: '2026-03-13T10:00:00Z', price: '20', quantity: '1', instrument },
      { tradeId: 'd2', at: '2026-03-13T10:01:00Z', price: '23', quantity: '1', instrument },
    ]);
    const halted = await waitFor(async () => {
      const res = await call(r, 'GET', '/v1/market-status', trader);
      return res.body.items?.length === 1 ? res : null;
    });
    expect(halted.body.items[0]).toEqual(
      expect.objectContaining({
        haltId: 'cb-d2',
        status: 'halted',
        origin: 'circuit-breaker',
        scope: { resourceClass: null, region: null, instrumentId: instrument },
        haltedAt: '2026-03-13T10:01:00.000Z',
        resumesAt: '2026-03-13T10:16:00.000Z',
        haltedBy: { keyId: null, role: null, rule: 'circuit-breaker' },
        resumed: null,
      }),
    );
    const published = await waitFor(() =>
      statusMessages.find((m) => m.event.case === 'marketHalted' && m.event.value.haltId === 'cb-d2'),
    );
    if (published.event.case !== 'marketHalted') throw new Error('not a halt');
    expect(published.event.value.scope?.instrumentId).toBe(instrument);
    expect(published.event.value.haltedBy).toBe('surveillance:circuit-breaker');
    expect(published.envelope?.aggregateId).toBe('cb-d2');
    const alert = await call(r, 'GET', '/v1/alerts?rule=circuit-breaker', regulator);
    expect(alert.body.items).toEqual([
      expect.objectContaining({ haltId: 'cb-d2', observedPercent: '15', instrumentId: instrument }),
    ]);

    // A redelivery of the tripping trade halts nothing new.
    await r.bus.publish(TRADES_TOPIC, [
      tradeRecord({ tradeId: 'd2', at: '2026-03-13T10:01:00Z', price: '23', quantity: '1', instrument }, 2).record,
    ]);

    clock.set(new Date('2026-03-13T10:15:59Z'));
    expect((await call(r, 'GET', '/v1/market-status', trader)).body.items).toHaveLength(1);
    clock.set(new Date('2026-03-13T10:16:00Z'));
    await waitFor(async () => (await call(r, 'GET', '/v1/market-status', trader)).body.items?.length === 0, {
      what: 'the automatic resume',
    });
    const all = await call(r, 'GET', '/v1/market-status?state=all', trader);
    expect(all.body.items).toHaveLength(1);
    expect(all.body.items[0].resumed).toEqual({
      at: '2026-03-13T10:16:00.000Z',
      reason: 'cooling-off period ended',
      automatic: true,
      by: { keyId: null, role: null, rule: 'cooling-off' },
    });
    const resumed = await waitFor(() =>
      statusMessages.find((m) => m.event.case === 'marketResumed' && m.event.value.haltId === 'cb-d2'),
    );
    expect(resumed.event.case === 'marketResumed' && resumed.event.value.resumedBy).toBe('surveillance:cooling-off');
  });

  it('lets the regulator halt and resume by hand; refuses others and bad input without changing anything', async () => {
    const head = async () => {
      let n = 0;
      for await (const _e of r.store.readAll({ filter: { streamNamePrefixes: ['market-halt-'] } })) n += 1;
      return n;
    };
    const before = await head();
    for (const [key, body, status, code] of [
      [trader, { reason: 'no' }, 403, 'AUTH.FORBIDDEN'],
      [auditor, { reason: 'no' }, 403, 'AUTH.FORBIDDEN'],
      [regulator, {}, 400, undefined],
      [regulator, { reason: 'x', scope: { resourceClass: 'nvidia-b300' } }, 422, 'PRICING.UNKNOWN_RESOURCE_CLASS'],
      [regulator, { reason: 'x', scope: { region: 'cn-west-9' } }, 422, 'PRICING.UNKNOWN_REGION'],
      [regulator, { reason: 'x', scope: { instrumentId: 'h100-tomorrow' } }, 400, 'PRICING.INVALID_INSTRUMENT'],
      [regulator, { reason: 'x', resumesAt: '2026-03-13T10:00:00Z' }, 400, 'PRICING.RESUME_IN_PAST'],
      [regulator, { reason: 'x', scope: { venue: 'all' } }, 400, undefined],
    ] as const) {
      const res = await call(r, 'POST', '/v1/market-status/halts', key, body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), status]);
      if (code !== undefined) expect(res.body.code).toBe(code);
    }
    expect(await head()).toBe(before);

    const created = await call(r, 'POST', '/v1/market-status/halts', regulator, {
      scope: { resourceClass: H100, region: 'cn-east-1' },
      reason: 'disorderly trading after a data-centre outage',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(
      expect.objectContaining({
        status: 'halted',
        origin: 'manual',
        scope: { resourceClass: H100, region: 'cn-east-1', instrumentId: null },
        resumesAt: null,
        haltedBy: expect.objectContaining({ role: 'regulator', rule: null }),
      }),
    );
    const id = created.body.haltId as string;
    expect(
      (await call(r, 'GET', '/v1/market-status', trader)).body.items.map((h: { haltId: string }) => h.haltId),
    ).toEqual([id]);
    const published = await waitFor(() =>
      statusMessages.find((m) => m.event.case === 'marketHalted' && m.event.value.haltId === id),
    );
    expect(published.event.case === 'marketHalted' && published.event.value.scope).toEqual(
      expect.objectContaining({ resourceClass: H100, region: 'cn-east-1' }),
    );

    expect((await call(r, 'POST', `/v1/market-status/halts/${id}/resume`, trader, { reason: 'go' })).status).toBe(403);
    expect(
      (await call(r, 'POST', '/v1/market-status/halts/halt-nope/resume', regulator, { reason: 'go' })).status,
    ).toBe(404);
    const resumed = await call(r, 'POST', `/v1/market-status/halts/${id}/resume`, regulator, {
      reason: 'orderly again',
    });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual(
      expect.objectContaining({ status: 'resumed', resumed: expect.objectContaining({ automatic: false }) }),
    );
    const again = await call(r, 'POST', `/v1/market-status/halts/${id}/resume`, regulator, { reason: 'twice' });
    expect([again.status, again.body.code]).toEqual([409, 'PRICING.HALT_RESUMED']);
    await waitFor(() => statusMessages.find((m) => m.event.case === 'marketResumed' && m.event.value.haltId === id));
    expect((await call(r, 'GET', '/v1/market-status', trader)).body.items).toEqual([]);
  });

  it('answers the same after a restart (a replay of the store)', async () => {
    const queries = [
      `/v1/index/${H100}?from=2026-03-01&to=2026-03-31&versions=all`,
      `/v1/index/${H100}?region=cn-east-1&window=intraday&from=2026-03-01&to=2026-03-31`,
      '/v1/market-status?state=all',
    ];
    const live = await Promise.all(queries.map((q) => call(r, 'GET', q, regulator)));
    const alerts = await call(r, 'GET', '/v1/alerts', regulator);
    await statusConsumer.close();
    await stop(r);
    r = await start(file, clock);
    await subscribeStatus();
    expect(await Promise.all(queries.map((q) => call(r, 'GET', q, regulator)))).toEqual(live);
    expect(await call(r, 'GET', '/v1/alerts', regulator)).toEqual(alerts);
    // The restarted consumer remembers what it applied: a trade heard again changes nothing.
    await r.bus.publish(TRADES_TOPIC, [
      tradeRecord({ tradeId: 'a1', at: '2026-03-10T01:00:00Z', price: '20.00', quantity: '10' }, 1).record,
    ]);
    await publish(r, [{ tradeId: 'e1', at: '2026-03-14T01:00:00Z', price: '20', quantity: '1' }]);
    await waitFor(
      async () => (await indexOf(r, trader, 'region=cn-east-1&from=2026-03-14&to=2026-03-15')).body.items?.length === 1,
    );
    expect(
      (await call(r, 'GET', queries[0] as string, regulator)).body.items.filter((v: { windowStart: string }) =>
        v.windowStart.startsWith('2026-03-10'),
      ),
    ).toEqual(live[0]?.body.items.filter((v: { windowStart: string }) => v.windowStart.startsWith('2026-03-10')));
  });
});
