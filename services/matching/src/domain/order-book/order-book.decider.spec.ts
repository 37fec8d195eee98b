// Proves every order-book rule as given events / when command / then events: order types, matching, self-trade
// prevention, floors and ceilings, halts, stale guidance, limits, and which rejection code wins when several apply.
import type { BookCommand, PlaceOrder } from './order-book.decider';
import { decide, evolveAll, initialBook } from './order-book.decider';
import type { BookEvent, OrderRejected } from './order-book.events';
import { checkInvariants, snapshot } from './order-book.state';

const INSTRUMENT = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10';
const T0 = Date.parse('2026-03-09T08:00:00.000Z');
const at = (ms: number) => ({ now: ms, guidanceSeenAt: ms });
const iso = (ms: number) => new Date(ms).toISOString();

const open = (overrides: Partial<{ tradingEndsAt: string | null; maxGuidanceLagMs: number }> = {}): BookCommand => ({
  type: 'OpenBook',
  data: {
    instrument: INSTRUMENT,
    tickSize: '0.01',
    lotSize: '1',
    tradingEndsAt: overrides.tradingEndsAt ?? null,
    maxGuidanceLagMs: overrides.maxGuidanceLagMs ?? 5_000,
  },
  metadata: at(T0),
});

let seq = 0;
const order = (p: Partial<PlaceOrder['data']> = {}, now = T0): PlaceOrder => {
  const id = p.orderId ?? `o${++seq}`;
  return {
    type: 'PlaceOrder',
    data: {
      orderId: id,
      clientOrderId: p.clientOrderId ?? `c-${id}`,
      account: 'alice',
      instrument: INSTRUMENT,
      side: 'buy',
      price: '10.00',
      quantityLots: 10,
      timeInForce: 'GTC',
      ...p,
    },
    metadata: at(now),
  };
};
const band = (
  v: string,
  floor: string,
  ceiling: string | null,
  from: number,
  to: number | null = null,
): BookCommand => ({
  type: 'ApplyBand',
  data: { guidanceVersion: v, floor, ceiling, effectiveFrom: iso(from), effectiveTo: to === null ? null : iso(to) },
  metadata: at(T0),
});

/** Runs commands against a fresh book (deciding and applying each), returning the book and each command's events. */
const run = (...cmds: BookCommand[]) => {
  const book = initialBook();
  const outs: BookEvent[][] = [];
  for (const c of cmds) {
    const events = decide(c, book);
    evolveAll(book, events);
    checkInvariants(book);
    outs.push(events);
  }
  return { book, last: outs[outs.length - 1] ?? [], all: outs.flat() };
};
const types = (events: BookEvent[]) => events.map((e) => e.type);
const codeOf = (events: BookEvent[]) =>
  (events.find((e) => e.type === 'OrderRejected') as OrderRejected | undefined)?.data.code;
const pick = <T extends BookEvent['type']>(events: BookEvent[], t: T) =>
  events.filter((e): e is Extract<BookEvent, { type: T }> => e.type === t);

beforeEach(() => {
  seq = 0;
});

describe('placing and matching', () => {
  it('rests a GTC order that does not cross', () => {
    const { last, book } = run(open(), order());
    expect(types(last)).toEqual(['OrderAccepted', 'OrderRested']);
    expect(last[0]).toMatchObject({ data: { price: '10', priceTicks: 1000, guidanceVersion: null, floor: null } });
    expect(snapshot(book).bids).toHaveLength(1);
  });

  it('trades at the resting order’s price, in price-time priority, with partial fills', () => {
    const { last, book } = run(
      open(),
      order({ orderId: 's1', account: 'bob', side: 'sell', price: '10.02', quantityLots: 5 }),
      order({ orderId: 's2', account: 'carol', side: 'sell', price: '10.01', quantityLots: 5 }),
      order({ orderId: 's3', account: 'dave', side: 'sell', price: '10.01', quantityLots: 5 }),
      order({ orderId: 'b1', side: 'buy', price: '10.05', quantityLots: 12 }),
    );
    const trades = pick(last, 'TradeExecuted');
    expect(trades.map((t) => [t.data.makerOrderId, t.data.price, t.data.quantityLots])).toEqual([
      ['s2', '10.01', 5],
      ['s3', '10.01', 5],
      ['s1', '10.02', 2],
    ]);
    expect(trades.map((t) => t.data.tradeId)).toEqual([`${INSTRUMENT}-1`, `${INSTRUMENT}-2`, `${INSTRUMENT}-3`]);
    expect(trades[0]!.data).toMatchObject({ buyerAccount: 'alice', sellerAccount: 'carol', makerSide: 'sell' });
    expect(types(last)).toEqual(['OrderAccepted', 'TradeExecuted', 'TradeExecuted', 'TradeExecuted']);
    expect(snapshot(book).asks[0]!.orders[0]).toMatchObject({ id: 's1', filledLots: 2, remainingLots: 3 });
  });

  it('rests the remainder of a partly filled GTC order with its fills recorded', () => {
    const { last } = run(open(), order({ account: 'bob', side: 'sell', quantityLots: 4 }), order({ quantityLots: 10 }));
    expect(pick(last, 'OrderRested')[0]!.data).toMatchObject({ quantityLots: 10, filledLots: 4, remainingLots: 6 });
  });

  it('cancels the remainder of an IOC order', () => {
    const { last, book } = run(
      open(),
      order({ account: 'bob', side: 'sell', quantityLots: 4 }),
      order({ timeInForce: 'IOC', quantityLots: 10 }),
    );
    expect(types(last)).toEqual(['OrderAccepted', 'TradeExecuted', 'OrderCancelled']);
    expect(last[2]!.data).toMatchObject({ reason: 'IOC_REMAINDER', cancelledLots: 6, filledLots: 4 });
    expect(book.orders.size).toBe(0);
  });

  it('fills a FOK order completely across levels, or not at all', () => {
    const setup = [
      open(),
      order({ account: 'bob', side: 'sell', price: '10.00', quantityLots: 4 }),
      order({ account: 'carol', side: 'sell', price: '10.01', quantityLots: 4 }),
    ];
    const partial = run(...setup, order({ timeInForce: 'FOK', price: '10.01', quantityLots: 9 }));
    expect(types(partial.last)).toEqual(['OrderAccepted', 'OrderCancelled']);
    expect(partial.last[1]!.data).toMatchObject({ reason: 'FOK_UNFILLED', cancelledLots: 9, filledLots: 0 });
    expect(partial.book.orders.size).toBe(2);
    const full = run(...setup, order({ timeInForce: 'FOK', price: '10.01', quantityLots: 8 }));
    expect(types(full.last)).toEqual(['OrderAccepted', 'TradeExecuted', 'TradeExecuted']);
  });

  it('does not count the account’s own resting orders as liquidity for FOK', () => {
    const { last } = run(
      open(),
      order({ account: 'alice', side: 'sell', quantityLots: 5 }),
      order({ account: 'bob', side: 'sell', quantityLots: 5 }),
      order({ account: 'alice', timeInForce: 'FOK', quantityLots: 6 }),
    );
    expect(pick(last, 'OrderCancelled')[0]!.data.reason).toBe('FOK_UNFILLED');
  });

  it('cancels a post-only order that would cross, and rests one that does not', () => {
    const crossing = run(
      open(),
      order({ account: 'bob', side: 'sell', price: '10.00' }),
      order({ postOnly: true, price: '10.00' }),
    );
    expect(pick(crossing.last, 'OrderCancelled')[0]!.data.reason).toBe('POST_ONLY_WOULD_CROSS');
    const passive = run(open(), order({ account: 'bob', side: 'sell', price: '10.01' }), order({ postOnly: true }));
    expect(types(passive.last)).toEqual(['OrderAccepted', 'OrderRested']);
  });

  it('self-trade prevention cancels the resting order of the same account and carries on', () => {
    const { last } = run(
      open(),
      order({ orderId: 'mine', account: 'alice', side: 'sell', quantityLots: 3 }),
      order({ orderId: 'theirs', account: 'bob', side: 'sell', quantityLots: 3 }),
      order({ account: 'alice', quantityLots: 5 }),
    );
    expect(types(last)).toEqual(['OrderAccepted', 'OrderCancelled', 'TradeExecuted', 'OrderRested']);
    expect(last[1]!.data).toMatchObject({ orderId: 'mine', reason: 'SELF_TRADE', cancelledLots: 3 });
    expect(last[2]!.data).toMatchObject({ makerOrderId: 'theirs', quantityLots: 3 });
  });

  it('GTD orders expire at expiresAt, before a later order could match them', () => {
    const { last } = run(
      open(),
      order({ orderId: 'gtd', account: 'bob', side: 'sell', timeInForce: 'GTD', expiresAt: iso(T0 + 1000) }),
      order({ quantityLots: 1 }, T0 + 1000),
    );
    expect(types(last)).toEqual(['OrderExpired', 'OrderAccepted', 'OrderRested']);
    expect(last[0]!.data).toMatchObject({ orderId: 'gtd', reason: 'GTD', expiredLots: 10 });
  });

  it('expires every resting order at the trading cut-off and refuses new ones', () => {
    const end = T0 + 60_000;
    const { all, last } = run(
      open({ tradingEndsAt: iso(end) }),
      order({ account: 'bob' }),
      { type: 'Tick', data: {}, metadata: at(end) },
      order({}, end + 1),
    );
    expect(types(all)).toContain('TradingClosed');
    expect(pick(all, 'OrderExpired')[0]!.data.reason).toBe('TRADING_CUT_OFF');
    expect(codeOf(last)).toBe('MATCHING.TRADING_CLOSED');
  });
});

describe('changing orders', () => {
  it('cancels an own order; another account’s order id answers ORDER_NOT_FOUND', () => {
    const base = [open(), order({ orderId: 'x', account: 'bob' })];
    const cancel = (account: string): BookCommand => ({
      type: 'CancelOrder',
      data: { orderId: 'x', account, instrument: INSTRUMENT },
      metadata: at(T0),
    });
    expect(run(...base, cancel('bob')).last[0]!.data).toMatchObject({ reason: 'USER', cancelledLots: 10 });
    expect(run(...base, cancel('mallory')).last[0]).toMatchObject({
      type: 'ModificationRejected',
      data: { code: 'MATCHING.ORDER_NOT_FOUND', orderId: 'x' },
    });
  });

  it('reduces quantity keeping time priority', () => {
    const reduce: BookCommand = {
      type: 'ReduceOrder',
      data: { orderId: 'first', account: 'bob', instrument: INSTRUMENT, quantityLots: 4 },
      metadata: at(T0),
    };
    const { book, last } = run(
      open(),
      order({ orderId: 'first', account: 'bob', side: 'sell' }),
      order({ orderId: 'second', account: 'carol', side: 'sell' }),
      reduce,
    );
    expect(last[0]).toMatchObject({ type: 'OrderReduced', data: { quantityLots: 4, remainingLots: 4 } });
    expect(snapshot(book).asks[0]!.orders.map((o) => o.id)).toEqual(['first', 'second']);
    const bad = run(open(), order({ orderId: 'first', account: 'bob' }), {
      ...reduce,
      data: { ...reduce.data, quantityLots: 10 },
    });
    expect(bad.last[0]!.data).toMatchObject({ code: 'MATCHING.INVALID_QUANTITY' });
  });

  it('repricing loses time priority and may trade at once', () => {
    const reprice = (id: string, price: string): BookCommand => ({
      type: 'RepriceOrder',
      data: { orderId: id, account: 'bob', instrument: INSTRUMENT, price },
      metadata: at(T0),
    });
    const queued = run(
      open(),
      order({ orderId: 'a', account: 'bob', side: 'sell' }),
      order({ orderId: 'b', account: 'carol', side: 'sell' }),
      reprice('a', '10.00'),
    );
    expect(types(queued.last)).toEqual(['OrderRepriced', 'OrderRested']);
    expect(snapshot(queued.book).asks[0]!.orders.map((o) => o.id)).toEqual(['b', 'a']);
    const crossing = run(
      open(),
      order({ orderId: 'bid', account: 'carol', price: '9.95', quantityLots: 4 }),
      order({ orderId: 'a', account: 'bob', side: 'sell', price: '10.00' }),
      reprice('a', '9.90'),
    );
    expect(types(crossing.last)).toEqual(['OrderRepriced', 'TradeExecuted', 'OrderRested']);
    expect(pick(crossing.last, 'TradeExecuted')[0]!.data).toMatchObject({ price: '9.95', takerOrderId: 'a' });
    expect(pick(crossing.last, 'OrderRested')[0]!.data).toMatchObject({
      price: '9.9',
      filledLots: 4,
      remainingLots: 6,
    });
  });

  it('the kill switch cancels all of one account’s orders and nobody else’s', () => {
    const { last, book } = run(
      open(),
      order({ account: 'bob', price: '9.00' }),
      order({ account: 'bob', side: 'sell', price: '11.00' }),
      order({ account: 'carol', price: '9.50' }),
      { type: 'CancelAllOrders', data: { account: 'bob', instrument: INSTRUMENT }, metadata: at(T0) },
    );
    expect(last.map((e) => e.type === 'OrderCancelled' && e.data.reason)).toEqual(['KILL_SWITCH', 'KILL_SWITCH']);
    expect(book.orders.size).toBe(1);
  });
});

describe('floors, ceilings, halts and guidance freshness', () => {
  it('rejects below the floor and above the ceiling, recording the band used', () => {
    const setup = [open(), band('gv-1', '9.995', '12', T0 - 1)];
    const below = run(...setup, order({ price: '9.99' }));
    expect(below.last[0]!.data).toMatchObject({
      code: 'MATCHING.BELOW_FLOOR',
      field: 'price',
      floor: '9.995',
      ceiling: '12',
      guidanceVersion: 'gv-1',
    });
    expect(codeOf(run(...setup, order({ price: '12.01' })).last)).toBe('MATCHING.ABOVE_CEILING');
    const ok = run(...setup, order({ price: '10.00' }));
    expect(ok.last[0]!.data).toMatchObject({ floor: '9.995', guidanceVersion: 'gv-1' });
  });

  it('switches band exactly at effectiveFrom and cancels resting orders outside the new band', () => {
    const from = T0 + 10_000;
    const setup = [
      open(),
      band('gv-1', '5', '20', T0 - 1),
      order({ orderId: 'low', account: 'bob', price: '8.00' }),
      order({ orderId: 'high', account: 'carol', side: 'sell', price: '19.00' }),
      order({ orderId: 'mid', account: 'dave', side: 'sell', price: '12.00' }),
      band('gv-2', '9', '15', from),
    ];
    const before = run(...setup, order({ price: '8.50' }, from - 1));
    expect(codeOf(before.last)).toBeUndefined();
    expect(before.book.band?.guidanceVersion).toBe('gv-1');
    const { last, book } = run(...setup, { type: 'Tick', data: {}, metadata: at(from) });
    expect(types(last)).toEqual(['BandActivated', 'OrderCancelled', 'OrderCancelled']);
    expect(
      last.slice(1).map((e) => e.type === 'OrderCancelled' && [e.data.orderId, e.data.reason, e.data.guidanceVersion]),
    ).toEqual([
      ['low', 'FLOOR_RAISED', 'gv-2'],
      ['high', 'CEILING_LOWERED', 'gv-2'],
    ]);
    expect(book.orders.size).toBe(1);
  });

  it('every trade records the floor and guidance version in force at the moment of matching', () => {
    const { last } = run(
      open(),
      band('gv-1', '9', null, T0 - 1),
      order({ account: 'bob', side: 'sell' }),
      order({ quantityLots: 1 }),
    );
    expect(pick(last, 'TradeExecuted')[0]!.data).toMatchObject({ floor: '9', ceiling: null, guidanceVersion: 'gv-1' });
    const none = run(open(), order({ account: 'bob', side: 'sell' }), order({ quantityLots: 1 }));
    expect(pick(none.last, 'TradeExecuted')[0]!.data).toMatchObject({ floor: null, guidanceVersion: null });
  });

  it('a lapsed band leaves no floor; repeated guidance versions change nothing', () => {
    const { all, last } = run(
      open(),
      band('gv-1', '9', null, T0 - 1, T0 + 5),
      band('gv-1', '9', null, T0 - 1, T0 + 5),
      order({ price: '1.00' }, T0 + 5),
    );
    expect(types(all).filter((t) => t === 'BandScheduled')).toHaveLength(1);
    expect(types(last)).toEqual(['BandLapsed', 'OrderAccepted', 'OrderRested']);
  });

  it('halts refuse orders and resume', () => {
    const halt: BookCommand = {
      type: 'SetMarketStatus',
      data: { status: 'HALTED', reason: 'surveillance' },
      metadata: at(T0),
    };
    const resume: BookCommand = {
      type: 'SetMarketStatus',
      data: { status: 'OPEN', reason: 'cleared' },
      metadata: at(T0),
    };
    expect(codeOf(run(open(), halt, order()).last)).toBe('MATCHING.MARKET_HALTED');
    expect(types(run(open(), halt, resume, order()).last)).toEqual(['OrderAccepted', 'OrderRested']);
  });

  it('stale guidance stops matching until fresh', () => {
    const stale = order();
    stale.metadata = { now: T0 + 10_000, guidanceSeenAt: T0 };
    expect(codeOf(run(open(), stale).last)).toBe('MATCHING.GUIDANCE_STALE');
    const never = order();
    never.metadata = { now: T0, guidanceSeenAt: null };
    expect(codeOf(run(open(), never).last)).toBe('MATCHING.GUIDANCE_STALE');
    const fresh = order();
    fresh.metadata = { now: T0 + 10_000, guidanceSeenAt: T0 + 6_000 };
    expect(codeOf(run(open(), fresh).last)).toBeUndefined();
  });

  it('account limits count resting quantity and notional before matching', () => {
    const limits = { maxOpenQuantityLots: 15, maxOpenNotional: '150' };
    const setup = [open(), order({ quantityLots: 10, price: '10.00', limits })];
    expect(codeOf(run(...setup, order({ quantityLots: 6, limits })).last)).toBe('MATCHING.MAX_OPEN_QUANTITY_EXCEEDED');
    expect(codeOf(run(...setup, order({ quantityLots: 5, price: '10.01', limits })).last)).toBe(
      'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED',
    );
    expect(codeOf(run(...setup, order({ quantityLots: 5, price: '10.00', limits })).last)).toBeUndefined();
  });
});

describe('the band in force is the shared bandAt', () => {
  const RC = 'nvidia-h100-sxm-80g';
  /** A version of the national band, or of the cn-east-1 band (the book's region) with `region`. */
  const version = (
    n: number,
    floor: string,
    from: number,
    opts: { to?: number; kind?: 'issued' | 'amended' | 'withdrawn'; region?: string; ceiling?: string } = {},
  ): BookCommand => {
    const bandId = opts.region ? `${RC}.${opts.region}` : RC;
    return {
      type: 'ApplyBand',
      data: {
        guidanceVersion: `${bandId}.v${n}`,
        bandId,
        version: n,
        kind: opts.kind ?? (n === 1 ? 'issued' : 'amended'),
        resourceClass: RC,
        region: opts.region ?? null,
        floor,
        ceiling: opts.ceiling ?? null,
        effectiveFrom: iso(from),
        effectiveTo: opts.to === undefined ? null : iso(opts.to),
      },
      metadata: at(T0),
    };
  };
  const tick = (now: number): BookCommand => ({ type: 'Tick', data: {}, metadata: at(now) });

  it('ends the band at a withdrawal’s effectiveFrom: no floor, and decisions record guidanceVersion null', () => {
    const { last, all, book } = run(
      open(),
      version(1, '9', T0 - 1),
      version(2, '9', T0 + 10, { kind: 'withdrawn' }),
      order({ price: '1.00' }, T0 + 9),
      order({ price: '1.00' }, T0 + 10),
    );
    expect(codeOf(all.slice(0, -2))).toBe('MATCHING.BELOW_FLOOR');
    expect(types(last)).toEqual(['BandLapsed', 'OrderAccepted', 'OrderRested']);
    expect(last[0]!.data).toEqual({ guidanceVersion: `${RC}.v1`, effectiveTo: iso(T0 + 10) });
    expect(last[1]!.data).toMatchObject({ floor: null, ceiling: null, guidanceVersion: null });
    expect(book.band).toBeNull();
  });

  it('lets a regional band override the national one, cancelling below its floor, and falls back when it ends', () => {
    const setup = [
      open(),
      version(1, '9', T0 - 1),
      version(1, '12', T0 + 10, { region: 'cn-east-1', to: T0 + 20 }),
      order({ orderId: 'low', account: 'bob', price: '10.00' }, T0),
    ];
    const raised = run(...setup, tick(T0 + 10));
    expect(types(raised.last)).toEqual(['BandActivated', 'OrderCancelled']);
    expect(raised.last[0]!.data).toMatchObject({ guidanceVersion: `${RC}.cn-east-1.v1`, floor: '12' });
    expect(raised.last[1]!.data).toMatchObject({
      orderId: 'low',
      reason: 'FLOOR_RAISED',
      guidanceVersion: `${RC}.cn-east-1.v1`,
    });
    // The regional band lapses: the national band is in force again, not "no floor" and not the regional one.
    const back = run(...setup, tick(T0 + 10), order({ price: '10.00' }, T0 + 20));
    expect(types(back.last)).toEqual(['BandActivated', 'OrderAccepted', 'OrderRested']);
    expect(back.last[0]!.data).toMatchObject({ guidanceVersion: `${RC}.v1`, effectiveAt: iso(T0 + 20) });
    expect(back.last[1]!.data).toMatchObject({ floor: '9', guidanceVersion: `${RC}.v1` });
    expect(codeOf(run(...setup, order({ price: '8.00' }, T0 + 25)).last)).toBe('MATCHING.BELOW_FLOOR');
  });

  it('applies the amended version again when a temporary amendment ends', () => {
    const { last } = run(
      open(),
      version(1, '9', T0 - 1),
      version(2, '11', T0 + 10, { to: T0 + 20 }),
      tick(T0 + 15),
      order({ price: '10.00' }, T0 + 20),
    );
    expect(types(last)).toEqual(['BandActivated', 'OrderAccepted', 'OrderRested']);
    expect(last[1]!.data).toMatchObject({ guidanceVersion: `${RC}.v1`, floor: '9' });
  });

  it('ends a regional band at its withdrawal and falls back to the national band', () => {
    const { last } = run(
      open(),
      version(1, '9', T0 - 1),
      version(1, '12', T0 - 1, { region: 'cn-east-1' }),
      version(2, '12', T0 + 10, { region: 'cn-east-1', kind: 'withdrawn' }),
      order({ price: '10.00' }, T0 + 10),
    );
    expect(types(last)).toEqual(['BandActivated', 'OrderAccepted', 'OrderRested']);
    expect(last[1]!.data).toMatchObject({ guidanceVersion: `${RC}.v1` });
  });

  it('takes a version that is already due in force in the decision that hears it', () => {
    const { last } = run(open(), order({ orderId: 'low', account: 'bob', price: '8.00' }, T0), {
      ...version(1, '9', T0 - 1),
      metadata: at(T0 + 5),
    });
    expect(types(last)).toEqual(['BandScheduled', 'BandActivated', 'OrderCancelled']);
    expect(last[2]!.data).toMatchObject({ orderId: 'low', reason: 'FLOOR_RAISED', guidanceVersion: `${RC}.v1` });
  });

  it('refuses a version of another region’s band', () => {
    expect(() => run(open(), version(1, '9', T0, { region: 'cn-west-1' }))).toThrow(
      expect.objectContaining({ code: 'MATCHING.INVALID_BAND' }),
    );
  });
});

describe('account limits across books', () => {
  const limits = { maxOpenQuantityLots: 15, maxOpenNotional: '150' };

  it('counts what the account has open on its other books', () => {
    const elsewhere = { openLots: 10, openNotional: '100' };
    expect(codeOf(run(open(), order({ quantityLots: 6, price: '1.00', limits, elsewhere })).last)).toBe(
      'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED',
    );
    const rejected = run(open(), order({ quantityLots: 5, price: '10.01', limits, elsewhere })).last[0]!;
    expect(rejected.data).toMatchObject({ code: 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED', field: 'price' });
    expect(codeOf(run(open(), order({ quantityLots: 5, price: '10.00', limits, elsewhere })).last)).toBeUndefined();
  });

  it('counts this book and the other books together', () => {
    const elsewhere = { openLots: 4, openNotional: '40.5' };
    const setup = [open(), order({ quantityLots: 6, price: '10.00', limits })];
    expect(codeOf(run(...setup, order({ quantityLots: 6, limits, elsewhere })).last)).toBe(
      'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED',
    );
    // 40.5 + 60 + 5 × 9.90 = 150: exactly at the limit is allowed; a cent more is not.
    expect(codeOf(run(...setup, order({ quantityLots: 5, price: '9.90', limits, elsewhere })).last)).toBeUndefined();
    expect(codeOf(run(...setup, order({ quantityLots: 5, price: '9.91', limits, elsewhere })).last)).toBe(
      'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED',
    );
  });

  it('refuses a reprice that would take the notional across books over the limit', () => {
    const { last } = run(open(), order({ orderId: 'mine', quantityLots: 5, price: '10.00', limits }), {
      type: 'RepriceOrder',
      data: {
        orderId: 'mine',
        account: 'alice',
        instrument: INSTRUMENT,
        price: '10.10',
        limits,
        elsewhere: { openLots: 1, openNotional: '99.51' },
      },
      metadata: at(T0),
    });
    expect(last[0]!.data).toMatchObject({ code: 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED', field: 'price' });
  });
});

describe('bad input and rejection precedence', () => {
  // Each row breaks one more rule than the row below it would, so the row's code is the one that wins.
  const halt: BookCommand = { type: 'SetMarketStatus', data: { status: 'HALTED', reason: 'x' }, metadata: at(T0) };
  const bad = { price: '9.00', quantityLots: 99, limits: { maxOpenQuantityLots: 1, maxOpenNotional: null } };
  const cases: [string, BookCommand[], Partial<PlaceOrder['data']>, string][] = [
    ['unknown instrument', [halt], { ...bad, instrument: 'other', price: 'x' }, 'MATCHING.UNKNOWN_INSTRUMENT'],
    ['malformed price', [halt], { ...bad, price: '1e3' }, 'MATCHING.INVALID_PRICE'],
    ['zero price', [halt], { ...bad, price: '0.00' }, 'MATCHING.INVALID_PRICE'],
    ['off tick', [halt], { ...bad, price: '10.005', quantityLots: 0 }, 'MATCHING.OFF_TICK'],
    ['zero lots', [halt], { ...bad, quantityLots: 0 }, 'MATCHING.INVALID_QUANTITY'],
    ['fractional lots', [halt], { ...bad, quantityLots: 1.5 }, 'MATCHING.INVALID_QUANTITY'],
    ['GTD without expiry', [halt], { ...bad, timeInForce: 'GTD' }, 'MATCHING.INVALID_EXPIRES_AT'],
    ['expired GTD', [halt], { ...bad, timeInForce: 'GTD', expiresAt: iso(T0) }, 'MATCHING.GTD_EXPIRED'],
    ['post-only IOC', [halt], { ...bad, timeInForce: 'IOC', postOnly: true }, 'MATCHING.INVALID_POST_ONLY'],
    [
      'duplicate client order id',
      [order({ clientOrderId: 'dup', price: '10.00', quantityLots: 1 }), halt],
      { ...bad, clientOrderId: 'dup' },
      'MATCHING.DUPLICATE_CLIENT_ORDER_ID',
    ],
    ['halted', [halt], bad, 'MATCHING.MARKET_HALTED'],
    ['below floor', [], bad, 'MATCHING.BELOW_FLOOR'],
    ['above ceiling', [], { ...bad, price: '99.00' }, 'MATCHING.ABOVE_CEILING'],
    ['over the quantity limit', [], { ...bad, price: '10.00' }, 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED'],
  ];
  it.each(cases)('%s', (_name, before, p, code) => {
    const { last } = run(open(), band('gv-1', '9.5', '50', T0 - 1), ...before, order(p));
    expect(codeOf(last)).toBe(code);
  });

  it('stale guidance beats the floor, and a halt beats stale guidance', () => {
    const stale = order({ price: '1.00' });
    stale.metadata = { now: T0 + 60_000, guidanceSeenAt: T0 };
    expect(codeOf(run(open(), band('gv-1', '9', null, T0 - 1), stale).last)).toBe('MATCHING.GUIDANCE_STALE');
    const halt: BookCommand = { type: 'SetMarketStatus', data: { status: 'HALTED', reason: 'x' }, metadata: at(T0) };
    expect(codeOf(run(open(), halt, stale).last)).toBe('MATCHING.MARKET_HALTED');
  });

  it('the trading cut-off beats a halt', () => {
    const end = T0 + 1000;
    const halt: BookCommand = { type: 'SetMarketStatus', data: { status: 'HALTED', reason: 'x' }, metadata: at(T0) };
    expect(codeOf(run(open({ tradingEndsAt: iso(end) }), halt, order({}, end)).last)).toBe('MATCHING.TRADING_CLOSED');
  });

  it('a rejected order leaves the book unchanged and does not use up its client order id', () => {
    const { book, last } = run(open(), order({ clientOrderId: 'c', price: '10.001' }), order({ clientOrderId: 'c' }));
    expect(types(last)).toEqual(['OrderAccepted', 'OrderRested']);
    expect(book.orders.size).toBe(1);
  });
});
