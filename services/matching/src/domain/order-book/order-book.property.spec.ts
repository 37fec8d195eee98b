// Proves, for random command sequences, that the book never crosses, filled + remaining = quantity for every
// order, no trade executes outside the band in force, replaying the events rebuilds an identical book, decisions
// are deterministic, and the fast decider agrees event for event with the slow reference matcher.
import fc from 'fast-check';
import { bandAt } from '@cx/guidance';
import { Dec } from '@cx/shared-kernel';
import { scaled } from '@cx/testing';
import type { AccountLimits, BookCommand, CommandMetadata } from './order-book.decider';
import { decide, evolveAll, initialBook } from './order-book.decider';
import type { BookEvent, Side, TimeInForce } from './order-book.events';
import { checkInvariants, snapshot } from './order-book.state';
import { MAX_PRICE_TICKS, priceToTicks, tickGrid, ticksToPrice } from './order-book.units';
import { ReferenceBook } from './test/reference-matcher';

const RC = 'nvidia-h100-sxm-80g';
const REGION = 'cn-east-1';
const INSTRUMENT = `${RC}.${REGION}.2026-03-10`;
const T0 = Date.parse('2026-03-09T08:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

// A step is generated without knowing the book; ids are picked from those generated so far by index.
type Step =
  | {
      k: 'place';
      account: number;
      side: Side;
      priceCents: number;
      odd: number;
      lots: number;
      tif: TimeInForce;
      postOnly: boolean;
      ttl: number;
      limits: boolean;
      /** Lots open on the account's other books (0: none). */
      elsewhereLots: number;
    }
  | { k: 'cancel' | 'reduce' | 'reprice'; pick: number; account: number; lots: number; priceCents: number }
  | { k: 'cancelAll'; account: number }
  | {
      k: 'band';
      regional: boolean;
      kind: 'amended' | 'withdrawn';
      floorCents: number;
      width: number | null;
      fromOffset: number;
      life: number | null;
    }
  | { k: 'status'; halted: boolean }
  | { k: 'tick' };
interface Timed {
  dt: number;
  stale: boolean;
  step: Step;
}

const accounts = ['alice', 'bob', 'carol', 'dave'];
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('place' as const),
      account: fc.nat(3),
      side: fc.constantFrom<Side>('buy', 'sell'),
      priceCents: fc.integer({ min: 990, max: 1010 }),
      // Mostly well-formed; now and then off tick, zero, fractional or too many lots.
      odd: fc.integer({ min: 0, max: 40 }),
      lots: fc.integer({ min: 1, max: 12 }),
      tif: fc.constantFrom<TimeInForce>('GTC', 'GTC', 'GTD', 'IOC', 'FOK'),
      postOnly: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      ttl: fc.integer({ min: -100, max: 5_000 }),
      limits: fc.boolean(),
      elsewhereLots: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constantFrom('cancel' as const, 'reduce' as const, 'reprice' as const),
      pick: fc.nat(),
      account: fc.integer({ min: 0, max: 9 }),
      lots: fc.integer({ min: 0, max: 12 }),
      priceCents: fc.integer({ min: 985, max: 1015 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancelAll' as const), account: fc.nat(3) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('band' as const),
      regional: fc.boolean(),
      kind: fc.constantFrom('amended' as const, 'amended' as const, 'withdrawn' as const),
      floorCents: fc.integer({ min: 980, max: 1004 }),
      width: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
      fromOffset: fc.integer({ min: -200, max: 3_000 }),
      life: fc.option(fc.integer({ min: 1, max: 6_000 }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('status' as const), halted: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('tick' as const) }) },
);
const timedArb: fc.Arbitrary<Timed> = fc.record({
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_500 })),
  stale: fc.integer({ min: 0, max: 30 }).map((n) => n === 0),
  step: stepArb,
});

const cents = (c: number) => (c / 100).toFixed(2);

/** Turns generated steps into commands, deterministically. */
const toCommands = (steps: Timed[], withCutOff: boolean): BookCommand[] => {
  let now = T0;
  let orders = 0;
  const bandVersions = new Map<string, number>();
  const ids: { id: string; account: string }[] = [];
  const cmds: BookCommand[] = [
    {
      type: 'OpenBook',
      data: {
        instrument: INSTRUMENT,
        tickSize: '0.01',
        lotSize: '2',
        tradingEndsAt: withCutOff ? iso(T0 + 20_000) : null,
        maxGuidanceLagMs: 5_000,
      },
      metadata: { now: T0, guidanceSeenAt: T0 },
    },
  ];
  const limits: AccountLimits = { maxOpenQuantityLots: 25, maxOpenNotional: '500' };
  for (const { dt, stale, step: s } of steps) {
    now += dt;
    const metadata: CommandMetadata = { now, guidanceSeenAt: stale ? now - 6_000 : now };
    switch (s.k) {
      case 'place': {
        const id = `o${++orders}`;
        const account = accounts[s.account] as string;
        ids.push({ id, account });
        const price = s.odd === 1 ? `${cents(s.priceCents)}5` : s.odd === 2 ? '0' : cents(s.priceCents);
        const quantityLots = s.odd === 3 ? 0 : s.odd === 4 ? 1.5 : s.lots;
        cmds.push({
          type: 'PlaceOrder',
          data: {
            orderId: id,
            clientOrderId: s.odd === 5 && orders > 1 ? `c${orders - 1}` : `c${orders}`,
            account,
            instrument: INSTRUMENT,
            side: s.side,
            price,
            quantityLots,
            timeInForce: s.tif,
            expiresAt: s.tif === 'GTD' ? iso(now + s.ttl) : null,
            postOnly: s.postOnly,
            limits: s.limits ? limits : null,
            elsewhere:
              s.elsewhereLots === 0
                ? null
                : { openLots: s.elsewhereLots, openNotional: new Dec(s.elsewhereLots).mul('19.87').toFixed() },
          },
          metadata,
        });
        break;
      }
      case 'cancel':
      case 'reduce':
      case 'reprice': {
        const target = ids.length
          ? (ids[s.pick % ids.length] as { id: string; account: string })
          : { id: 'none', account: 'alice' };
        // Mostly the owner; sometimes another account, which must not be able to touch the order.
        const account = s.account < 8 ? target.account : (accounts[s.account % 4] as string);
        const base = { orderId: target.id, account, instrument: INSTRUMENT };
        if (s.k === 'cancel') cmds.push({ type: 'CancelOrder', data: base, metadata });
        else if (s.k === 'reduce')
          cmds.push({ type: 'ReduceOrder', data: { ...base, quantityLots: s.lots }, metadata });
        else {
          const elsewhere = s.lots % 3 === 0 ? null : { openLots: s.lots, openNotional: cents(s.lots * 2_000) };
          cmds.push({
            type: 'RepriceOrder',
            data: { ...base, price: cents(s.priceCents), limits, elsewhere },
            metadata,
          });
        }
        break;
      }
      case 'cancelAll':
        cmds.push({
          type: 'CancelAllOrders',
          data: { account: accounts[s.account] as string, instrument: INSTRUMENT },
          metadata,
        });
        break;
      case 'band': {
        // Versions of the national band and of the book's regional band: issues, amendments and withdrawals.
        const from = now + s.fromOffset;
        const bandId = s.regional ? `${RC}.${REGION}` : RC;
        const n = (bandVersions.get(bandId) ?? 0) + 1;
        bandVersions.set(bandId, n);
        cmds.push({
          type: 'ApplyBand',
          data: {
            guidanceVersion: `${bandId}.v${n}`,
            bandId,
            version: n,
            kind: n === 1 ? 'issued' : s.kind,
            resourceClass: RC,
            region: s.regional ? REGION : null,
            floor: cents(s.floorCents) + '5',
            ceiling: s.width === null ? null : cents(s.floorCents + s.width),
            effectiveFrom: iso(from),
            effectiveTo: s.life === null ? null : iso(from + s.life),
          },
          metadata,
        });
        break;
      }
      case 'status':
        cmds.push({
          type: 'SetMarketStatus',
          data: { status: s.halted ? 'HALTED' : 'OPEN', reason: 'test' },
          metadata,
        });
        break;
      case 'tick':
        cmds.push({ type: 'Tick', data: {}, metadata });
        break;
    }
  }
  return cmds;
};

const runFast = (cmds: BookCommand[]) => {
  const book = initialBook();
  const perCommand: BookEvent[][] = [];
  for (const c of cmds) {
    const events = decide(c, book);
    evolveAll(book, events);
    perCommand.push(events);
  }
  return { book, perCommand };
};

const scenarios = fc.record({ steps: fc.array(timedArb, { minLength: 1, maxLength: 120 }), cutOff: fc.boolean() });
const numRuns = scaled(3_000, 100);

describe('order book properties', () => {
  it('agrees event for event with the reference matcher', () => {
    fc.assert(
      fc.property(scenarios, ({ steps, cutOff }) => {
        const cmds = toCommands(steps, cutOff);
        const ref = new ReferenceBook();
        const book = initialBook();
        cmds.forEach((c, i) => {
          const fast = decide(c, book);
          const slow = ref.handle(c);
          if (JSON.stringify(fast) !== JSON.stringify(slow)) {
            expect({ command: i, events: fast }).toEqual({ command: i, events: slow });
          }
          evolveAll(book, fast);
        });
      }),
      { numRuns },
    );
  });

  it('never crosses, keeps filled + remaining = quantity, and trades only inside the band in force', () => {
    fc.assert(
      fc.property(scenarios, ({ steps, cutOff }) => {
        const book = initialBook();
        const quantity = new Map<string, number>();
        const filled = new Map<string, number>();
        const add = (id: string, q: number) => filled.set(id, (filled.get(id) ?? 0) + q);
        for (const c of toCommands(steps, cutOff)) {
          const events = decide(c, book);
          evolveAll(book, events);
          // Never crossed, every level and order consistent, no resting order outside the band.
          checkInvariants(book);
          for (const e of events) {
            switch (e.type) {
              case 'OrderAccepted':
                quantity.set(e.data.orderId, e.data.quantityLots);
                break;
              case 'OrderReduced':
                quantity.set(e.data.orderId, e.data.quantityLots);
                expect(e.data.remainingLots).toBe(e.data.quantityLots - (filled.get(e.data.orderId) ?? 0));
                break;
              case 'TradeExecuted': {
                add(e.data.makerOrderId, e.data.quantityLots);
                add(e.data.takerOrderId, e.data.quantityLots);
                // The band in force at matching is the book's band once this decision's events are applied:
                // time-driven band changes come first in a decision, trades after.
                const band = book.band;
                expect(e.data.guidanceVersion).toBe(band?.guidanceVersion ?? null);
                expect(e.data.floor).toBe(band?.floor ?? null);
                if (e.data.floor !== null) expect(new Dec(e.data.price).gte(e.data.floor)).toBe(true);
                if (e.data.ceiling !== null) expect(new Dec(e.data.price).lte(e.data.ceiling)).toBe(true);
                break;
              }
              case 'OrderRested':
                expect(e.data.filledLots).toBe(filled.get(e.data.orderId) ?? 0);
                expect(e.data.filledLots + e.data.remainingLots).toBe(quantity.get(e.data.orderId));
                break;
              case 'OrderCancelled':
                expect(e.data.filledLots).toBe(filled.get(e.data.orderId) ?? 0);
                expect(e.data.filledLots + e.data.cancelledLots).toBe(quantity.get(e.data.orderId));
                break;
              case 'OrderExpired':
                expect(e.data.filledLots).toBe(filled.get(e.data.orderId) ?? 0);
                expect(e.data.filledLots + e.data.expiredLots).toBe(quantity.get(e.data.orderId));
                break;
              default:
                break;
            }
          }
        }
        // Every order still resting: its fills are the trades that named it.
        for (const o of book.orders.values()) {
          expect(o.filledLots).toBe(filled.get(o.id) ?? 0);
          expect(o.filledLots + o.remainingLots).toBe(quantity.get(o.id));
        }
      }),
      { numRuns },
    );
  });

  it('rebuilds an identical book from its events, and decides the same events again', () => {
    fc.assert(
      fc.property(scenarios, ({ steps, cutOff }) => {
        const cmds = toCommands(steps, cutOff);
        const live = runFast(cmds);
        const rebuilt = evolveAll(initialBook(), live.perCommand.flat());
        checkInvariants(rebuilt);
        expect(snapshot(rebuilt)).toEqual(snapshot(live.book));
        expect(runFast(cmds).perCommand).toEqual(live.perCommand);
      }),
      { numRuns: Math.max(50, numRuns >> 1) },
    );
  });

  // Random band histories (issues, amendments and withdrawals of the national band and of the book's regional
  // band, with random windows), heard at random moments (some before they take effect, some late), and the book
  // asked at random instants: the band it has in force, and records on every decision, is always exactly what the
  // shared `bandAt` of @cx/guidance answers over the versions heard so far, the rule the audit checks against.
  it('has in force, at every instant, exactly the band bandAt resolves from the versions heard', () => {
    const versionArb = fc.record({
      regional: fc.boolean(),
      kind: fc.constantFrom('issued' as const, 'amended' as const, 'amended' as const, 'withdrawn' as const),
      fromMs: fc.integer({ min: 0, max: 40_000 }),
      lifeMs: fc.option(fc.integer({ min: 1, max: 30_000 }), { nil: null }),
      floorCents: fc.integer({ min: 990, max: 1_010 }),
      ceiling: fc.option(fc.integer({ min: 0, max: 30 }), { nil: null }),
      heardMs: fc.integer({ min: -5_000, max: 45_000 }),
    });
    const askArb = fc.record({
      atMs: fc.integer({ min: 0, max: 80_000 }),
      account: fc.nat(3),
      side: fc.constantFrom<Side>('buy', 'sell'),
      priceCents: fc.integer({ min: 985, max: 1_045 }),
    });
    fc.assert(
      fc.property(
        fc.array(versionArb, { maxLength: 14 }),
        fc.array(askArb, { minLength: 1, maxLength: 30 }),
        (specs, asks) => {
          const numbers = new Map<string, number>();
          const versions = specs.map((v) => {
            const bandId = v.regional ? `${RC}.${REGION}` : RC;
            const n = (numbers.get(bandId) ?? 0) + 1;
            numbers.set(bandId, n);
            const from = T0 + v.fromMs;
            return {
              heardAt: T0 + v.heardMs,
              version: {
                bandId,
                versionId: `${bandId}.v${n}`,
                version: n,
                kind: n === 1 ? ('issued' as const) : v.kind,
                resourceClass: RC,
                region: v.regional ? REGION : null,
                floor: cents(v.floorCents),
                ceiling: v.ceiling === null ? null : cents(v.floorCents + v.ceiling),
                effectiveFrom: iso(from),
                effectiveTo: v.lifeMs === null ? null : iso(from + v.lifeMs),
              },
            };
          });
          // Everything in time order; a version heard at the same instant as a question is heard first.
          type Event = { at: number; rank: number; cmd: BookCommand };
          const timeline: Event[] = [
            ...versions.map(({ heardAt, version: v }) => ({
              at: heardAt,
              rank: 0,
              cmd: {
                type: 'ApplyBand' as const,
                data: { ...v, guidanceVersion: v.versionId },
                metadata: { now: heardAt, guidanceSeenAt: heardAt },
              },
            })),
            ...asks.map((a, i) => ({
              at: T0 + a.atMs,
              rank: 1,
              cmd: {
                type: 'PlaceOrder' as const,
                data: {
                  orderId: `o${i}`,
                  clientOrderId: `c${i}`,
                  account: accounts[a.account] as string,
                  instrument: INSTRUMENT,
                  side: a.side,
                  price: cents(a.priceCents),
                  quantityLots: 1,
                  timeInForce: 'GTC' as const,
                },
                metadata: { now: T0 + a.atMs, guidanceSeenAt: T0 + a.atMs },
              },
            })),
          ].sort((a, b) => a.at - b.at || a.rank - b.rank);
          const book = initialBook();
          evolveAll(
            book,
            decide(
              {
                type: 'OpenBook',
                data: {
                  instrument: INSTRUMENT,
                  tickSize: '0.01',
                  lotSize: '1',
                  tradingEndsAt: null,
                  maxGuidanceLagMs: 1,
                },
                metadata: { now: T0 - 10_000, guidanceSeenAt: T0 - 10_000 },
              },
              book,
            ),
          );
          const heard: (typeof versions)[number]['version'][] = [];
          let now = T0 - 10_000;
          for (const { at, cmd } of timeline) {
            // The clock never runs backwards: a command stamped earlier than the last one is decided now.
            now = Math.max(now, at);
            const events = decide({ ...cmd, metadata: { now, guidanceSeenAt: now } } as BookCommand, book);
            evolveAll(book, events);
            checkInvariants(book);
            if (cmd.type === 'ApplyBand' && !heard.some((v) => v.versionId === cmd.data.guidanceVersion)) {
              heard.push(versions.find((v) => v.version.versionId === cmd.data.guidanceVersion)!.version);
            }
            const expected = bandAt(heard, RC, REGION, new Date(now));
            expect(book.band?.guidanceVersion ?? null).toBe(expected?.versionId ?? null);
            expect(book.band?.floor ?? null).toBe(expected === null ? null : new Dec(expected.floor).toFixed());
            // Several changes may fall due in one decision; each is the band bandAt answers at its own instant.
            let activated: string | null = null;
            for (const e of events) {
              if (e.type === 'BandActivated') {
                activated = e.data.guidanceVersion;
                const t = new Date(e.data.effectiveAt!);
                expect(bandAt(heard, RC, REGION, t)?.versionId).toBe(activated);
              }
              if (e.type === 'BandLapsed') expect(bandAt(heard, RC, REGION, new Date(e.data.effectiveTo))).toBeNull();
              if (e.type === 'OrderAccepted' || e.type === 'OrderRejected' || e.type === 'TradeExecuted') {
                expect(e.data.guidanceVersion).toBe(expected?.versionId ?? null);
              }
              if (e.type === 'TradeExecuted' && expected !== null) {
                expect(new Dec(e.data.price).gte(expected.floor)).toBe(true);
              }
              // A band cancellation names the version that put the order outside it: the one just taking force.
              if (
                e.type === 'OrderCancelled' &&
                (e.data.reason === 'FLOOR_RAISED' || e.data.reason === 'CEILING_LOWERED')
              ) {
                expect(e.data.guidanceVersion).toBe(activated);
              }
            }
          }
          // Asked after everything was heard, at instants across the whole history, it agrees with bandAt too.
          for (const a of asks) {
            const t = T0 + 80_000 + a.atMs;
            evolveAll(book, decide({ type: 'Tick', data: {}, metadata: { now: t, guidanceSeenAt: t } }, book));
            expect(book.band?.guidanceVersion ?? null).toBe(bandAt(heard, RC, REGION, new Date(t))?.versionId ?? null);
          }
        },
      ),
      { numRuns },
    );
  });

  it('converts prices to ticks and back exactly, refusing off-tick prices', () => {
    const grids = ['0.01', '0.005', '1', '0.25'].map(tickGrid);
    fc.assert(
      fc.property(
        fc.constantFrom(...grids),
        fc.integer({ min: 1, max: MAX_PRICE_TICKS }),
        fc.integer({ min: 0, max: 3 }),
        (grid, ticks, zeros) => {
          const price = ticksToPrice(grid, ticks);
          expect(price).toBe(new Dec(grid.tickSize).mul(ticks).toFixed());
          expect(priceToTicks(grid, price + (price.includes('.') ? '0'.repeat(zeros) : ''))).toBe(ticks);
          const between = new Dec(price).plus(new Dec(grid.tickSize).div(7)).toFixed(20);
          expect(priceToTicks(grid, between)).toBe('OFF_TICK');
        },
      ),
      { numRuns },
    );
  });
});
