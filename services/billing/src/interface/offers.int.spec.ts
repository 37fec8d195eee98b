// Proves offers over real HTTP, a real SQLite file and the in-process bus carrying real guidance messages: a card
// is checked against the floor in force (regional over national, per accelerator-hour and per 1,000 tokens) and
// refused below it with nothing recorded; roles and tenancy (another tenant's account or offer answers 404);
// idempotent listing and withdrawal; cursor pagination; and a guidance view that survives a restart.
import 'reflect-metadata';
import { join } from 'node:path';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createEvent, GuidanceChangeKind, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { type BusLogger, InProcessBus, MessagingModule } from '@cx/messaging';
import { configureHttpApp } from '@cx/platform';
import { type Clock, SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, testHost, waitFor } from '@cx/testing';
import { GuidanceView } from '../application/guidance-view';
import { billingConsumedTopics, GUIDANCE_TOPIC } from '../infrastructure/billing-integration';
import { OFFERS_CONTROLLERS, OFFERS_EXPORTS, OFFERS_PROVIDERS } from './offers.providers';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const T0 = new Date('2026-03-10T08:00:00Z');
const RC = 'nvidia-h100-sxm-80g';

// The offers part of billing as the lead will host it, built here from the exported provider lists.
@Module({
  imports: [IdentityModule],
  controllers: OFFERS_CONTROLLERS,
  providers: OFFERS_PROVIDERS,
  exports: OFFERS_EXPORTS,
})
class OffersTestModule {}

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  bus: InProcessBus;
  url: string;
  adminKey: string | null;
}

const hostModule = (store: EventStore, clock: Clock, bus: InProcessBus): DynamicModule =>
  testHost(store, clock, [MessagingModule.forBus(bus), IdentityModule, OffersTestModule]);

const start = async (file: string, clock: Clock): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  const bus = new InProcessBus({ logger: quiet });
  await bus.declareTopics(billingConsumedTopics.map((name) => ({ name, partitions: 3 })));
  const app = await NestFactory.create<NestFastifyApplication>(hostModule(store, clock, bus), new FastifyAdapter(), {
    logger: false,
  });
  await configureHttpApp(app);
  const adminKey = await app.get(IdentityService).ensureAdminKey();
  await app.listen(0, '127.0.0.1');
  return { app, store, bus, url: await app.getUrl(), adminKey };
};

const stop = async (r: Running | undefined) => {
  if (!r) return;
  await r.app.close();
  await r.bus.close();
  await r.store.close();
};

const call = (r: Running, ...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);

/** A band version exactly as pricing-guidance's relay publishes it, encoded to bytes and back. */
const publishBand = async (
  r: Running,
  v: { version: number; region?: string; floor: string; tokenFloor?: string; kind?: GuidanceChangeKind },
) => {
  const bandId = v.region === undefined ? RC : `${RC}.${v.region}`;
  const versionId = `${bandId}.v${v.version}`;
  const event = createEvent(GUIDANCE_TOPIC, {
    envelope: {
      eventId: `evt-${versionId}`,
      aggregateId: RC,
      occurredAt: timestampFromDate(new Date('2026-03-01T00:00:00Z')),
      correlationId: `corr-${versionId}`,
      causationId: `corr-${versionId}`,
      source: { streamId: `guidance-${bandId}`, streamRevision: BigInt(v.version - 1) },
    },
    event: {
      case: 'guidanceChanged',
      value: {
        kind: v.kind ?? (v.version === 1 ? GuidanceChangeKind.ISSUED : GuidanceChangeKind.AMENDED),
        band: {
          bandId,
          versionId,
          version: BigInt(v.version),
          resourceClass: RC,
          ...(v.region !== undefined ? { region: v.region } : {}),
          floorPerAcceleratorHour: { amount: v.floor, currency: 'CNY' },
          ...(v.tokenFloor !== undefined ? { floorPerThousandTokens: { amount: v.tokenFloor, currency: 'CNY' } } : {}),
          effectiveFrom: timestampFromDate(new Date('2026-03-02T00:00:00Z')),
          issuedBy: 'key-reg',
          reason: 'review',
        },
        ...(v.version > 1 ? { previousVersionId: `${bandId}.v${v.version - 1}` } : {}),
      },
    },
  });
  await r.bus.publish(GUIDANCE_TOPIC, [toKafkaRecord(GUIDANCE_TOPIC, event)]);
  return versionId;
};

describe('offers over HTTP', () => {
  const dir = tempDir('cx-billing-offers-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(T0);
  let r: Running | undefined;
  let admin: string;
  let prov1: string;
  let prov2: string;
  let buyer: string;
  let finance: string;
  let auditor: string;

  const running = (): Running => {
    if (!r) throw new TypeError('not started');
    return r;
  };
  const list = (body: Record<string, unknown>, key = prov1) => call(running(), 'POST', '/v1/offers', key, body);
  const withdraw = (id: string, key = prov1, body: Record<string, unknown> = {}) =>
    call(running(), 'POST', `/v1/offers/${id}/withdraw`, key, body);
  const get = (id: string, key = buyer) => call(running(), 'GET', `/v1/offers/${id}`, key);
  const offer = (over: Record<string, unknown> = {}) => ({
    providerAccount: 'prov-01',
    resourceClass: RC,
    meter: 'accelerator_seconds',
    currency: 'CNY',
    rateCard: { model: 'flat', unitPrice: '12.50' },
    ...over,
  });

  beforeAll(async () => {
    r = await start(file, clock);
    admin = r.adminKey as string;
    for (const [accountId, kind] of [
      ['prov-01', 'provider'],
      ['prov-02', 'both'],
      ['buyer-01', 'buyer'],
    ] as const) {
      expect((await call(r, 'POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status).toBe(
        201,
      );
    }
    const key = async (role: string, accounts: string[]) =>
      (await call(running(), 'POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    prov1 = await key('trader', ['prov-01']);
    prov2 = await key('trader', ['prov-02']);
    buyer = await key('trader', ['buyer-01']);
    finance = await key('finance', ['prov-01']);
    auditor = await key('auditor', []);

    // National band: 12 per accelerator-hour, 0.02 per 1,000 tokens; cn-east-1 overrides it at 13. The national
    // one is delivered twice, as at-least-once delivery may.
    await publishBand(r, { version: 1, floor: '12', tokenFloor: '0.02' });
    await publishBand(r, { version: 1, floor: '12', tokenFloor: '0.02' });
    await publishBand(r, { version: 1, region: 'cn-east-1', floor: '13' });
    const view = r.app.get(GuidanceView);
    await waitFor(() => view.bandAt(RC, 'cn-east-1', T0)?.versionId === `${RC}.cn-east-1.v1`, {
      what: 'the regional band in billing’s view',
    });
    await waitFor(() => view.bandAt(RC, null, T0)?.versionId === `${RC}.v1`, { what: 'the national band' });
  });

  afterAll(async () => {
    await stop(r);
    dir.remove();
  });

  it('lists an offer checked against the national floor, and answers the same listing again with 200', async () => {
    const body = offer({ offerId: 'off-a' });
    const first = await list(body);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      offerId: 'off-a',
      providerAccount: 'prov-01',
      resourceClass: RC,
      region: null,
      meter: 'accelerator_seconds',
      unit: 'accelerator-hour',
      currency: 'CNY',
      rateCard: { model: 'flat', unitPrice: '12.5' },
      status: 'active',
      listedAt: T0.toISOString(),
      withdrawnAt: null,
      floorPerUnit: '12',
      guidanceVersion: `${RC}.v1`,
    });
    expect(await list(body)).toMatchObject({ status: 200, body: { offerId: 'off-a', status: 'active' } });
    expect(await list({ ...body, rateCard: { model: 'flat', unitPrice: '14' } })).toMatchObject({
      status: 409,
      body: { code: 'BILLING.OFFER_EXISTS_WITH_DIFFERENT_FIELDS' },
    });
    // Every authenticated key may read a listing.
    expect(await get('off-a', auditor)).toMatchObject({ status: 200, body: { offerId: 'off-a' } });
  });

  it('refuses a card below the floor in force, naming the price at fault, and records nothing', async () => {
    const below = await list(offer({ offerId: 'off-low', rateCard: { model: 'flat', unitPrice: '11.99' } }));
    expect(below.status).toBe(422);
    expect(below.body).toMatchObject({
      code: 'BILLING.RATE_BELOW_FLOOR',
      details: [{ field: 'rateCard.unitPrice', code: 'BILLING.RATE_BELOW_FLOOR' }],
    });
    // 12.5 clears the national floor but not cn-east-1's 13: the regional band overrides.
    const regional = await list(
      offer({
        offerId: 'off-east',
        region: 'cn-east-1',
        rateCard: {
          model: 'graduated',
          tiers: [
            { upTo: '100', unitPrice: '14' },
            { upTo: null, unitPrice: '12.5' },
          ],
        },
      }),
    );
    expect(regional).toMatchObject({
      status: 422,
      body: { code: 'BILLING.RATE_BELOW_FLOOR', details: [{ field: 'rateCard.tiers[1].unitPrice' }] },
    });
    // Tokens are checked per 1,000 tokens: 0.019 is below 0.02.
    expect(
      await list(offer({ offerId: 'off-tok-low', meter: 'tokens', rateCard: { model: 'flat', unitPrice: '0.019' } })),
    ).toMatchObject({ status: 422, body: { code: 'BILLING.RATE_BELOW_FLOOR' } });
    for (const id of ['off-low', 'off-east', 'off-tok-low']) {
      expect(await get(id)).toMatchObject({ status: 404, body: { code: 'BILLING.OFFER_NOT_FOUND' } });
    }
  });

  it('refuses malformed input with the field at fault', async () => {
    expect(await list(offer({ meter: 'requests' }))).toMatchObject({
      status: 400,
      body: { code: 'BILLING.METER_NOT_RATABLE', details: [{ field: 'meter' }] },
    });
    expect(await list(offer({ rateCard: { model: 'volume', tiers: [] } }))).toMatchObject({
      status: 400,
      body: { code: 'BILLING.TIERS_REQUIRED', details: [{ field: 'rateCard.tiers' }] },
    });
    expect(await list(offer({ rateCard: 'flat' }))).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION.INVALID' },
    });
  });

  it('enforces roles and tenancy', async () => {
    // Finance may not list offers at all; auditors write nothing.
    expect(await list(offer(), finance)).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
    expect(await list(offer(), auditor)).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
    // Another tenant's account answers exactly as a missing one.
    expect(await list(offer(), prov2)).toMatchObject({ status: 404, body: { code: 'BILLING.ACCOUNT_NOT_FOUND' } });
    expect(await list(offer({ providerAccount: 'nobody' }), admin)).toMatchObject({ status: 403 });
    // A buyer-only account cannot provide.
    expect(await list(offer({ providerAccount: 'buyer-01' }), buyer)).toMatchObject({
      status: 422,
      body: { code: 'BILLING.ACCOUNT_NOT_PROVIDER' },
    });
  });

  it('withdraws for the owner or admin only; another tenant’s offer answers 404', async () => {
    expect((await list(offer({ offerId: 'off-w' }))).status).toBe(201);
    expect(await withdraw('off-w', prov2)).toMatchObject({ status: 404, body: { code: 'BILLING.OFFER_NOT_FOUND' } });
    expect(await withdraw('off-w', auditor)).toMatchObject({ status: 403 });
    expect(await withdraw('off-nope')).toMatchObject({ status: 404, body: { code: 'BILLING.OFFER_NOT_FOUND' } });
    const done = await withdraw('off-w', prov1, { reason: 'capacity sold' });
    expect(done).toMatchObject({ status: 200, body: { status: 'withdrawn', withdrawnAt: T0.toISOString() } });
    // Again: nothing recorded, the offer as it is.
    expect(await withdraw('off-w')).toMatchObject({ status: 200, body: { status: 'withdrawn' } });
    expect((await list(offer({ offerId: 'off-adm' }))).status).toBe(201);
    expect(await withdraw('off-adm', admin)).toMatchObject({ status: 200, body: { status: 'withdrawn' } });
  });

  it('pages through every offer with a cursor, and filters', async () => {
    expect((await list(offer({ offerId: 'off-p2', providerAccount: 'prov-02' }), prov2)).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`;
      const page = await call(running(), 'GET', `/v1/offers${q}`, buyer);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((o: { offerId: string }) => o.offerId));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(['off-a', 'off-adm', 'off-p2', 'off-w']);
    expect(pages).toBe(2);
    const active = await call(running(), 'GET', '/v1/offers?status=active&provider=prov-01', buyer);
    expect(active.body.items.map((o: { offerId: string }) => o.offerId)).toEqual(['off-a']);
    expect(await call(running(), 'GET', '/v1/offers?limit=0', buyer)).toMatchObject({
      status: 400,
      body: { code: 'PAGINATION.INVALID_LIMIT' },
    });
  });

  it('keeps the guidance it heard across a restart, and checks against a later floor rise', async () => {
    await stop(r);
    r = undefined;
    // A fresh bus carries nothing: whatever billing knows of guidance now comes from its own streams.
    r = await start(file, clock);
    expect(r.app.get(GuidanceView).bandAt(RC, 'cn-east-1', T0)?.versionId).toBe(`${RC}.cn-east-1.v1`);
    expect(await list(offer({ offerId: 'off-r', rateCard: { model: 'flat', unitPrice: '11.99' } }))).toMatchObject({
      status: 422,
      body: { code: 'BILLING.RATE_BELOW_FLOOR' },
    });
    // The national floor rises to 13 (v2): 12.50 no longer clears it.
    const v2 = await publishBand(r, { version: 2, floor: '13', tokenFloor: '0.02' });
    await waitFor(() => r?.app.get(GuidanceView).bandAt(RC, null, T0)?.versionId === v2, { what: 'v2' });
    expect(await list(offer({ offerId: 'off-r2' }))).toMatchObject({ status: 422 });
    expect(await list(offer({ offerId: 'off-r3', rateCard: { model: 'flat', unitPrice: '13' } }))).toMatchObject({
      status: 201,
      body: { floorPerUnit: '13', guidanceVersion: v2 },
    });
  });
});
