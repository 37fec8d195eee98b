// Proves the book writer over a real SQLite file when the store fails: an append that landed although the caller
// saw an error is folded into the read model (the order answers, a retry replays it, a different body with the
// same client order id is refused), and a reload that fails too settles every caller and keeps the book writing.
import { join } from 'node:path';
import {
  appendEach,
  type AppendOutcome,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  SqliteEventStore,
  StoreUnavailable,
  type StreamAppend,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
} from '@cx/event-store';
import { DomainError, SimulatedClock } from '@cx/shared-kernel';
import { tempDir } from '@cx/testing';
import { matchingConfig } from '../config';
import { instrumentId } from './instruments';
import { MatchingEngine, type PlaceOrderInput } from './matching.engine';
import { bookStream } from './matching.events';

const T0 = new Date('2026-03-10T08:00:00Z');
const RC = 'nvidia-h100-sxm-80g';
const INSTR = instrumentId(RC, 'cn-east-1', '2026-03-11');
const META = { correlationId: 'c-1', causationId: 'c-1', actor: { service: 'test' } };

/** The real store, with failures on demand: an append that is written but answered with an error, failed reads. */
class FlakyStore implements EventStore {
  /** The next append is written, then StoreUnavailable is thrown (a COMMIT that landed, a timeout). */
  failNextAppendAfterWrite = false;
  /** Every stream read throws StoreUnavailable (the store is still down when the book reloads). */
  failReads = false;

  constructor(private readonly inner: EventStore) {}

  async appendToStream(
    stream: string,
    events: NewEvent | NewEvent[],
    opts?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult> {
    const r = await this.inner.appendToStream(stream, events, opts);
    if (this.failNextAppendAfterWrite) {
      this.failNextAppendAfterWrite = false;
      throw new StoreUnavailable('the append timed out');
    }
    return r;
  }

  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    return appendEach(this, appends);
  }

  readStream(stream: string, opts?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    if (!this.failReads) return this.inner.readStream(stream, opts);
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new StoreUnavailable('the store is unavailable')),
      }),
    };
  }

  readAll(opts?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readAll(opts);
  }

  subscribeToAll(opts: SubscribeToAllOptions): Subscription {
    return this.inner.subscribeToAll(opts);
  }

  subscribeToStream(stream: string, opts: SubscribeToStreamOptions): Subscription {
    return this.inner.subscribeToStream(stream, opts);
  }

  deleteStream(stream: string, opts?: { expectedRevision?: ExpectedRevision }): Promise<{ position: Position | null }> {
    return this.inner.deleteStream(stream, opts);
  }

  streamRevision(stream: string): Promise<bigint | 'no_stream'> {
    return this.inner.streamRevision(stream);
  }

  headPosition(): Promise<Position | null> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** How a promise settled within `ms` (a caller left hanging is 'pending'). */
const settle = async (p: Promise<unknown>, ms = 2_000): Promise<{ state: string; value?: unknown }> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ state: string }>((r) => {
    timer = setTimeout(() => r({ state: 'pending' }), ms);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ state: 'resolved', value }),
        (value: unknown) => ({ state: 'rejected', value }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
};

const bid = (clientOrderId: string, over: Partial<PlaceOrderInput> = {}): PlaceOrderInput => ({
  account: 'acme-01',
  instrument: INSTR,
  clientOrderId,
  side: 'buy',
  price: '12',
  quantityLots: 2,
  timeInForce: 'GTC',
  ...over,
});

describe('MatchingEngine when the store fails (SQLite)', () => {
  let dir: { path: string; remove: () => void };
  let real: SqliteEventStore;
  let store: FlakyStore;
  let engine: MatchingEngine;
  const errors: [string, unknown][] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);

  beforeEach(async () => {
    errors.length = 0;
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    dir = tempDir('cx-matching-engine-');
    real = SqliteEventStore.open(join(dir.path, 'cx.sqlite'));
    store = new FlakyStore(real);
    const clock = new SimulatedClock(T0);
    engine = new MatchingEngine({
      store,
      clock,
      config: matchingConfig({ maxGuidanceLagMs: 24 * 3_600_000 }),
      onError: (message, e) => errors.push([message, e]),
    });
    await engine.start({ follow: false });
    await engine.openInstrument(INSTR);
    engine.guidanceHeard(RC, T0.getTime());
  });

  afterEach(async () => {
    await engine.stop();
    await real.close();
    dir.remove();
    process.off('unhandledRejection', onUnhandled);
  });

  it('folds an append that landed despite the error into the read model: the order answers and a retry replays it', async () => {
    const ask = await engine.placeOrder(bid('ask-1', { account: 'beta-01', side: 'sell', quantityLots: 1 }), META);

    store.failNextAppendAfterWrite = true;
    const failed = await settle(engine.placeOrder(bid('bid-1'), META));
    expect(failed.state).toBe('rejected');
    expect(failed.value).toBeInstanceOf(StoreUnavailable);

    // The store has the order and its trade; so does the read model.
    const stored: string[] = [];
    for await (const e of real.readStream(bookStream(INSTR))) stored.push(e.type);
    expect(stored).toContain('TradeExecuted');
    const landed = engine.model.orderByClientId('acme-01', 'bid-1');
    expect(landed).toMatchObject({ status: 'partially_filled', filledLots: 1, remainingLots: 1 });
    expect(engine.order(ask.order.orderId)).toMatchObject({ status: 'filled' });
    expect(engine.model.tapes.get(INSTR)).toHaveLength(1);
    expect(engine.model.allAllocations()).toHaveLength(1);

    // GET, DELETE and a retry with the same client order id all find it.
    expect(engine.order(landed!.orderId)).toBe(landed);
    const retry = await engine.placeOrder(bid('bid-1'), META);
    expect(retry).toMatchObject({ replayed: true, order: { orderId: landed!.orderId } });
    await expect(engine.cancelOrder(landed!.orderId, META)).resolves.toMatchObject({
      status: 'cancelled',
      remainingLots: 0,
    });
    expect(errors).toEqual([]);
  });

  it('refuses a different order with the client order id of one the read model had not seen yet', async () => {
    store.failNextAppendAfterWrite = true;
    const first = engine.placeOrder(bid('bid-2'), META);
    // Queued while the append is in flight: neither the read model nor (yet) the book knows bid-2.
    const same = engine.placeOrder(bid('bid-2', { price: '12.00' }), META);
    const other = engine.placeOrder(bid('bid-2', { price: '13' }), META);
    expect((await settle(first)).value).toBeInstanceOf(StoreUnavailable);

    const replay = await settle(same);
    expect(replay.state).toBe('resolved');
    const landed = engine.model.orderByClientId('acme-01', 'bid-2');
    expect(replay.value).toMatchObject({ replayed: true, order: { orderId: landed!.orderId, price: '12' } });

    const refused = await settle(other);
    expect(refused.state).toBe('rejected');
    expect(refused.value).toBeInstanceOf(DomainError);
    expect(refused.value).toMatchObject({ code: 'MATCHING.DUPLICATE_CLIENT_ORDER_ID' });
    expect(engine.model.orderByClientId('acme-01', 'bid-2')).toBe(landed);
  });

  it('refuses a different order with a client order id decided earlier in the same batch', async () => {
    const head = engine.placeOrder(bid('head'), META); // the batch being appended
    const a = engine.placeOrder(bid('dup'), META); // these two are decided together, in the next batch
    const b = engine.placeOrder(bid('dup', { quantityLots: 5 }), META);
    await head;
    await expect(a).resolves.toMatchObject({ replayed: false });
    await expect(b).rejects.toMatchObject({ code: 'MATCHING.DUPLICATE_CLIENT_ORDER_ID' });
    expect(engine.model.orderByClientId('acme-01', 'dup')).toMatchObject({ quantityLots: 2 });
  });

  it('settles every caller when the reload fails too, and reloads before the next batch', async () => {
    store.failNextAppendAfterWrite = true;
    store.failReads = true;
    const first = engine.placeOrder(bid('bid-3'), META);
    const queued = engine.placeOrder(bid('bid-4'), META);

    const a = await settle(first);
    expect(a.state).toBe('rejected');
    expect(a.value).toBeInstanceOf(StoreUnavailable);
    const b = await settle(queued);
    expect(b.state).toBe('rejected');
    expect(b.value).toBeInstanceOf(StoreUnavailable);
    expect(engine.handle(INSTR)?.draining).toBe(false);
    expect(errors.map(([m]) => m)).toContain(`reloading book ${INSTR} failed`);

    // Still unavailable: refused, not left hanging, and nothing decided against the stale book.
    const meanwhile = await settle(engine.placeOrder(bid('bid-5'), META));
    expect(meanwhile.value).toBeInstanceOf(StoreUnavailable);

    store.failReads = false;
    const later = await settle(engine.placeOrder(bid('bid-6'), META));
    expect(later.state).toBe('resolved');
    expect(later.value).toMatchObject({ replayed: false, order: { clientOrderId: 'bid-6', status: 'open' } });
    // The append that landed is now in the read model; the refused ones are nowhere.
    expect(engine.model.orderByClientId('acme-01', 'bid-3')).toMatchObject({ status: 'open' });
    expect(engine.model.orderByClientId('acme-01', 'bid-4')).toBeUndefined();
    expect(engine.model.orderByClientId('acme-01', 'bid-5')).toBeUndefined();
    await expect(engine.placeOrder(bid('bid-3'), META)).resolves.toMatchObject({ replayed: true });
    const types: string[] = [];
    for await (const e of real.readStream(bookStream(INSTR))) types.push(e.type);
    expect(types.filter((t) => t === 'OrderAccepted')).toHaveLength(2);
    expect(unhandled).toEqual([]);
  });
});
