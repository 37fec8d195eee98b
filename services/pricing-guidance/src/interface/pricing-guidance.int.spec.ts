// Proves pricing guidance end to end over real HTTP and a real SQLite file: the starter catalog (once), catalog writes, issuing/amending/withdrawing bands and reading them at instants, the notice rule on a simulated clock, roles, refused input changing nothing, and that answers equal a fresh replay of the store.
import 'reflect-metadata';
import { join } from 'node:path';
import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { configureHttpApp } from '@cx/platform';
import { type Clock, SimulatedClock } from '@cx/shared-kernel';
import { tempDir, testHost, httpCall, type HttpReply, type HttpCallArgs } from '@cx/testing';
import { GuidanceProjection } from '../application/guidance.projection';
import { pricingGuidanceConfig } from '../config';
import { PricingGuidanceModule } from '../pricing-guidance.module';
import { PricingGuidanceService } from './pricing-guidance.service';

const MIN_NOTICE_MS = 60_000;
// No heartbeats here: they append in the background, and these tests assert that refused input leaves the store
// head where it was (heartbeats are tested in guidance-publication.int.spec.ts).
const config = pricingGuidanceConfig({
  minNoticeMs: MIN_NOTICE_MS,
  maxPropagationLagMs: 10_000,
  starterCatalog: true,
  heartbeatIntervalMs: 0,
});

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  url: string;
  adminKey: string | null;
}

// The host's part, as apps/exchange does it: the ports, globally, identity for keys, and the guard.
const hostModule = (store: EventStore, clock: Clock): DynamicModule =>
  testHost(store, clock, [IdentityModule, PricingGuidanceModule.forRoot(config)]);

const start = async (file: string, clock: Clock): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  const app = await NestFactory.create<NestFastifyApplication>(hostModule(store, clock), new FastifyAdapter(), {
    logger: false,
  });
  await configureHttpApp(app);
  const adminKey = await app.get(IdentityService).ensureAdminKey();
  await app.listen(0, '127.0.0.1');
  return { app, store, url: await app.getUrl(), adminKey };
};

const stop = async (r: Running): Promise<void> => {
  await r.app.close();
  await r.store.close();
};

// Status and body only: replies are compared whole (live against replay), and headers carry dates.
type Reply = Pick<HttpReply, 'status' | 'body'>;

const call = async (r: Running, ...args: HttpCallArgs): Promise<Reply> => {
  const { status, body } = await httpCall(r.url, ...args);
  return { status, body };
};

const catalogEvents = async (store: EventStore): Promise<number> => {
  let n = 0;
  for await (const _e of store.readAll({ filter: { streamNamePrefixes: ['resource-class-', 'region-'] } })) n += 1;
  return n;
};

const H100 = 'nvidia-h100-sxm-80g';
const T0 = new Date('2026-03-10T08:00:00Z');
const iso = (msAfterT0: number): string => new Date(T0.getTime() + msAfterT0).toISOString();
const HOUR = 3_600_000;

describe('pricing guidance over HTTP', () => {
  const dir = tempDir('cx-guidance-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(T0);
  let r: Running;
  let admin: string;
  let regulator: { key: string; keyId: string };
  let trader: string;

  beforeAll(async () => {
    r = await start(file, clock);
    admin = r.adminKey as string;
    const reg = await call(r, 'POST', '/v1/keys', admin, { role: 'regulator', label: 'NDRC price desk' });
    regulator = { key: reg.body.key, keyId: reg.body.keyId };
    await call(r, 'POST', '/v1/accounts', admin, { accountId: 'acme-01', legalName: 'Acme', kind: 'buyer' });
    trader = (await call(r, 'POST', '/v1/keys', admin, { role: 'trader', accounts: ['acme-01'] })).body.key;
  });

  afterAll(async () => {
    if (r) await stop(r);
    dir.remove();
  });

  it('loads the starter catalog on the first start only', async () => {
    const classes = await call(r, 'GET', '/v1/resource-classes?limit=500', trader);
    expect(classes.status).toBe(200);
    expect(classes.body.items.map((c: { resourceClassId: string }) => c.resourceClassId)).toEqual([
      'huawei-ascend-910b-64g',
      'huawei-ascend-910c-128g',
      'nvidia-a100-sxm-80g',
      'nvidia-h100-sxm-80g',
      'nvidia-h20-96g',
      'nvidia-h200-sxm-141g',
      'nvidia-l40s-48g',
    ]);
    expect(classes.body.items[3]).toEqual({
      resourceClassId: H100,
      vendor: 'NVIDIA',
      model: 'H100 SXM',
      memoryGiB: 80,
      interconnect: 'NVLink 4 (900 GB/s)',
      units: ['accelerator-hour', 'thousand-tokens'],
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
    });
    const regions = await call(r, 'GET', '/v1/regions', trader);
    expect(regions.body.items.map((x: { regionId: string }) => x.regionId)).toEqual([
      'cn-east-1',
      'cn-north-1',
      'cn-south-1',
      'cn-west-1',
    ]);
    const before = await catalogEvents(r.store);
    expect(before).toBe(11);
    await stop(r);
    r = await start(file, clock);
    expect(await catalogEvents(r.store)).toBe(before);
    expect((await call(r, 'GET', '/v1/resource-classes', trader)).body.items).toHaveLength(7);
  });

  it('lets admin add and amend catalog entries, pages the lists, and refuses everyone else', async () => {
    const created = await call(r, 'POST', '/v1/resource-classes', admin, {
      resourceClassId: 'nvidia-b200-sxm-192g',
      vendor: 'NVIDIA',
      model: 'B200 SXM',
      memoryGiB: 192,
      interconnect: 'NVLink 5',
    });
    expect(created).toMatchObject({
      status: 201,
      body: { resourceClassId: 'nvidia-b200-sxm-192g', units: ['accelerator-hour'] },
    });
    const amended = await call(r, 'PATCH', '/v1/resource-classes/nvidia-b200-sxm-192g', admin, {
      interconnect: 'NVLink 5 (1.8 TB/s)',
    });
    expect(amended).toMatchObject({ status: 200, body: { interconnect: 'NVLink 5 (1.8 TB/s)' } });
    expect((await call(r, 'GET', '/v1/resource-classes/nvidia-b200-sxm-192g', trader)).body).toEqual(amended.body);
    expect(
      await call(r, 'POST', '/v1/regions', admin, { regionId: 'cn-central-1', name: 'Central China (Wuhan)' }),
    ).toMatchObject({
      status: 201,
      body: { regionId: 'cn-central-1' },
    });
    expect(await call(r, 'PATCH', '/v1/regions/cn-central-1', admin, { name: 'Central China' })).toMatchObject({
      status: 200,
      body: { name: 'Central China' },
    });

    const first = await call(r, 'GET', '/v1/regions?limit=3', trader);
    expect(first.body.items.map((x: { regionId: string }) => x.regionId)).toEqual([
      'cn-central-1',
      'cn-east-1',
      'cn-north-1',
    ]);
    const second = await call(r, 'GET', `/v1/regions?limit=3&cursor=${first.body.nextCursor}`, trader);
    expect(second.body).toEqual({
      items: [expect.objectContaining({ regionId: 'cn-south-1' }), expect.objectContaining({ regionId: 'cn-west-1' })],
      nextCursor: null,
    });

    for (const key of [trader, regulator.key]) {
      expect(await call(r, 'POST', '/v1/regions', key, { regionId: 'cn-x-1', name: 'X' })).toMatchObject({
        status: 403,
        body: { code: 'AUTH.FORBIDDEN' },
      });
      expect(await call(r, 'PATCH', `/v1/resource-classes/${H100}`, key, { memoryGiB: 81 })).toMatchObject({
        status: 403,
      });
    }
  });

  it('issues, amends and withdraws bands and answers the band in force at any instant', async () => {
    // No band yet: no floor.
    expect(await call(r, 'GET', `/v1/guidance/${H100}`, trader)).toEqual({
      status: 200,
      body: { resourceClass: H100, region: null, at: T0.toISOString(), guidanceVersion: null, band: null },
    });

    const national = await call(r, 'POST', '/v1/guidance', regulator.key, {
      resourceClass: H100,
      floorPerAcceleratorHour: '12.5',
      floorPerThousandTokens: '0.0125',
      ceilingPerAcceleratorHour: '40',
      referencePrice: '18',
      effectiveFrom: iso(HOUR),
      reason: 'Quarterly floor review',
      documentRef: 'NDRC-2026-041',
    });
    expect(national).toEqual({
      status: 201,
      body: {
        bandId: H100,
        versionId: `${H100}.v1`,
        version: 1,
        kind: 'issued',
        resourceClass: H100,
        region: null,
        currency: 'CNY',
        floorPerAcceleratorHour: '12.50',
        floorPerThousandTokens: '0.0125',
        ceilingPerAcceleratorHour: '40.00',
        referencePrice: '18.00',
        effectiveFrom: iso(HOUR),
        effectiveTo: null,
        reason: 'Quarterly floor review',
        documentRef: 'NDRC-2026-041',
        issuedBy: { keyId: regulator.keyId, role: 'regulator' },
        issuedAt: T0.toISOString(),
        recordedAt: expect.any(String),
        previousVersionId: null,
      },
    });

    const regional = await call(r, 'POST', '/v1/guidance', regulator.key, {
      resourceClass: H100,
      region: 'cn-west-1',
      floorPerAcceleratorHour: '10',
      effectiveFrom: iso(2 * HOUR),
      effectiveTo: iso(48 * HOUR),
      reason: 'East-data-west-compute incentive',
      documentRef: 'NDRC-2026-043',
    });
    expect(regional).toMatchObject({
      status: 201,
      body: { bandId: `${H100}.cn-west-1`, versionId: `${H100}.cn-west-1.v1` },
    });

    const amended = await call(r, 'POST', `/v1/guidance/${H100}/amend`, regulator.key, {
      floorPerAcceleratorHour: '14',
      effectiveFrom: iso(24 * HOUR),
      reason: 'Demand spike',
      documentRef: 'NDRC-2026-044',
    });
    expect(amended).toMatchObject({
      status: 200,
      body: {
        versionId: `${H100}.v2`,
        kind: 'amended',
        previousVersionId: `${H100}.v1`,
        floorPerAcceleratorHour: '14.00',
        ceilingPerAcceleratorHour: '40.00',
      },
    });

    const withdrawn = await call(r, 'POST', `/v1/guidance/${H100}.cn-west-1/withdraw`, regulator.key, {
      effectiveAt: iso(30 * HOUR),
      reason: 'Incentive ended early',
      documentRef: 'NDRC-2026-045',
    });
    expect(withdrawn).toMatchObject({
      status: 200,
      body: { versionId: `${H100}.cn-west-1.v2`, kind: 'withdrawn', effectiveTo: iso(30 * HOUR) },
    });

    const versionAt = async (at: string, region?: string): Promise<string | null> =>
      (
        await call(
          r,
          'GET',
          `/v1/guidance/${H100}?at=${encodeURIComponent(at)}${region ? `&region=${region}` : ''}`,
          trader,
        )
      ).body.guidanceVersion;
    expect(await versionAt(iso(HOUR - 1))).toBeNull();
    expect(await versionAt(iso(HOUR))).toBe(`${H100}.v1`);
    expect(await versionAt(iso(HOUR), 'cn-west-1')).toBe(`${H100}.v1`);
    expect(await versionAt(iso(2 * HOUR), 'cn-west-1')).toBe(`${H100}.cn-west-1.v1`);
    expect(await versionAt(iso(2 * HOUR), 'cn-east-1')).toBe(`${H100}.v1`);
    expect(await versionAt(iso(24 * HOUR))).toBe(`${H100}.v2`);
    expect(await versionAt(iso(29 * HOUR), 'cn-west-1')).toBe(`${H100}.cn-west-1.v1`);
    expect(await versionAt(iso(30 * HOUR), 'cn-west-1')).toBe(`${H100}.v2`);
    // An offset other than Z names the same instant.
    expect(await versionAt('2026-03-10T17:00:00+08:00')).toBe(`${H100}.v1`);

    const history = await call(r, 'GET', `/v1/guidance/${H100}/history`, trader);
    expect(history.status).toBe(200);
    expect(
      history.body.items.map((v: { versionId: string; kind: string; issuedBy: { keyId: string; role: string } }) => [
        v.versionId,
        v.kind,
        v.issuedBy.keyId,
        v.issuedBy.role,
      ]),
    ).toEqual([
      [`${H100}.v1`, 'issued', regulator.keyId, 'regulator'],
      [`${H100}.cn-west-1.v1`, 'issued', regulator.keyId, 'regulator'],
      [`${H100}.v2`, 'amended', regulator.keyId, 'regulator'],
      [`${H100}.cn-west-1.v2`, 'withdrawn', regulator.keyId, 'regulator'],
    ]);
    expect(history.body.nextCursor).toBeNull();
    const page1 = await call(r, 'GET', `/v1/guidance/${H100}/history?limit=3`, trader);
    const page2 = await call(r, 'GET', `/v1/guidance/${H100}/history?limit=3&cursor=${page1.body.nextCursor}`, trader);
    expect([...page1.body.items, ...page2.body.items]).toEqual(history.body.items);
    expect(page2.body.nextCursor).toBeNull();
  });

  it('holds every change to the minimum notice, measured on the exchange clock', async () => {
    const body = {
      resourceClass: 'nvidia-h20-96g',
      floorPerAcceleratorHour: '6',
      effectiveFrom: new Date(clock.now().getTime() + MIN_NOTICE_MS - 1).toISOString(),
      reason: 'r',
      documentRef: 'd',
    };
    expect(await call(r, 'POST', '/v1/guidance', regulator.key, body)).toMatchObject({
      status: 400,
      body: { code: 'PRICING.NOTICE_TOO_SHORT', details: [{ field: 'effectiveFrom' }] },
    });
    const effectiveFrom = new Date(clock.now().getTime() + MIN_NOTICE_MS).toISOString();
    expect(await call(r, 'POST', '/v1/guidance', regulator.key, { ...body, effectiveFrom })).toMatchObject({
      status: 201,
    });
    // "Now" is the exchange clock: the band is not in force a millisecond early, and is from its instant on.
    clock.advance(MIN_NOTICE_MS - 1);
    expect((await call(r, 'GET', '/v1/guidance/nvidia-h20-96g', trader)).body.guidanceVersion).toBeNull();
    clock.advance(1);
    expect((await call(r, 'GET', '/v1/guidance/nvidia-h20-96g', trader)).body).toMatchObject({
      at: effectiveFrom,
      guidanceVersion: 'nvidia-h20-96g.v1',
      band: { floorPerAcceleratorHour: '6.00' },
    });
    // What was scheduled is now in the past: a withdrawal can no longer be dated before now.
    expect(
      await call(r, 'POST', '/v1/guidance/nvidia-h20-96g/withdraw', regulator.key, {
        effectiveAt: '2026-03-10T08:00:00Z',
        reason: 'r',
        documentRef: 'd',
      }),
    ).toMatchObject({ status: 400, body: { code: 'PRICING.EFFECTIVE_IN_PAST' } });
  });

  it.each([
    ['POST', '/v1/guidance'],
    ['POST', `/v1/guidance/${H100}/amend`],
    ['POST', `/v1/guidance/${H100}/withdraw`],
  ])('lets only the regulator %s %s', async (method, path) => {
    const head = await r.store.headPosition();
    const body = {
      resourceClass: H100,
      floorPerAcceleratorHour: '20',
      effectiveFrom: iso(100 * HOUR),
      reason: 'r',
      documentRef: 'd',
    };
    const payload = path.endsWith('/amend')
      ? { floorPerAcceleratorHour: '20', effectiveFrom: iso(100 * HOUR), reason: 'r', documentRef: 'd' }
      : path.endsWith('/withdraw')
        ? { reason: 'r', documentRef: 'd' }
        : body;
    for (const key of [trader, admin]) {
      expect(await call(r, method, path, key, payload)).toMatchObject({
        status: 403,
        body: { code: 'AUTH.FORBIDDEN' },
      });
    }
    expect(await call(r, method, path, null, payload)).toMatchObject({ status: 401 });
    expect(await r.store.headPosition()).toEqual(head);
  });

  it('refuses bad input with a code and the field, and records nothing', async () => {
    const head = await r.store.headPosition();
    const ok = {
      resourceClass: H100,
      region: 'cn-south-1',
      floorPerAcceleratorHour: '12',
      effectiveFrom: iso(100 * HOUR),
      reason: 'Review',
      documentRef: 'DOC-9',
    };
    const amendOk = { effectiveFrom: iso(100 * HOUR), reason: 'r', documentRef: 'd' };
    const cases: Array<[string, string, unknown, number, string, string]> = [
      [
        'POST',
        '/v1/guidance',
        { ...ok, floorPerAcceleratorHour: '-1' },
        400,
        'PRICING.FLOOR_NOT_POSITIVE',
        'floorPerAcceleratorHour',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, floorPerAcceleratorHour: '0' },
        400,
        'PRICING.FLOOR_NOT_POSITIVE',
        'floorPerAcceleratorHour',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, floorPerAcceleratorHour: 'cheap' },
        400,
        'PRICING.INVALID_PRICE',
        'floorPerAcceleratorHour',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, floorPerAcceleratorHour: 12 },
        400,
        'VALIDATION.INVALID',
        'floorPerAcceleratorHour',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, floorPerThousandTokens: '-0.01' },
        400,
        'PRICING.FLOOR_NOT_POSITIVE',
        'floorPerThousandTokens',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, ceilingPerAcceleratorHour: '11.99' },
        400,
        'PRICING.CEILING_BELOW_FLOOR',
        'ceilingPerAcceleratorHour',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, referencePrice: '11' },
        400,
        'PRICING.REFERENCE_OUTSIDE_BAND',
        'referencePrice',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, resourceClass: 'nvidia-h999' },
        422,
        'PRICING.UNKNOWN_RESOURCE_CLASS',
        'resourceClass',
      ],
      [
        'POST',
        '/v1/guidance',
        { ...ok, resourceClass: 'H100!' },
        400,
        'PRICING.INVALID_RESOURCE_CLASS',
        'resourceClass',
      ],
      ['POST', '/v1/guidance', { ...ok, region: 'mars-1' }, 422, 'PRICING.UNKNOWN_REGION', 'region'],
      ['POST', '/v1/guidance', { ...ok, currency: 'XYZ' }, 400, 'PRICING.INVALID_CURRENCY', 'currency'],
      [
        'POST',
        '/v1/guidance',
        { ...ok, effectiveFrom: '2026-03-01T00:00:00Z' },
        400,
        'PRICING.EFFECTIVE_IN_PAST',
        'effectiveFrom',
      ],
      ['POST', '/v1/guidance', { ...ok, effectiveFrom: 'next week' }, 400, 'PRICING.INVALID_INSTANT', 'effectiveFrom'],
      [
        'POST',
        '/v1/guidance',
        { ...ok, effectiveTo: iso(99 * HOUR) },
        400,
        'PRICING.EFFECTIVE_TO_BEFORE_FROM',
        'effectiveTo',
      ],
      ['POST', '/v1/guidance', { ...ok, reason: '' }, 400, 'PRICING.INVALID_REASON', 'reason'],
      ['POST', '/v1/guidance', { ...ok, documentRef: undefined }, 400, 'VALIDATION.INVALID', 'documentRef'],
      ['POST', '/v1/guidance', { ...ok, version: 7 }, 400, 'VALIDATION.INVALID', 'version'],
      [
        'POST',
        '/v1/guidance',
        { ...ok, resourceClass: 'nvidia-a100-sxm-80g', floorPerThousandTokens: '0.01' },
        422,
        'PRICING.UNIT_NOT_OFFERED',
        'floorPerThousandTokens',
      ],
      ['POST', '/v1/guidance', { ...ok, region: undefined }, 409, 'PRICING.BAND_EXISTS', 'resourceClass'],
      [
        'POST',
        `/v1/guidance/${H100}/amend`,
        { ...amendOk, floorPerAcceleratorHour: '41' },
        400,
        'PRICING.CEILING_BELOW_FLOOR',
        'ceilingPerAcceleratorHour',
      ],
      [
        'POST',
        `/v1/guidance/${H100}/amend`,
        { ...amendOk, effectiveFrom: undefined },
        400,
        'VALIDATION.INVALID',
        'effectiveFrom',
      ],
      ['POST', `/v1/guidance/${H100}/amend`, { ...amendOk, currency: 'USD' }, 400, 'VALIDATION.INVALID', 'currency'],
      [
        'POST',
        `/v1/guidance/${H100}/withdraw`,
        { reason: 'r', documentRef: 'd', effectiveAt: 'now' },
        400,
        'PRICING.INVALID_INSTANT',
        'effectiveAt',
      ],
      ['GET', `/v1/guidance/${H100}?at=yesterday`, undefined, 400, 'PRICING.INVALID_INSTANT', 'at'],
      ['GET', `/v1/guidance/${H100}?region=mars-1`, undefined, 422, 'PRICING.UNKNOWN_REGION', 'region'],
      ['GET', `/v1/guidance/${H100}?floor=1`, undefined, 400, 'VALIDATION.INVALID', 'floor'],
      ['GET', `/v1/guidance/${H100}/history?limit=0`, undefined, 400, 'PAGINATION.INVALID_LIMIT', 'limit'],
      [
        'POST',
        '/v1/resource-classes',
        { resourceClassId: 'x', vendor: 'v', model: 'm', memoryGiB: 1.5, interconnect: 'i' },
        400,
        'VALIDATION.INVALID',
        'memoryGiB',
      ],
      [
        'POST',
        '/v1/resource-classes',
        { resourceClassId: 'X Y', vendor: 'v', model: 'm', memoryGiB: 1, interconnect: 'i' },
        400,
        'PRICING.INVALID_RESOURCE_CLASS_ID',
        'resourceClassId',
      ],
      [
        'POST',
        '/v1/resource-classes',
        { resourceClassId: H100, vendor: 'v', model: 'm', memoryGiB: 1, interconnect: 'i' },
        409,
        'PRICING.RESOURCE_CLASS_EXISTS',
        'resourceClassId',
      ],
      [
        'POST',
        '/v1/resource-classes',
        { resourceClassId: 'x-1', vendor: 'v', model: 'm', memoryGiB: 1, interconnect: 'i', units: ['gpu-day'] },
        400,
        'PRICING.INVALID_UNITS',
        'units',
      ],
      ['PATCH', `/v1/resource-classes/${H100}`, {}, 400, 'PRICING.EMPTY_AMENDMENT', 'body'],
      ['POST', '/v1/regions', { regionId: 'east', name: 'East' }, 400, 'PRICING.INVALID_REGION_ID', 'regionId'],
    ];
    for (const [method, path, body, status, code, field] of cases) {
      const key = path.startsWith('/v1/guidance') ? regulator.key : admin;
      const res = await call(r, method, path, key, body);
      const what = `${method} ${path} ${JSON.stringify(body)}`;
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status, code });
      expect({ what, fields: res.body.details.map((d: { field: string }) => d.field) }).toEqual({
        what,
        fields: expect.arrayContaining([field]),
      });
    }
    expect(await call(r, 'POST', '/v1/guidance/nvidia-h200-sxm-141g/amend', regulator.key, amendOk)).toMatchObject({
      status: 404,
      body: { code: 'PRICING.BAND_NOT_FOUND' },
    });
    expect(
      await call(r, 'POST', '/v1/guidance/not a band/withdraw', regulator.key, { reason: 'r', documentRef: 'd' }),
    ).toMatchObject({
      status: 404,
      body: { code: 'PRICING.BAND_NOT_FOUND' },
    });
    expect(await call(r, 'POST', `/v1/guidance/${H100}.cn-west-1/amend`, regulator.key, amendOk)).toMatchObject({
      status: 409,
      body: { code: 'PRICING.BAND_WITHDRAWN' },
    });
    expect(await call(r, 'GET', '/v1/guidance/nvidia-h999', trader)).toMatchObject({
      status: 404,
      body: { code: 'PRICING.RESOURCE_CLASS_NOT_FOUND' },
    });
    expect(await r.store.headPosition()).toEqual(head);
  });

  it('answers exactly as a projection rebuilt by replaying the store', async () => {
    const projection = new GuidanceProjection(r.store);
    const replayed = new PricingGuidanceService(r.store, clock, config, projection);
    await projection.ready();
    try {
      for (const rc of [H100, 'nvidia-h20-96g', 'nvidia-a100-sxm-80g']) {
        const history = await call(r, 'GET', `/v1/guidance/${rc}/history?limit=500`, trader);
        expect(history.body).toEqual(JSON.parse(JSON.stringify(replayed.history(rc, { limit: '500' }))));
        for (const region of [undefined, 'cn-west-1', 'cn-east-1']) {
          for (const hours of [0, 1, 2, 24, 29, 30, 48, 100]) {
            const at = iso(hours * HOUR);
            const q = `at=${encodeURIComponent(at)}${region ? `&region=${region}` : ''}`;
            const live = await call(r, 'GET', `/v1/guidance/${rc}?${q}`, trader);
            expect(live.body).toEqual(JSON.parse(JSON.stringify(replayed.bandAt(rc, { at, region }))));
          }
        }
      }
      expect((await call(r, 'GET', '/v1/resource-classes?limit=500', trader)).body).toEqual(
        JSON.parse(JSON.stringify(replayed.listResourceClasses({ limit: '500' }))),
      );
    } finally {
      await projection.stop();
    }
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = (await call(r, 'GET', '/openapi.json', null)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/resource-classes',
        '/v1/resource-classes/{id}',
        '/v1/regions',
        '/v1/regions/{id}',
        '/v1/guidance',
        '/v1/guidance/{id}/amend',
        '/v1/guidance/{id}/withdraw',
        '/v1/guidance/{resourceClass}',
        '/v1/guidance/{resourceClass}/history',
      ]),
    );
    expect(doc.components.schemas.IssueBandDto.required).toEqual(
      expect.arrayContaining(['resourceClass', 'floorPerAcceleratorHour', 'effectiveFrom', 'reason', 'documentRef']),
    );
  });
});

describe('first start of two apps on one store at once', () => {
  const dir = tempDir('cx-guidance-race-');

  afterAll(() => dir.remove());

  it('loads the starter catalog exactly once', async () => {
    const clock = new SimulatedClock(T0);
    const both = await Promise.all([0, 1].map(() => start(join(dir.path, 'cx.sqlite'), clock)));
    try {
      expect(await catalogEvents(both[0]!.store)).toBe(11);
    } finally {
      for (const b of both) await stop(b);
    }
  });
});
