// Proves metering over real HTTP and a real SQLite file: starter meters (once), the usage validation table with per-event codes where refused events store nothing and accepted ones in the same batch are kept, tenancy from allocations heard on the bus, exactly-once by (source, id) under concurrent repeats and within one batch (claimed in one transaction), CloudEvents content types, aggregates equal to a recomputation from the stored events, late usage before and after a period close heard on the bus, and amend/void (tenancy, codes, aggregates, relay).
import 'reflect-metadata';
import { join } from 'node:path';
import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createEvent, decodeEvent, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import {
  type EventStore,
  openEventStore,
  type RecordedEvent,
  SqliteEventStore,
  StoreUnavailable,
} from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { type BusLogger, InProcessBus, MessagingModule } from '@cx/messaging';
import { configureHttpApp } from '@cx/platform';
import { type Clock, Dec, SimulatedClock } from '@cx/shared-kernel';
import { tempDir, waitFor, testHost, httpCall, type HttpReply, type HttpCallArgs, withStoreFaults } from '@cx/testing';
import { meteringConfig } from '../config';
import type { UsageRecordedData } from '../domain/usage/usage.events';
import {
  ALLOCATIONS_TOPIC,
  meteringTopicSpecs,
  PERIODS_TOPIC,
  USAGE_TOPIC,
  usageRelayRoute,
} from '../infrastructure/metering-integration';
import { MeteringModule } from '../metering.module';
import { MeteringService } from './metering.service';

const MAX_BATCH = 50;
const config = meteringConfig({ maxBatch: MAX_BATCH, seedMeters: true });
const quiet: BusLogger = { warn: () => undefined, error: () => undefined };

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  bus: InProcessBus;
  url: string;
  adminKey: string | null;
}

// The host's part, as apps/exchange does it: the ports globally, the bus, identity for keys, and the guard.
const hostModule = (store: EventStore, clock: Clock, bus: InProcessBus): DynamicModule =>
  testHost(store, clock, [MessagingModule.forBus(bus), IdentityModule, MeteringModule.forRoot(config)]);

const start = async (file: string, clock: Clock, wrap = (s: EventStore): EventStore => s): Promise<Running> => {
  const store = wrap(await openEventStore(`sqlite:${file}`));
  const bus = new InProcessBus({ logger: quiet });
  await bus.declareTopics([{ name: ALLOCATIONS_TOPIC, partitions: 2 }, ...meteringTopicSpecs]);
  const app = await NestFactory.create<NestFastifyApplication>(hostModule(store, clock, bus), new FastifyAdapter(), {
    logger: false,
  });
  await configureHttpApp(app);
  const adminKey = await app.get(IdentityService).ensureAdminKey();
  await app.listen(0, '127.0.0.1');
  return { app, store, bus, url: await app.getUrl(), adminKey };
};

const stop = async (r: Running): Promise<void> => {
  await r.app.close();
  await r.bus.close();
  await r.store.close();
};

type Reply = HttpReply;

const call = (r: Running, ...args: HttpCallArgs): Promise<Reply> => httpCall(r.url, ...args);

const usageEvents = async (store: EventStore): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll({ filter: { streamNamePrefixes: ['usage-'] } })) out.push(e);
  return out;
};

const T0 = new Date('2026-03-10T08:00:00Z');
const ALLOC = 'alloc-0001';
const OTHER_ALLOC = 'alloc-0002';

const publishAllocation = async (r: Running, allocationId: string, provider: string, buyer: string) => {
  const ev = createEvent(ALLOCATIONS_TOPIC, {
    envelope: {
      eventId: `evt-${allocationId}`,
      aggregateId: allocationId,
      occurredAt: timestampFromDate(T0),
      correlationId: `corr-${allocationId}`,
      causationId: `corr-${allocationId}`,
      source: { streamId: `book-test`, streamRevision: 0n },
    },
    event: {
      case: 'allocationCreated',
      value: {
        allocationId,
        tradeId: `trade-${allocationId}`,
        instrumentId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10',
        resourceClass: 'nvidia-h100-sxm-80g',
        region: 'cn-east-1',
        providerAccountId: provider,
        buyerAccountId: buyer,
        quantity: '10',
        price: { amount: '12.5', currency: 'CNY' },
        deliveryStart: timestampFromDate(T0),
        deliveryEnd: timestampFromDate(new Date(T0.getTime() + 86_400_000)),
      },
    },
  });
  await r.bus.publish(ALLOCATIONS_TOPIC, [toKafkaRecord(ALLOCATIONS_TOPIC, ev)]);
};

let seq = 0;
const usage = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: `evt-${(seq += 1)}`,
  source: '//provider.example/gpu-agent',
  type: 'com.cx.usage.v1',
  subject: ALLOC,
  time: '2026-03-10T08:30:15Z',
  data: { meter: 'accelerator_seconds', quantity: '60', ...data },
  ...over,
});

const without = (o: Record<string, unknown>, key: string) => {
  const { [key]: _drop, ...rest } = o;
  return rest;
};

describe('metering over HTTP', () => {
  const dir = tempDir('cx-metering-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(T0);
  let r: Running;
  let admin: string;
  let provider: string;
  let buyer: string;
  let stranger: string;

  beforeAll(async () => {
    clock.set(new Date('2026-03-10T09:00:00Z'));
    r = await start(file, clock);
    admin = r.adminKey as string;
    for (const [accountId, kind] of [
      ['prov-01', 'provider'],
      ['buyer-01', 'buyer'],
      ['other-01', 'provider'],
    ] as const) {
      await call(r, 'POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind });
    }
    const key = async (account: string) =>
      (await call(r, 'POST', '/v1/keys', admin, { role: 'integrator', accounts: [account] })).body.key as string;
    provider = await key('prov-01');
    buyer = await key('buyer-01');
    stranger = await key('other-01');
    await publishAllocation(r, ALLOC, 'prov-01', 'buyer-01');
    await publishAllocation(r, OTHER_ALLOC, 'other-01', 'buyer-01');
    // Redelivery is harmless: the allocation is recorded once.
    await publishAllocation(r, ALLOC, 'prov-01', 'buyer-01');
    const metering = r.app.get(MeteringService);
    await waitFor(() => metering.hasAllocation(ALLOC) && metering.hasAllocation(OTHER_ALLOC), { what: 'allocations' });
  });

  afterAll(async () => {
    if (r) await stop(r);
    dir.remove();
  });

  it('seeds the starter meters once and lets admin define more', async () => {
    const list = await call(r, 'GET', '/v1/meters', admin);
    expect(list.status).toBe(200);
    const keys = list.body.items.map((m: { key: string }) => m.key);
    expect(keys).toEqual(expect.arrayContaining(['accelerator_seconds', 'tokens_in', 'tokens_out']));
    const created = await call(r, 'POST', '/v1/meters', admin, {
      key: 'kv_cache_gib',
      unit: 'GiB',
      aggregation: 'LATEST',
      billable: false,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: 'kv_cache_gib', aggregation: 'LATEST', valueField: null });
    const again = await call(r, 'POST', '/v1/meters', admin, {
      key: 'kv_cache_gib',
      unit: 'GiB',
      aggregation: 'SUM',
      billable: false,
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('METERING.METER_EXISTS');
    const unique = await call(r, 'POST', '/v1/meters', admin, {
      key: 'x_unique',
      unit: 'u',
      aggregation: 'UNIQUE_COUNT',
      billable: false,
    });
    expect(unique.body.code).toBe('METERING.VALUE_FIELD_REQUIRED');
    // Any key reads the meters (an integrator publishes usage by them); only admin defines one.
    const read = await call(r, 'GET', '/v1/meters', provider);
    expect(read.status).toBe(200);
    expect(read.body).toEqual((await call(r, 'GET', '/v1/meters', admin)).body);
    expect(
      (await call(r, 'POST', '/v1/meters', provider, { key: 'y', unit: 'u', aggregation: 'SUM', billable: true }))
        .status,
    ).toBe(403);
  });

  it('answers a batch per event: refused events store nothing, accepted ones are kept', async () => {
    const base = usage();
    // Ordered by which check wins.
    const table: [string, unknown, string, string][] = [
      ['not an object', 'hello', 'METERING.INVALID_EVENT', ''],
      ['no specversion', without(usage(), 'specversion'), 'METERING.MISSING_FIELD', 'specversion'],
      ['wrong specversion', usage({ specversion: '0.3' }), 'METERING.UNSUPPORTED_SPECVERSION', 'specversion'],
      ['no id', without(usage(), 'id'), 'METERING.MISSING_FIELD', 'id'],
      ['empty id', usage({ id: '' }), 'METERING.MISSING_FIELD', 'id'],
      ['no source', without(usage(), 'source'), 'METERING.MISSING_FIELD', 'source'],
      ['no type', without(usage(), 'type'), 'METERING.MISSING_FIELD', 'type'],
      ['no subject', without(usage(), 'subject'), 'METERING.MISSING_FIELD', 'subject'],
      ['no time', without(usage(), 'time'), 'METERING.MISSING_FIELD', 'time'],
      ['time not RFC 3339', usage({ time: '10/03/2026 08:00' }), 'METERING.INVALID_TIME', 'time'],
      ['no data', without(usage(), 'data'), 'METERING.MISSING_FIELD', 'data'],
      ['no meter', usage({}, { meter: undefined }), 'METERING.MISSING_FIELD', 'data.meter'],
      ['unknown meter', usage({}, { meter: 'bogus' }), 'METERING.UNKNOWN_METER', 'data.meter'],
      ['no quantity', usage({}, { quantity: undefined }), 'METERING.MISSING_FIELD', 'data.quantity'],
      ['quantity a number', usage({}, { quantity: 60 }), 'METERING.NOT_A_DECIMAL_STRING', 'data.quantity'],
      ['quantity not decimal', usage({}, { quantity: '1e3' }), 'METERING.MALFORMED_DECIMAL', 'data.quantity'],
      ['negative quantity', usage({}, { quantity: '-1' }), 'METERING.NEGATIVE_QUANTITY', 'data.quantity'],
      [
        'unique meter without its dimension',
        usage({}, { meter: 'active_models' }),
        'METERING.MISSING_FIELD',
        'data.dimensions.model',
      ],
      ['future time', usage({ time: '2026-03-10T09:05:01Z' }), 'METERING.FUTURE_TIME', 'time'],
      ['too old', usage({ time: '2026-02-01T00:00:00Z' }), 'METERING.TOO_OLD', 'time'],
      ['another tenant’s allocation', usage({ subject: OTHER_ALLOC }), 'METERING.SUBJECT_NOT_FOUND', 'subject'],
      ['unknown allocation', usage({ subject: 'alloc-nope' }), 'METERING.SUBJECT_NOT_FOUND', 'subject'],
      [
        'an account not ours',
        usage({ subject: 'other-01' }, { offerId: 'offer-1' }),
        'METERING.SUBJECT_NOT_FOUND',
        'subject',
      ],
    ];
    const good = [base, usage({ time: '2026-03-10T09:04:59Z' }), usage({}, { meter: 'tokens_in', quantity: '0' })];
    const before = (await usageEvents(r.store)).length;
    const res = await call(r, 'POST', '/v1/usage', provider, [...good, ...table.map((t) => t[1])]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: good.length, duplicates: 0, rejected: table.length });
    expect(res.body.results.slice(0, good.length).map((x: { status: string }) => x.status)).toEqual(
      good.map(() => 'accepted'),
    );
    table.forEach(([what, , code, field], i) => {
      const got = res.body.results[good.length + i];
      expect({ what, status: got.status, code: got.code, field: got.field }).toEqual({
        what,
        status: 'rejected',
        code,
        field,
      });
    });
    const stored = (await usageEvents(r.store)).slice(before);
    expect(stored.map((e) => (e.data as UsageRecordedData).id).sort()).toEqual(good.map((g) => g.id).sort());
    expect((stored[0]?.data as UsageRecordedData).reporterRole).toBe('provider');
  });

  it('refuses whole requests it cannot read, and a single event answers with a status', async () => {
    const before = (await usageEvents(r.store)).length;
    const tooMany = Array.from({ length: MAX_BATCH + 1 }, () => usage());
    const big = await call(r, 'POST', '/v1/usage', provider, tooMany);
    expect([big.status, big.body.code]).toEqual([400, 'METERING.BATCH_TOO_LARGE']);
    const empty = await call(r, 'POST', '/v1/usage', provider, []);
    expect([empty.status, empty.body.code]).toEqual([400, 'METERING.EMPTY_BATCH']);
    const malformed = await call(r, 'POST', '/v1/usage', provider, undefined, { raw: '[{"id": ' });
    expect([malformed.status, malformed.body.code]).toEqual([400, 'HTTP.MALFORMED_BODY']);
    const malformedBatch = await call(r, 'POST', '/v1/usage', provider, undefined, {
      raw: '[{"id": ',
      contentType: 'application/cloudevents-batch+json',
    });
    expect([malformedBatch.status, malformedBatch.body.code]).toEqual([400, 'HTTP.MALFORMED_BODY']);
    const text = await call(r, 'POST', '/v1/usage', provider, undefined, { raw: 'x', contentType: 'text/plain' });
    expect([text.status, text.body.code]).toEqual([415, 'HTTP.UNSUPPORTED_MEDIA_TYPE']);
    const notArray = await call(r, 'POST', '/v1/usage', provider, usage(), {
      contentType: 'application/cloudevents-batch+json',
    });
    expect([notArray.status, notArray.body.code]).toEqual([400, 'METERING.BATCH_NOT_ARRAY']);
    const wrongTenant = await call(r, 'POST', '/v1/usage', stranger, usage());
    expect([wrongTenant.status, wrongTenant.body.code]).toEqual([404, 'METERING.SUBJECT_NOT_FOUND']);
    const invalid = await call(r, 'POST', '/v1/usage', provider, usage({}, { quantity: '-2' }));
    expect(invalid.status).toBe(400);
    expect(invalid.body.details).toEqual([{ field: 'data.quantity', code: 'METERING.NEGATIVE_QUANTITY' }]);
    expect((await call(r, 'POST', '/v1/usage', admin.slice(0, 5), usage())).status).toBe(401);
    expect((await usageEvents(r.store)).length).toBe(before);

    const single = usage();
    const first = await call(r, 'POST', '/v1/usage', provider, single, { contentType: 'application/cloudevents+json' });
    expect([first.status, first.body.status]).toEqual([201, 'accepted']);
    const again = await call(r, 'POST', '/v1/usage', provider, single);
    expect([again.status, again.body.status]).toEqual([200, 'duplicate']);
    const changed = await call(r, 'POST', '/v1/usage', provider, {
      ...single,
      data: { ...single.data, quantity: '61' },
    });
    expect([changed.status, changed.body.code]).toEqual([409, 'METERING.CONFLICT']);
    // The buyer's reading of the same allocation is kept, as evidence.
    const fromBuyer = await call(r, 'POST', '/v1/usage', buyer, usage({ source: '//buyer.example/agent' }));
    expect(fromBuyer.status).toBe(201);
    expect((await usageEvents(r.store)).length).toBe(before + 2);
  });

  it('counts the same batch posted three times concurrently once', async () => {
    const batch = Array.from({ length: MAX_BATCH }, (_, i) =>
      usage({ time: new Date(Date.parse('2026-03-10T06:00:00Z') + i * 97_000).toISOString() }, { quantity: `${i}.5` }),
    );
    const before = (await usageEvents(r.store)).length;
    const replies = await Promise.all(
      [1, 2, 3].map(() =>
        call(r, 'POST', '/v1/usage', provider, undefined, {
          raw: JSON.stringify(batch),
          contentType: 'application/cloudevents-batch+json',
        }),
      ),
    );
    for (const reply of replies) expect(reply.status).toBe(200);
    expect(replies.reduce((n, x) => n + (x.body.accepted as number), 0)).toBe(MAX_BATCH);
    expect(replies.reduce((n, x) => n + (x.body.duplicates as number), 0)).toBe(2 * MAX_BATCH);
    expect(replies.every((x) => x.body.rejected === 0)).toBe(true);
    expect((await usageEvents(r.store)).length).toBe(before + MAX_BATCH);
  });

  it('claims a whole batch in one transaction, and counts a repeat inside the batch once', async () => {
    // The SQLite adapter's group commit counts its transactions; this host runs no relay, so nothing else writes.
    if (!(r.store instanceof SqliteEventStore)) throw new TypeError('this test needs the SQLite store');
    const stats = r.store.stats;
    const first = usage();
    const others = Array.from({ length: 10 }, () => usage());
    const changed = { ...first, data: { ...first.data, quantity: '61' } };
    const before = { commits: stats.commits, appends: stats.appends, events: (await usageEvents(r.store)).length };
    const res = await call(r, 'POST', '/v1/usage', provider, [first, ...others, { ...first }, changed]);
    expect(res.body).toMatchObject({ accepted: 11, duplicates: 1, rejected: 1 });
    expect(res.body.results[11]).toMatchObject({ status: 'duplicate', id: first.id });
    expect(res.body.results[12]).toMatchObject({ status: 'rejected', code: 'METERING.CONFLICT', field: 'id' });
    // Every claim of the batch went into one write transaction, where the repeats failed on their own.
    expect([stats.commits - before.commits, stats.appends - before.appends]).toEqual([1, 13]);
    expect((await usageEvents(r.store)).length).toBe(before.events + 11);
  });

  it('aggregates equal a recomputation from the stored events', async () => {
    const stored = (await usageEvents(r.store)).map((e) => e.data as UsageRecordedData);
    const recompute = (meter: string, roles: string[] | null, window: (t: Date) => string) => {
      const sums = new Map<string, Dec>();
      for (const d of stored) {
        if (d.subject !== ALLOC || d.meter !== meter || (roles && !roles.includes(d.reporterRole))) continue;
        const k = window(new Date(d.time));
        sums.set(k, (sums.get(k) ?? new Dec(0)).add(d.quantity));
      }
      return [...sums.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([label, v]) => ({ label, value: v.toFixed() }));
    };
    const q = (extra: string) =>
      call(
        r,
        'GET',
        `/v1/usage/aggregate?subject=${ALLOC}&meter=accelerator_seconds&from=2026-03-09T00:00:00Z&to=2026-03-11T00:00:00Z${extra}`,
        provider,
      );
    const hourly = await q('&window=hour');
    expect(hourly.status).toBe(200);
    expect(
      hourly.body.windows.map((w: { label: string; value: string }) => ({ label: w.label, value: w.value })),
    ).toEqual(recompute('accelerator_seconds', null, (t) => `${t.toISOString().slice(0, 13)}:00`));
    const shanghaiDays = await q('&window=day&tz=Asia/Shanghai&reporter=provider');
    expect(
      shanghaiDays.body.windows.map((w: { label: string; value: string }) => ({ label: w.label, value: w.value })),
    ).toEqual(
      recompute('accelerator_seconds', ['provider'], (t) =>
        new Date(t.getTime() + 8 * 3_600_000).toISOString().slice(0, 10),
      ),
    );
    expect(shanghaiDays.body.windows[0].start).toBe('2026-03-09T16:00:00.000Z');
    expect((await q('&window=week')).body.code).toBe('METERING.INVALID_WINDOW');
    expect((await q('&tz=Mars/Olympus')).body.code).toBe('METERING.INVALID_TZ');
    const strangers = await call(
      r,
      'GET',
      `/v1/usage/aggregate?subject=${ALLOC}&meter=accelerator_seconds&from=2026-03-09T00:00:00Z&to=2026-03-11T00:00:00Z`,
      stranger,
    );
    expect([strangers.status, strangers.body.code]).toEqual([404, 'METERING.SUBJECT_NOT_FOUND']);
  });

  it('relays accepted usage per the contract, keyed by subject', async () => {
    const [e] = (await usageEvents(r.store)).slice(-1);
    const msg = usageRelayRoute.toMessage(e as RecordedEvent);
    expect(msg && !Array.isArray(msg) ? msg : null).toMatchObject({ topic: USAGE_TOPIC, message: { key: ALLOC } });
    const m = msg as { message: { value: Buffer } };
    const decoded = decodeEvent(USAGE_TOPIC, m.message.value);
    expect(decoded.event.case).toBe('usageRecorded');
  });

  const publishPeriodClosed = async (period: string, start: string, end: string) => {
    const ev = createEvent(PERIODS_TOPIC, {
      envelope: {
        eventId: `evt-close-${period}`,
        aggregateId: period,
        occurredAt: timestampFromDate(clock.now()),
        correlationId: `corr-close-${period}`,
        causationId: `corr-close-${period}`,
        source: { streamId: `period-${period}`, streamRevision: 1n },
      },
      event: {
        case: 'periodClosed',
        value: { period, kind: 1, start: timestampFromDate(new Date(start)), end: timestampFromDate(new Date(end)) },
      },
    });
    await r.bus.publish(PERIODS_TOPIC, [toKafkaRecord(PERIODS_TOPIC, ev)]);
  };

  it('accepts usage for a closed period as late, and only after the close is heard', async () => {
    const before = usage({ time: '2026-03-09T12:00:00Z' });
    const first = await call(r, 'POST', '/v1/usage', provider, [before]);
    expect(first.body.results[0]).toMatchObject({ status: 'accepted', late: false });
    // Heard twice (redelivery): recorded once.
    await publishPeriodClosed('2026-03-09', '2026-03-09T00:00:00Z', '2026-03-10T00:00:00Z');
    await publishPeriodClosed('2026-03-09', '2026-03-09T00:00:00Z', '2026-03-10T00:00:00Z');
    const metering = r.app.get(MeteringService);
    await waitFor(() => metering.isPeriodClosed('2026-03-09'), { what: 'the close heard' });
    const after = usage({ time: '2026-03-09T13:00:00Z' });
    const today = usage({ time: '2026-03-10T08:00:00Z' });
    const second = await call(r, 'POST', '/v1/usage', provider, [after, today, before]);
    expect(second.body.results.map((x: { status: string; late: boolean }) => [x.status, x.late])).toEqual([
      ['accepted', true],
      ['accepted', false],
      // A duplicate answers with what was stored: accepted on time.
      ['duplicate', false],
    ]);
    const single = await call(r, 'POST', '/v1/usage', provider, usage({ time: '2026-03-09T23:59:59.999Z' }));
    expect([single.status, single.body.late]).toEqual([201, true]);
    const periods: RecordedEvent[] = [];
    for await (const e of r.store.readAll({ filter: { streamNamePrefixes: ['metering-period-'] } })) periods.push(e);
    expect(periods.map((e) => e.type)).toEqual(['PeriodClosedHeard']);
    const stored = (await usageEvents(r.store)).find((e) => (e.data as UsageRecordedData).id === after.id);
    expect((stored?.data as UsageRecordedData).late).toBe(true);
    const msg = usageRelayRoute.toMessage(stored as RecordedEvent) as { message: { value: Buffer } };
    const decoded = decodeEvent(USAGE_TOPIC, msg.message.value);
    expect(decoded.event.case === 'usageRecorded' && decoded.event.value.late).toBe(true);
  });

  it('amends and voids usage: the original is kept, aggregates follow the latest state, others get 404', async () => {
    const minute = '2026-03-10T07:10:00Z';
    const a = usage({ time: '2026-03-10T07:10:05Z' }, { quantity: '100' });
    const b = usage({ time: '2026-03-10T07:10:30Z' }, { quantity: '50' });
    expect((await call(r, 'POST', '/v1/usage', provider, [a, b])).body.accepted).toBe(2);
    const path = (u: { source: string; id: string }, action: string) =>
      `/v1/usage/${encodeURIComponent(u.source)}/${encodeURIComponent(u.id)}/${action}`;
    const minuteValue = async () => {
      const res = await call(
        r,
        'GET',
        `/v1/usage/aggregate?subject=${ALLOC}&meter=accelerator_seconds&from=${minute}&to=2026-03-10T07:11:00Z&window=minute&reporter=provider`,
        provider,
      );
      const w = res.body.windows[0] as { value: string; events: number } | undefined;
      return w ? [w.value, w.events] : ['0', 0];
    };
    expect(await minuteValue()).toEqual(['150', 2]);

    // Ordered by which check wins: not yours or not there (404) before anything about the body.
    const refusals: [string, string, string, unknown, number, string, string | undefined][] = [
      ['the buyer', buyer, path(a, 'amend'), { quantity: '-1' }, 404, 'METERING.USAGE_NOT_FOUND', undefined],
      ['a stranger', stranger, path(a, 'void'), { reason: 'x' }, 404, 'METERING.USAGE_NOT_FOUND', undefined],
      [
        'no such usage',
        provider,
        path({ source: a.source, id: 'nope' }, 'amend'),
        { quantity: '1', reason: 'x' },
        404,
        'METERING.USAGE_NOT_FOUND',
        undefined,
      ],
      ['no reason', provider, path(a, 'amend'), { quantity: '70' }, 400, 'METERING.MISSING_FIELD', 'reason'],
      [
        'negative quantity',
        provider,
        path(a, 'amend'),
        { quantity: '-1', reason: 'x' },
        400,
        'METERING.NEGATIVE_QUANTITY',
        'quantity',
      ],
      [
        'quantity a number',
        provider,
        path(a, 'amend'),
        { quantity: 70, reason: 'x' },
        400,
        'METERING.NOT_A_DECIMAL_STRING',
        'quantity',
      ],
      [
        'same quantity',
        provider,
        path(a, 'amend'),
        { quantity: '100', reason: 'x' },
        422,
        'METERING.NO_CHANGE',
        'quantity',
      ],
    ];
    for (const [what, key, p, body, status, code, field] of refusals) {
      const res = await call(r, 'POST', p, key, body);
      expect({ what, status: res.status, code: res.body.code, field: res.body.details?.[0]?.field }).toEqual({
        what,
        status,
        code,
        field,
      });
    }
    expect(await minuteValue()).toEqual(['150', 2]);

    const amended = await call(r, 'POST', path(a, 'amend'), provider, { quantity: '70', reason: 'agent restart' });
    expect([amended.status, amended.body]).toEqual([
      200,
      { source: a.source, id: a.id, outcome: 'amended', quantity: '70', voided: false, late: false },
    ]);
    const repeated = await call(r, 'POST', path(a, 'amend'), provider, { quantity: '70', reason: 'agent restart' });
    expect(repeated.body.outcome).toBe('unchanged');
    expect(await minuteValue()).toEqual(['120', 2]);

    const voided = await call(r, 'POST', path(b, 'void'), admin, { reason: 'test traffic' });
    expect(voided.body).toMatchObject({ outcome: 'voided', quantity: '0', voided: true });
    expect(await minuteValue()).toEqual(['70', 1]);
    const amendVoid = await call(r, 'POST', path(b, 'amend'), provider, { quantity: '1', reason: 'x' });
    expect([amendVoid.status, amendVoid.body.code]).toEqual([409, 'METERING.USAGE_VOIDED']);
    // The integrator's retry of the original event is still a duplicate, not a new reading.
    const retry = await call(r, 'POST', '/v1/usage', provider, [a, b]);
    expect(retry.body.duplicates).toBe(2);
    expect(await minuteValue()).toEqual(['70', 1]);

    // History is kept: the original first, then the corrections pointing at it, published on the usage topic.
    const streamOf = async (u: { source: string; id: string }) => {
      const all: RecordedEvent[] = [];
      for await (const e of r.store.readAll({ filter: { streamNamePrefixes: ['usage-'] } })) {
        const d = e.data as { source: string; id: string };
        if (d.source === u.source && d.id === u.id) all.push(e);
      }
      return all;
    };
    const aEvents = await streamOf(a);
    expect(aEvents.map((e) => [e.type, (e.data as { quantity: string }).quantity])).toEqual([
      ['UsageRecorded', '100'],
      ['UsageAmended', '70'],
    ]);
    const amendMsg = usageRelayRoute.toMessage(aEvents[1] as RecordedEvent) as {
      message: { key: string; value: Buffer };
    };
    expect(amendMsg.message.key).toBe(ALLOC);
    const amendDecoded = decodeEvent(USAGE_TOPIC, amendMsg.message.value);
    expect(amendDecoded.event.case).toBe('usageAmended');
    expect(amendDecoded.event.value).toMatchObject({
      ref: { source: a.source, id: a.id },
      quantity: '70',
      previousQuantity: '100',
      reason: 'agent restart',
    });
    const bEvents = await streamOf(b);
    const voidMsg = usageRelayRoute.toMessage(bEvents[1] as RecordedEvent) as { message: { value: Buffer } };
    expect(decodeEvent(USAGE_TOPIC, voidMsg.message.value).event).toMatchObject({
      case: 'usageVoided',
      value: { ref: { source: b.source, id: b.id }, previousQuantity: '50', reason: 'test traffic' },
    });
  });

  it('rebuilds the same aggregates after a restart and seeds no meter twice', async () => {
    const path = `/v1/usage/aggregate?subject=${ALLOC}&meter=accelerator_seconds&from=2026-03-09T00:00:00Z&to=2026-03-11T00:00:00Z&window=minute`;
    const before = (await call(r, 'GET', path, admin)).body;
    const meters = (await call(r, 'GET', '/v1/meters', admin)).body.items.length;
    await stop(r);
    r = await start(file, clock);
    expect((await call(r, 'GET', path, admin)).body).toEqual(before);
    expect((await call(r, 'GET', '/v1/meters', admin)).body.items.length).toBe(meters);
  });
});

// The claim and the event are one write: a write that fails claims nothing, so the integrator's retry is counted
// (once), never answered as a duplicate of an event that was not stored.
describe('metering when the store fails the write', () => {
  const dir = tempDir('cx-metering-fail-');
  const clock = new SimulatedClock(new Date('2026-03-10T09:00:00Z'));
  let failing = false;
  /** The real store, but while `failing` every usage claim fails as a failed transaction fails it: nothing written. */
  const failUsage = (inner: EventStore): EventStore =>
    withStoreFaults(inner, {
      appendToStreams: async (appends) => {
        if (!failing || !appends.some((a) => a.stream.startsWith('usage-'))) return inner.appendToStreams(appends);
        const error = new StoreUnavailable('write transaction failed: disk I/O error');
        return appends.map(() => ({ ok: false, error }));
      },
    });
  let r: Running;

  beforeAll(async () => {
    r = await start(join(dir.path, 'cx.sqlite'), clock, failUsage);
    await publishAllocation(r, ALLOC, 'prov-01', 'buyer-01');
    await waitFor(() => r.app.get(MeteringService).hasAllocation(ALLOC), { what: 'the allocation' });
  });
  afterAll(async () => {
    if (r) await stop(r);
    dir.remove();
  });

  it('answers 503, stores and counts nothing, and the retry is accepted once', async () => {
    const admin = r.adminKey as string;
    const batch = [usage(), usage(), usage()];
    const aggregate = `/v1/usage/aggregate?subject=${ALLOC}&meter=accelerator_seconds&from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&window=day`;
    const before = await call(r, 'GET', aggregate, admin);
    expect(before.status).toBe(200);
    expect(before.body.windows).toEqual([]);
    failing = true;
    const refused = await call(r, 'POST', '/v1/usage', admin, batch);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'STORE.UNAVAILABLE' });
    expect(await usageEvents(r.store)).toEqual([]);
    expect((await call(r, 'GET', aggregate, admin)).body).toEqual(before.body);
    failing = false;
    const retried = await call(r, 'POST', '/v1/usage', admin, batch);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 });
    expect((await call(r, 'POST', '/v1/usage', admin, batch)).body).toMatchObject({ accepted: 0, duplicates: 3 });
    expect(await usageEvents(r.store)).toHaveLength(3);
    const after = (await call(r, 'GET', aggregate, admin)).body;
    expect(after.windows.map((w: { value: string }) => w.value)).toEqual(['180']);
  });
});
