// Proves matching end to end over real HTTP, a real SQLite file and the in-process bus: listing from the catalog, guidance as integration events, orders (rest, match, partial fill, reduce, reprice, cancel, kill switch), idempotent client order ids, tenancy and roles, refused input changing nothing while business rejections record exactly one event, allocations, depth/trades/quote, SSE, identical books after a restart, and no trade below the floor in force under concurrent orders and a floor change.
import 'reflect-metadata';
import { join } from 'node:path';
import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { GuidanceChangeKind, createEvent, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import { type EventStore, type Position, WrongExpectedVersion, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { InProcessBus, MessagingModule } from '@cx/messaging';
import { configureHttpApp } from '@cx/platform';
import { type Clock, SimulatedClock } from '@cx/shared-kernel';
import { tempDir, waitFor, testHost, httpCall, type HttpReply, type HttpCallArgs } from '@cx/testing';
import { MatchingEngine } from '../application/matching.engine';
import { bookStream } from '../application/matching.events';
import { snapshot } from '../domain/order-book/order-book.state';
import { GUIDANCE_TOPIC, MARKET_STATUS_TOPIC } from '../infrastructure/matching-integration';
import { MatchingModule } from '../matching.module';

const T0 = new Date('2026-03-10T08:00:00Z');
const H100 = 'nvidia-h100-sxm-80g';
const INSTR = `${H100}.cn-east-1.2026-03-11`;
const RACE = `${H100}.cn-north-1.2026-03-12`;

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  bus: InProcessBus;
  url: string;
  adminKey: string | null;
  engine: MatchingEngine;
}

const hostModule = (store: EventStore, clock: Clock, bus: InProcessBus): DynamicModule =>
  testHost(store, clock, [
    IdentityModule,
    MessagingModule.forBus(bus),
    // A long lag bound: these tests advance the simulated clock without sending more heartbeats.
    MatchingModule.forRoot({ maxGuidanceLagMs: 24 * 3_600_000, listingDays: 3 }),
  ]);

// The catalog as pricing-guidance records it (matching lists instruments from these events). Written here rather
// than by hosting pricing-guidance, because a service's tests import no other service.
const seedCatalog = async (store: EventStore): Promise<void> => {
  const streams: [string, string, Record<string, string>][] = [
    [`resource-class-${H100}`, 'ResourceClassCreated', { resourceClassId: H100 }],
    ['region-cn-east-1', 'RegionCreated', { regionId: 'cn-east-1' }],
    ['region-cn-north-1', 'RegionCreated', { regionId: 'cn-north-1' }],
  ];
  for (const [stream, type, data] of streams) {
    try {
      await store.appendToStream(stream, [{ type, data }], { expectedRevision: 'no_stream' });
    } catch (e) {
      if (!(e instanceof WrongExpectedVersion)) throw e; // already seeded (a restart on the same file)
    }
  }
};

const start = async (file: string, clock: Clock): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  await seedCatalog(store);
  const bus = new InProcessBus({ logger: { warn: () => undefined, error: () => undefined } });
  await bus.declareTopics([
    { name: GUIDANCE_TOPIC, partitions: 1 },
    { name: MARKET_STATUS_TOPIC, partitions: 1 },
  ]);
  const app = await NestFactory.create<NestFastifyApplication>(hostModule(store, clock, bus), new FastifyAdapter(), {
    logger: false,
  });
  await configureHttpApp(app);
  const adminKey = await app.get(IdentityService).ensureAdminKey();
  await app.listen(0, '127.0.0.1');
  return { app, store, bus, url: await app.getUrl(), adminKey, engine: app.get(MatchingEngine) };
};

const stop = async (r: Running): Promise<void> => {
  await r.app.close();
  await r.bus.close();
  await r.store.close();
};

type Reply = HttpReply;

const call = (r: Running, ...args: HttpCallArgs): Promise<Reply> => httpCall(r.url, ...args);

let published = 0;
const envelope = (aggregateId: string, at: Date) => {
  published += 1;
  const id = `00000000-0000-7000-8000-${String(published).padStart(12, '0')}`;
  return {
    eventId: id,
    aggregateId,
    occurredAt: timestampFromDate(at),
    correlationId: id,
    causationId: id,
    source: { streamId: `guidance-${aggregateId}`, streamRevision: 0n, position: { commit: 1n, prepare: 1n } },
  };
};

const heartbeat = async (bus: InProcessBus, at: Date): Promise<void> => {
  const ev = createEvent(GUIDANCE_TOPIC, {
    envelope: envelope(H100, at),
    event: { case: 'guidanceHeartbeat', value: { resourceClass: H100, completeUpTo: timestampFromDate(at) } },
  });
  await bus.publish(GUIDANCE_TOPIC, [toKafkaRecord(GUIDANCE_TOPIC, ev)]);
};

const band = async (
  bus: InProcessBus,
  version: number,
  floor: string,
  from: Date,
  region?: string,
): Promise<string> => {
  const bandId = region ? `${H100}.${region}` : H100;
  const versionId = `${bandId}.v${version}`;
  const ev = createEvent(GUIDANCE_TOPIC, {
    envelope: envelope(H100, from),
    event: {
      case: 'guidanceChanged',
      value: {
        kind: version === 1 ? GuidanceChangeKind.ISSUED : GuidanceChangeKind.AMENDED,
        band: {
          bandId,
          versionId,
          version: BigInt(version),
          resourceClass: H100,
          ...(region ? { region } : {}),
          floorPerAcceleratorHour: { amount: floor, currency: 'CNY' },
          effectiveFrom: timestampFromDate(from),
          issuedBy: 'key-regulator',
          reason: 'test',
        },
      },
    },
  });
  await bus.publish(GUIDANCE_TOPIC, [toKafkaRecord(GUIDANCE_TOPIC, ev)]);
  return versionId;
};

// Event data is read loosely on purpose: each assertion states the fields it expects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const streamEvents = async (store: EventStore, instrument: string): Promise<{ type: string; data: Loose }[]> => {
  const out: { type: string; data: Loose }[] = [];
  for await (const e of store.readStream(bookStream(instrument))) out.push({ type: e.type, data: e.data });
  return out;
};

const head = (store: EventStore): Promise<Position | null> => store.headPosition();

describe('matching over HTTP', () => {
  const dir = tempDir('cx-matching-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(T0);
  let r: Running;
  let admin: string;
  let acme: string;
  let beta: string;
  let gamma: string;
  let auditor: string;
  let v1: string;

  const order = (key: string, body: Record<string, unknown>) =>
    call(r, 'POST', '/v1/orders', key, { instrument: INSTR, timeInForce: 'GTC', ...body });

  beforeAll(async () => {
    r = await start(file, clock);
    admin = r.adminKey as string;
    for (const [id, kind] of [
      ['acme-01', 'provider'],
      ['beta-01', 'buyer'],
      ['gamma-01', 'buyer'],
    ]) {
      expect((await call(r, 'POST', '/v1/accounts', admin, { accountId: id, legalName: id, kind })).status).toBe(201);
    }
    const key = async (role: string, accounts: string[]) =>
      (await call(r, 'POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    acme = await key('trader', ['acme-01']);
    beta = await key('trader', ['beta-01']);
    gamma = await key('trader', ['gamma-01']);
    auditor = await key('auditor', []);
  });

  afterAll(async () => {
    if (r) await stop(r);
    dir.remove();
  });

  it('lists an instrument per class, region and delivery day from the catalog', async () => {
    const page = await call(r, 'GET', '/v1/instruments?limit=500', acme);
    expect(page.status).toBe(200);
    const ids = page.body.items.map((i: { instrumentId: string }) => i.instrumentId);
    expect(ids).toContain(INSTR);
    // listingDays 3: tomorrow and the two days after it.
    expect(ids.filter((id: string) => id.startsWith(`${H100}.cn-east-1.`))).toEqual([
      `${H100}.cn-east-1.2026-03-11`,
      `${H100}.cn-east-1.2026-03-12`,
      `${H100}.cn-east-1.2026-03-13`,
    ]);
    expect(page.body.items.find((i: { instrumentId: string }) => i.instrumentId === INSTR)).toMatchObject({
      status: 'open',
      tickSize: '0.01',
      lotSize: '1',
      currency: 'CNY',
      tradingEndsAt: '2026-03-10T23:00:00.000Z',
      bestBid: null,
      bestAsk: null,
      lastPrice: null,
    });
  });

  it('refuses to match without fresh guidance, recording exactly the rejection', async () => {
    const before = await streamEvents(r.store, INSTR);
    const res = await order(acme, {
      account: 'acme-01',
      clientOrderId: 'stale-1',
      side: 'sell',
      price: '12',
      quantityLots: 1,
    });
    expect(res).toMatchObject({ status: 422, body: { code: 'MATCHING.GUIDANCE_STALE', details: [] } });
    const after = await streamEvents(r.store, INSTR);
    expect(after.slice(before.length).map((e) => e.type)).toEqual(['OrderRejected']);
  });

  it('applies a band delivered as a guidance event and enforces its floor', async () => {
    await heartbeat(r.bus, clock.now());
    v1 = await band(r.bus, 1, '10.00', clock.now());
    await waitFor(() => r.engine.handle(INSTR)?.book.bandVersions.has(v1), { what: 'band v1 on the book' });
    const before = await streamEvents(r.store, INSTR);
    const res = await order(beta, {
      account: 'beta-01',
      clientOrderId: 'low-1',
      side: 'buy',
      price: '9.99',
      quantityLots: 1,
    });
    expect(res).toMatchObject({
      status: 422,
      body: { code: 'MATCHING.BELOW_FLOOR', details: [{ field: 'price', code: 'MATCHING.BELOW_FLOOR' }] },
    });
    const added = (await streamEvents(r.store, INSTR)).slice(before.length);
    // The band was already due when it arrived, so it took force in that same decision; the order is refused
    // against it and only the rejection is recorded.
    expect(added.map((e) => e.type)).toEqual(['OrderRejected']);
    expect(added[0]!.data).toMatchObject({ code: 'MATCHING.BELOW_FLOOR', floor: '10', guidanceVersion: v1 });
  });

  let askId: string;
  it('rests, matches at the maker’s price, fills partly, reduces and reprices', async () => {
    const ask = await order(acme, {
      account: 'acme-01',
      clientOrderId: 'ask-1',
      side: 'sell',
      price: '12.00',
      quantityLots: 5,
    });
    expect(ask).toMatchObject({
      status: 201,
      body: { status: 'open', price: '12', remainingLots: 5, guidanceVersion: v1 },
    });
    askId = ask.body.orderId;
    const bid = await order(beta, {
      account: 'beta-01',
      clientOrderId: 'bid-1',
      side: 'buy',
      price: '12.50',
      quantityLots: 2,
    });
    expect(bid).toMatchObject({ status: 201, body: { status: 'filled', filledLots: 2, remainingLots: 0 } });
    expect((await call(r, 'GET', `/v1/orders/${askId}`, acme)).body).toMatchObject({
      status: 'partially_filled',
      filledLots: 2,
      remainingLots: 3,
    });
    const reduced = await call(r, 'PATCH', `/v1/orders/${askId}`, acme, { quantityLots: 4 });
    expect(reduced).toMatchObject({ status: 200, body: { quantityLots: 4, filledLots: 2, remainingLots: 2 } });
    const repriced = await call(r, 'PATCH', `/v1/orders/${askId}`, acme, { price: '12.10' });
    expect(repriced).toMatchObject({
      status: 200,
      body: { price: '12.1', remainingLots: 2, status: 'partially_filled' },
    });
    const trades = await call(r, 'GET', `/v1/market/${INSTR}/trades`, acme);
    expect(trades.body.items).toEqual([
      expect.objectContaining({ sequence: 1, price: '12', quantityLots: 2, aggressorSide: 'buy', guidanceVersion: v1 }),
    ]);
  });

  it('shows depth, quotes and the instrument summary', async () => {
    const depth = await call(r, 'GET', `/v1/market/${INSTR}/depth`, gamma);
    expect(depth).toMatchObject({
      status: 200,
      body: { bids: [], asks: [{ price: '12.1', quantityLots: 2, orders: 1 }] },
    });
    expect(JSON.stringify(depth.body)).not.toContain('acme');
    expect((await call(r, 'GET', `/v1/market/${INSTR}/quote?side=buy&quantity=2`, gamma)).body).toMatchObject({
      fillable: true,
      notional: '24.2',
      averagePrice: '12.1',
      currency: 'CNY',
    });
    expect((await call(r, 'GET', `/v1/market/${INSTR}/quote?side=buy&quantity=5`, gamma)).body).toMatchObject({
      fillable: false,
      availableLots: 2,
    });
    const list = await call(r, 'GET', '/v1/instruments?limit=500', gamma);
    expect(list.body.items.find((i: { instrumentId: string }) => i.instrumentId === INSTR)).toMatchObject({
      bestAsk: '12.1',
      bestBid: null,
      lastPrice: '12',
      floor: '10',
    });
  });

  it('answers an identical retry with the original order and refuses a different one', async () => {
    const again = await order(beta, {
      account: 'beta-01',
      clientOrderId: 'bid-1',
      side: 'buy',
      price: '12.5',
      quantityLots: 2,
    });
    expect(again).toMatchObject({ status: 200, body: { clientOrderId: 'bid-1', status: 'filled' } });
    const other = await order(beta, {
      account: 'beta-01',
      clientOrderId: 'bid-1',
      side: 'buy',
      price: '13',
      quantityLots: 2,
    });
    expect(other).toMatchObject({ status: 422, body: { code: 'MATCHING.DUPLICATE_CLIENT_ORDER_ID' } });
    expect((await call(r, 'GET', `/v1/market/${INSTR}/trades`, acme)).body.items).toHaveLength(1);
  });

  it('hides other tenants’ orders and refuses the wrong role', async () => {
    expect((await call(r, 'GET', `/v1/orders/${askId}`, gamma)).body.code).toBe('MATCHING.ORDER_NOT_FOUND');
    expect((await call(r, 'GET', `/v1/orders/${askId}`, gamma)).status).toBe(404);
    expect((await call(r, 'DELETE', `/v1/orders/${askId}`, gamma)).status).toBe(404);
    expect((await call(r, 'PATCH', `/v1/orders/${askId}`, gamma, { quantityLots: 3 })).status).toBe(404);
    expect((await call(r, 'GET', `/v1/orders?account=acme-01`, gamma)).body.items).toEqual([]);
    expect((await call(r, 'GET', `/v1/orders/${askId}`, auditor)).status).toBe(200);
    const asAuditor = await call(r, 'POST', '/v1/orders', auditor, {
      account: 'acme-01',
      instrument: INSTR,
      clientOrderId: 'x',
      side: 'buy',
      price: '12',
      quantityLots: 1,
      timeInForce: 'GTC',
    });
    expect(asAuditor).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
  });

  // Ordered by which error wins: the shape (400 VALIDATION.INVALID), then what needs the instrument.
  const base = {
    account: 'beta-01',
    instrument: INSTR,
    clientOrderId: 'bad-1',
    side: 'buy',
    price: '11',
    quantityLots: 1,
    timeInForce: 'GTC',
  };
  it.each([
    ['zero lots', { quantityLots: 0 }, 400, 'VALIDATION.INVALID', 'quantityLots'],
    ['fractional lots', { quantityLots: 1.5 }, 400, 'VALIDATION.INVALID', 'quantityLots'],
    ['a price that is not a decimal', { price: '1e3' }, 400, 'VALIDATION.INVALID', 'price'],
    ['an unknown field', { leverage: 10 }, 400, 'VALIDATION.INVALID', 'leverage'],
    [
      'an unknown instrument',
      { instrument: `${H100}.cn-east-1.2030-01-01` },
      400,
      'MATCHING.UNKNOWN_INSTRUMENT',
      'instrument',
    ],
    ['an off-tick price', { price: '11.005' }, 400, 'MATCHING.OFF_TICK', 'price'],
    [
      'an expired GTD',
      { timeInForce: 'GTD', expiresAt: '2026-03-10T07:00:00Z' },
      400,
      'MATCHING.GTD_EXPIRED',
      'expiresAt',
    ],
    ['GTD without expiresAt', { timeInForce: 'GTD' }, 400, 'MATCHING.INVALID_EXPIRES_AT', 'expiresAt'],
    ['another tenant’s account', { account: 'gamma-01' }, 404, 'MATCHING.ACCOUNT_NOT_FOUND', null],
  ])('refuses %s and changes nothing', async (_what, change, status, code, field) => {
    const before = await head(r.store);
    const res = await call(r, 'POST', '/v1/orders', beta, { ...base, ...change });
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    if (field) expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    expect(await head(r.store)).toEqual(before);
  });

  it('refuses malformed amendments and another tenant’s order id, changing nothing', async () => {
    const before = await head(r.store);
    expect((await call(r, 'PATCH', `/v1/orders/${askId}`, acme, { price: '12.105' })).body.code).toBe(
      'MATCHING.OFF_TICK',
    );
    expect((await call(r, 'PATCH', `/v1/orders/${askId}`, acme, { quantityLots: 9 })).body.code).toBe(
      'MATCHING.INVALID_QUANTITY',
    );
    expect((await call(r, 'PATCH', `/v1/orders/${askId}`, acme, {})).body.code).toBe('MATCHING.INVALID_AMENDMENT');
    expect((await call(r, 'DELETE', `/v1/orders/${askId}`, beta)).status).toBe(404);
    expect(await head(r.store)).toEqual(before);
  });

  it('creates an allocation per trade, visible to its parties only', async () => {
    const mine = await call(r, 'GET', '/v1/allocations', beta);
    expect(mine.body.items).toEqual([
      expect.objectContaining({
        tradeId: `${INSTR}-1`,
        providerAccount: 'acme-01',
        buyerAccount: 'beta-01',
        quantity: '2',
        price: '12',
        currency: 'CNY',
        deliveryStart: '2026-03-11T00:00:00.000Z',
        deliveryEnd: '2026-03-12T00:00:00.000Z',
        guidanceVersion: v1,
      }),
    ]);
    expect((await call(r, 'GET', '/v1/allocations', gamma)).body.items).toEqual([]);
    expect((await call(r, 'GET', '/v1/allocations', auditor)).body.items).toHaveLength(1);
    const types = (await streamEvents(r.store, INSTR)).map((e) => e.type);
    expect(types[types.indexOf('TradeExecuted') + 1]).toBe('AllocationCreated');
  });

  it('streams trades and depth over SSE, and the owner’s fills', async () => {
    const market = new AbortController();
    const mine = new AbortController();
    const read = async (path: string, key: string, ctrl: AbortController, into: string[]) => {
      const res = await fetch(`${r.url}${path}`, { headers: { authorization: `Bearer ${key}` }, signal: ctrl.signal });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const reader = res.body!.getReader();
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            into.push(Buffer.from(value).toString('utf8'));
          }
        } catch {
          // Aborted by the test.
        }
      })();
    };
    const marketText: string[] = [];
    const fillsText: string[] = [];
    await read(`/v1/market/${INSTR}/stream`, gamma, market, marketText);
    await read('/v1/orders/stream', beta, mine, fillsText);
    await waitFor(() => marketText.join('').includes('event: depth'), { what: 'the first depth' });
    const bid = await order(beta, {
      account: 'beta-01',
      clientOrderId: 'bid-sse',
      side: 'buy',
      price: '12.10',
      quantityLots: 1,
    });
    expect(bid.body.status).toBe('filled');
    await waitFor(() => marketText.join('').includes('event: trade'), { what: 'a trade on the market stream' });
    await waitFor(() => fillsText.join('').includes('event: fill'), { what: 'a fill on the order stream' });
    expect(fillsText.join('')).toContain(bid.body.orderId);
    market.abort();
    mine.abort();
  });

  it('cancels one order and, with the kill switch, all of an account’s orders', async () => {
    const a = await order(acme, {
      account: 'acme-01',
      clientOrderId: 'ask-2',
      side: 'sell',
      price: '13',
      quantityLots: 1,
    });
    const b = await order(acme, {
      account: 'acme-01',
      clientOrderId: 'ask-3',
      side: 'sell',
      price: '14',
      quantityLots: 1,
    });
    const c = await order(acme, {
      account: 'acme-01',
      clientOrderId: 'ask-4',
      side: 'sell',
      price: '15',
      quantityLots: 1,
    });
    expect((await call(r, 'DELETE', `/v1/orders/${a.body.orderId}`, acme)).body).toMatchObject({
      status: 'cancelled',
      reason: 'USER',
    });
    expect((await call(r, 'DELETE', `/v1/orders/${a.body.orderId}`, acme)).status).toBe(404);
    const all = await call(r, 'DELETE', '/v1/orders?account=acme-01', acme);
    expect(all.status).toBe(200);
    expect(all.body.cancelledOrderIds).toEqual(expect.arrayContaining([askId, b.body.orderId, c.body.orderId]));
    expect((await call(r, 'GET', '/v1/orders?account=acme-01&status=cancelled', acme)).body.items).toHaveLength(4);
    expect((await call(r, 'DELETE', '/v1/orders?account=beta-01', acme)).status).toBe(404);
  });

  it('rebuilds identical books after a restart', async () => {
    await order(acme, { account: 'acme-01', clientOrderId: 'keep-1', side: 'sell', price: '16', quantityLots: 3 });
    await order(beta, { account: 'beta-01', clientOrderId: 'keep-2', side: 'buy', price: '11', quantityLots: 4 });
    const before = new Map([...r.engine.instrumentIds()].map((id) => [id, snapshot(r.engine.handle(id)!.book)]));
    const ordersBefore = (await call(r, 'GET', '/v1/orders?limit=500', admin)).body;
    await stop(r);
    r = await start(file, clock);
    const after = new Map([...r.engine.instrumentIds()].map((id) => [id, snapshot(r.engine.handle(id)!.book)]));
    expect(after).toEqual(before);
    expect((await call(r, 'GET', '/v1/orders?limit=500', admin)).body).toEqual(ordersBefore);
    // Guidance heard before the restart still protects the rebuilt books.
    await heartbeat(r.bus, clock.now());
    expect(
      (await order(beta, { account: 'beta-01', clientOrderId: 'low-2', side: 'buy', price: '9', quantityLots: 1 })).body
        .code,
    ).toBe('MATCHING.BELOW_FLOOR');
  });

  it('never trades below the floor in force while orders race a floor change', async () => {
    await heartbeat(r.bus, clock.now());
    await waitFor(() => r.engine.handle(RACE)?.book.bandVersions.has(v1), { what: 'band v1 on the race book' });
    const prices = ['10.00', '10.20', '10.40', '10.60', '10.80', '11.00'];
    const placing: Promise<Reply>[] = [];
    let floorChange: Promise<string> | null = null;
    for (let i = 0; i < 120; i++) {
      const seller = i % 2 === 0;
      placing.push(
        call(r, 'POST', '/v1/orders', seller ? acme : beta, {
          account: seller ? 'acme-01' : 'beta-01',
          instrument: RACE,
          clientOrderId: `race-${i}`,
          side: seller ? 'sell' : 'buy',
          price: prices[(i * 7) % prices.length],
          quantityLots: 1 + (i % 3),
          timeInForce: 'GTC',
        }),
      );
      // The floor rises to 10.50 halfway through, effective at once.
      if (i === 60) floorChange = band(r.bus, 2, '10.50', clock.now());
    }
    const results = await Promise.all(placing);
    const v2 = await floorChange!;
    await waitFor(() => r.engine.handle(RACE)?.book.band?.guidanceVersion === v2, { what: 'band v2 in force' });
    for (const res of results) expect([201, 422]).toContain(res.status);

    // The audit, from the stream alone: every trade records the band in force and is at or above its floor.
    let floor: number | null = null;
    let version: string | null = null;
    let trades = 0;
    for (const e of await streamEvents(r.store, RACE)) {
      if (e.type === 'BandActivated') {
        floor = Number(e.data.floor);
        version = e.data.guidanceVersion;
      }
      if (e.type === 'TradeExecuted') {
        trades += 1;
        expect(e.data.guidanceVersion).toBe(version);
        expect(Number(e.data.price)).toBeGreaterThanOrEqual(floor!);
      }
      if (e.type === 'OrderRested' && floor !== null) expect(Number(e.data.price)).toBeGreaterThanOrEqual(floor);
    }
    expect(trades).toBeGreaterThan(0);
    expect(version).toBe(v2);
  });
});
