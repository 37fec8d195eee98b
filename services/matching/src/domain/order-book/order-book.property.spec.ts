// Proves, for random command sequences, that the book never crosses, filled + remaining = quantity for every
// order, no trade executes outside the band in force, replaying the events rebuilds an identical book, decisions
// are deterministic, and the fast decider agrees event for event with the slow reference matcher.
import fc from 'fast-check';
import { Dec } from '@cx/shared-kernel';
import { scaled } from '@cx/testing';
import type { AccountLimits, BookCommand, CommandMetadata } from './order-book.decider';
import { decide, evolveAll, initialBook } from './order-book.decider';
import type { BookEvent, Side, TimeInForce } from './order-book.events';
import { checkInvariants, snapshot } from './order-book.state';
import { MAX_PRICE_TICKS, priceToTicks, tickGrid, ticksToPrice } from './order-book.units';
import { ReferenceBook } from './test/reference-matcher';

const INSTRUMENT = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10';
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
    }
  | { k: 'cancel' | 'reduce' | 'reprice'; pick: number; account: number; lots: number; priceCents: number }
  | { k: 'cancelAll'; account: number }
  | { k: 'band'; floorCents: number; width: number | null; fromOffset: number; life: number | null }
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
  let bands = 0;
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
        else cmds.push({ type: 'RepriceOrder', data: { ...base, price: cents(s.priceCents), limits }, metadata });
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
        const from = now + s.fromOffset;
        cmds.push({
          type: 'ApplyBand',
          data: {
            guidanceVersion: `gv-${++bands}`,
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
