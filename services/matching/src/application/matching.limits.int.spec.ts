// Proves an account's order limits (max open quantity and notional, from identity) hold across all of its books,
// checked before matching: orders racing on two books cannot together pass a limit, notional counts each book's
// tick and lot size exactly, a refusal carries a stable code and field and records nothing, and what leaves the
// book (a cancel, a fill) frees the limit again. Over a real SQLite file.
import { join } from 'node:path';
import { SqliteEventStore } from '@cx/event-store';
import { DomainError, SimulatedClock } from '@cx/shared-kernel';
import { tempDir } from '@cx/testing';
import { matchingConfig } from '../config';
import type { AccountLimits } from '../domain/order-book/order-book.decider';
import { instrumentId } from './instruments';
import { MatchingEngine, type PlaceOrderInput } from './matching.engine';
import { bookStream } from './matching.events';

const T0 = new Date('2026-03-10T08:00:00Z');
const H100 = 'nvidia-h100-sxm-80g';
const ASCEND = 'huawei-ascend-910b';
const DAY1 = instrumentId(H100, 'cn-east-1', '2026-03-11');
const DAY2 = instrumentId(H100, 'cn-east-1', '2026-03-12');
// Another class with 8 accelerator-hours per lot: a lot there is worth 8× the price.
const ASC = instrumentId(ASCEND, 'cn-east-1', '2026-03-11');
const META = { correlationId: 'c-1', causationId: 'c-1', actor: { service: 'test' } };

const order = (instrument: string, clientOrderId: string, over: Partial<PlaceOrderInput> = {}): PlaceOrderInput => ({
  account: 'acme-01',
  instrument,
  clientOrderId,
  side: 'buy',
  price: '10',
  quantityLots: 1,
  timeInForce: 'GTC',
  ...over,
});

describe('account limits across books (SQLite)', () => {
  let dir: { path: string; remove: () => void };
  let store: SqliteEventStore;
  let engine: MatchingEngine;
  const limits = new Map<string, AccountLimits>();

  beforeEach(async () => {
    limits.clear();
    dir = tempDir('cx-matching-limits-');
    store = SqliteEventStore.open(join(dir.path, 'cx.sqlite'));
    engine = new MatchingEngine({
      store,
      clock: new SimulatedClock(T0),
      config: matchingConfig({
        maxGuidanceLagMs: 24 * 3_600_000,
        specs: { [ASCEND]: { tickSize: '0.05', lotSize: '8' } },
      }),
      limitsOf: (account) => limits.get(account) ?? null,
    });
    await engine.start({ follow: false });
    for (const id of [DAY1, DAY2, ASC]) await engine.openInstrument(id);
    engine.guidanceHeard(H100, T0.getTime());
    engine.guidanceHeard(ASCEND, T0.getTime());
  });

  afterEach(async () => {
    await engine.stop();
    await store.close();
    dir.remove();
  });

  const outcomes = (results: PromiseSettledResult<unknown>[]) =>
    results.map((r) => (r.status === 'fulfilled' ? 'accepted' : (r.reason as DomainError).code));

  it('refuses the order that would take open quantity across two books over the limit, even when they race', async () => {
    limits.set('acme-01', { maxOpenQuantityLots: 10, maxOpenNotional: null });
    const results = await Promise.allSettled([
      engine.placeOrder(order(DAY1, 'a', { quantityLots: 6 }), META),
      engine.placeOrder(order(DAY2, 'b', { quantityLots: 6 }), META),
    ]);
    expect(outcomes(results)).toEqual(['accepted', 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED']);
    const refused = (results[1] as PromiseRejectedResult).reason as DomainError;
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({
      code: 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED',
      details: [{ field: 'quantityLots', code: 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED' }],
    });
    // Up to the limit exactly is allowed; the refused order rested nowhere.
    await expect(engine.placeOrder(order(DAY2, 'c', { quantityLots: 4 }), META)).resolves.toMatchObject({
      order: { status: 'open' },
    });
    const rested: string[] = [];
    for (const id of [DAY1, DAY2]) {
      for await (const e of store.readStream(bookStream(id))) {
        if (e.type === 'OrderRested') rested.push((e.data as { clientOrderId: string }).clientOrderId);
      }
    }
    expect(rested.sort()).toEqual(['a', 'c']);
  });

  it('lets many concurrent orders on three books fill up to the limit, never past it', async () => {
    limits.set('acme-01', { maxOpenQuantityLots: 25, maxOpenNotional: null });
    const books = [DAY1, DAY2, ASC];
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        engine.placeOrder(order(books[i % 3]!, `o-${i}`, { quantityLots: 1 + (i % 3) }), META),
      ),
    );
    const open = [DAY1, DAY2, ASC]
      .map((id) => engine.handle(id)!.book.accounts.get('acme-01')?.openLots ?? 0)
      .reduce((a, b) => a + b, 0);
    expect(open).toBeLessThanOrEqual(25);
    expect(outcomes(results).filter((o) => o === 'accepted').length).toBeGreaterThan(0);
    for (const o of outcomes(results)) expect(['accepted', 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED']).toContain(o);
  });

  it('counts notional across books with each book’s tick and lot size, exactly', async () => {
    limits.set('acme-01', { maxOpenQuantityLots: null, maxOpenNotional: '200' });
    // 10 lots × 12.00 × 1 h = 120 on H100; 1 lot × 10.00 × 8 h = 80 on Ascend: 200, the limit.
    await engine.placeOrder(order(DAY1, 'h', { quantityLots: 10, price: '12' }), META);
    await engine.placeOrder(order(ASC, 'a1', { quantityLots: 1, price: '10' }), META);
    await expect(
      engine.placeOrder(order(DAY2, 'over', { quantityLots: 1, price: '0.01' }), META),
    ).rejects.toMatchObject({ code: 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED', details: [{ field: 'price' }] });
    // A reprice that raises the notional elsewhere-counted is refused too; one that lowers it frees room.
    const a1 = engine.model.orderByClientId('acme-01', 'a1')!;
    await expect(engine.repriceOrder(a1.orderId, '10.05', META)).rejects.toMatchObject({
      code: 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED',
    });
    await engine.repriceOrder(a1.orderId, '9.95', META);
    // 0.40 freed: 40 lots of 0.01 on H100 fit exactly, 41 do not.
    await expect(
      engine.placeOrder(order(DAY2, 'fit-over', { quantityLots: 41, price: '0.01' }), META),
    ).rejects.toMatchObject({ code: 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED' });
    await expect(
      engine.placeOrder(order(DAY2, 'fit', { quantityLots: 40, price: '0.01' }), META),
    ).resolves.toMatchObject({ order: { status: 'open' } });
  });

  it('frees the limit when an order leaves a book (a cancel or a fill)', async () => {
    limits.set('acme-01', { maxOpenQuantityLots: 5, maxOpenNotional: null });
    const first = await engine.placeOrder(order(DAY1, 'x', { quantityLots: 5 }), META);
    await expect(engine.placeOrder(order(DAY2, 'y', { quantityLots: 1 }), META)).rejects.toMatchObject({
      code: 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED',
    });
    // Another account sells 2 into the bid: 3 lots stay open.
    await engine.placeOrder(order(DAY1, 's', { account: 'beta-01', side: 'sell', quantityLots: 2 }), META);
    await expect(engine.placeOrder(order(DAY2, 'y2', { quantityLots: 2 }), META)).resolves.toBeDefined();
    await engine.cancelOrder(first.order.orderId, META);
    await expect(engine.placeOrder(order(DAY2, 'y3', { quantityLots: 3 }), META)).resolves.toBeDefined();
  });
});
