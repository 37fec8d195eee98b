import { assert } from '@cx/shared-kernel';
import type { Side, TimeInForce } from './order-book.events';
import type { BandScope, BookBandVersion } from './order-book.guidance';
import type { TickGrid } from './order-book.units';

// The in-memory book: the hot aggregate. It is mutated in place by `evolve` (one writer per book), which is what
// keeps applying an event O(1) or O(log levels):
// - each side keeps its price levels in one array sorted so that the BEST level is LAST (bids ascending, asks
//   descending): taking out the best level is a pop, and new levels near the touch are inserted near the end;
//   a Map from tick price to level finds a level without searching;
// - each level is a FIFO queue kept as an intrusive doubly linked list through the orders, so cancelling any order
//   is O(1) once the order map has found it;
// - GTD expiries sit in a binary min-heap with lazy deletion (an entry whose order has left the book is dropped
//   when it reaches the top), so the next expiry is read in O(1).

export interface RestingOrder {
  readonly id: string;
  readonly clientOrderId: string;
  readonly account: string;
  readonly side: Side;
  readonly priceTicks: number;
  readonly price: string;
  quantityLots: number;
  filledLots: number;
  remainingLots: number;
  readonly timeInForce: TimeInForce;
  readonly expiresAt: string | null;
  readonly expiresAtMs: number | null;
  readonly postOnly: boolean;
  /** Null once the order has left the book: how the expiry heap tells dead entries apart. */
  level: Level | null;
  prev: RestingOrder | null;
  next: RestingOrder | null;
}

export interface Level {
  readonly priceTicks: number;
  head: RestingOrder | null;
  tail: RestingOrder | null;
  totalLots: number;
  count: number;
}

export interface BookSide {
  readonly side: Side;
  /** Sorted so that the best price is last. */
  readonly levels: Level[];
  readonly byPrice: Map<number, Level>;
}

export interface ActiveBand {
  readonly guidanceVersion: string;
  readonly floor: string;
  readonly ceiling: string | null;
  /** Lowest tick price at or above the floor. */
  readonly floorTicks: number;
  /** Highest tick price at or below the ceiling; +Infinity without a ceiling. */
  readonly ceilingTicks: number;
  readonly effectiveFrom: string;
  readonly effectiveTo: string | null;
}

export interface AccountExposure {
  openLots: number;
  /** Σ priceTicks × remainingLots over the account's resting orders. */
  openTickLots: number;
}

interface ExpiryEntry {
  readonly ms: number;
  readonly seq: number;
  readonly order: RestingOrder;
}

export interface Book {
  opened: boolean;
  instrument: string;
  grid: TickGrid | null;
  lotSize: string;
  tradingEndsAt: string | null;
  tradingEndsAtMs: number;
  maxGuidanceLagMs: number;
  closed: boolean;
  halted: boolean;
  /** The class and region whose bands apply (from the instrument id). */
  scope: BandScope;
  /** The band in force as of `bandSinceMs`; null: no band (no floor). */
  band: ActiveBand | null;
  /** The instant of the last band change the book recorded (-Infinity: none yet). */
  bandSinceMs: number;
  /** Every guidance version heard, in the order heard: the band in force is `bandAt` over them. */
  guidance: BookBandVersion[];
  /** The earliest instant at which `bandAt` over `guidance` stops being `band`; +Infinity: never (so far). */
  nextBandChangeMs: number;
  /** Every guidance version this book has heard of: guidance arrives at least once, so repeats are ignored. */
  bandVersions: Set<string>;
  bids: BookSide;
  asks: BookSide;
  orders: Map<string, RestingOrder>;
  accounts: Map<string, AccountExposure>;
  /** `${account}\u0000${clientOrderId}` → order id, for every order ever accepted. */
  clientOrderIds: Map<string, string>;
  expiries: ExpiryEntry[];
  restSequence: number;
  tradeSequence: number;
}

const newSide = (side: Side): BookSide => ({ side, levels: [], byPrice: new Map() });

export const emptyBook = (): Book => ({
  opened: false,
  instrument: '',
  grid: null,
  lotSize: '1',
  tradingEndsAt: null,
  tradingEndsAtMs: Number.POSITIVE_INFINITY,
  maxGuidanceLagMs: 0,
  closed: false,
  halted: false,
  scope: { resourceClass: '', region: '' },
  band: null,
  bandSinceMs: Number.NEGATIVE_INFINITY,
  guidance: [],
  nextBandChangeMs: Number.POSITIVE_INFINITY,
  bandVersions: new Set(),
  bids: newSide('buy'),
  asks: newSide('sell'),
  orders: new Map(),
  accounts: new Map(),
  clientOrderIds: new Map(),
  expiries: [],
  restSequence: 0,
  tradeSequence: 0,
});

export const clientKey = (account: string, clientOrderId: string): string => `${account}\u0000${clientOrderId}`;

/** Is `a` a better price than `b` for this side? */
const better = (side: Side, a: number, b: number): boolean => (side === 'buy' ? a > b : a < b);

/** Index of the first level whose price is not worse than `ticks`… in array order (worst first). */
const insertionIndex = (s: BookSide, ticks: number): number => {
  const levels = s.levels;
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (better(s.side, ticks, (levels[mid] as Level).priceTicks)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

export const sideOf = (book: Book, side: Side): BookSide => (side === 'buy' ? book.bids : book.asks);

export const restOrder = (book: Book, o: RestingOrder): void => {
  const s = sideOf(book, o.side);
  let level = s.byPrice.get(o.priceTicks);
  if (level === undefined) {
    level = { priceTicks: o.priceTicks, head: null, tail: null, totalLots: 0, count: 0 };
    s.byPrice.set(o.priceTicks, level);
    const levels = s.levels;
    const last = levels[levels.length - 1];
    // Most new levels are the new best price: skip the search.
    if (last === undefined || better(s.side, o.priceTicks, last.priceTicks)) levels.push(level);
    else levels.splice(insertionIndex(s, o.priceTicks), 0, level);
  }
  o.level = level;
  o.prev = level.tail;
  o.next = null;
  if (level.tail) level.tail.next = o;
  else level.head = o;
  level.tail = o;
  level.totalLots += o.remainingLots;
  level.count++;
  book.orders.set(o.id, o);
  let acc = book.accounts.get(o.account);
  if (acc === undefined) {
    acc = { openLots: 0, openTickLots: 0 };
    book.accounts.set(o.account, acc);
  }
  acc.openLots += o.remainingLots;
  acc.openTickLots += o.remainingLots * o.priceTicks;
  if (o.expiresAtMs !== null) heapPush(book.expiries, { ms: o.expiresAtMs, seq: ++book.restSequence, order: o });
};

/** Takes lots off a resting order (a fill or a reduction); removes it from the book when none remain. */
export const takeLots = (book: Book, o: RestingOrder, lots: number): void => {
  const level = o.level;
  assert(level !== null, `order ${o.id} is not in the book`);
  assert(lots > 0 && lots <= o.remainingLots, `cannot take ${lots} lots from ${o.id} (${o.remainingLots} left)`);
  o.remainingLots -= lots;
  level.totalLots -= lots;
  const acc = book.accounts.get(o.account) as AccountExposure;
  acc.openLots -= lots;
  acc.openTickLots -= lots * o.priceTicks;
  if (acc.openLots === 0) book.accounts.delete(o.account);
  if (o.remainingLots === 0) unlink(book, o);
};

/** Removes an order and all its remaining lots from the book. */
export const removeOrder = (book: Book, o: RestingOrder): void => {
  if (o.remainingLots > 0) takeLots(book, o, o.remainingLots);
  else if (o.level !== null) unlink(book, o);
};

const unlink = (book: Book, o: RestingOrder): void => {
  const level = o.level as Level;
  if (o.prev) o.prev.next = o.next;
  else level.head = o.next;
  if (o.next) o.next.prev = o.prev;
  else level.tail = o.prev;
  o.prev = o.next = null;
  o.level = null;
  level.count--;
  book.orders.delete(o.id);
  if (level.count === 0) {
    const s = sideOf(book, o.side);
    s.byPrice.delete(level.priceTicks);
    const levels = s.levels;
    if (levels[levels.length - 1] === level) levels.pop();
    else {
      const i = insertionIndex(s, level.priceTicks);
      assert(levels[i] === level, 'level array out of order');
      levels.splice(i, 1);
    }
  }
  if (o.expiresAtMs !== null) dropDeadExpiries(book);
};

// ---- expiry heap (min by ms, then by rest sequence) ----

const earlier = (a: ExpiryEntry, b: ExpiryEntry): boolean => a.ms < b.ms || (a.ms === b.ms && a.seq < b.seq);

const heapPush = (h: ExpiryEntry[], e: ExpiryEntry): void => {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!earlier(h[i] as ExpiryEntry, h[p] as ExpiryEntry)) break;
    [h[i], h[p]] = [h[p] as ExpiryEntry, h[i] as ExpiryEntry];
    i = p;
  }
};

const heapPop = (h: ExpiryEntry[]): void => {
  const last = h.pop() as ExpiryEntry;
  if (h.length === 0) return;
  h[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && earlier(h[l] as ExpiryEntry, h[m] as ExpiryEntry)) m = l;
    if (r < h.length && earlier(h[r] as ExpiryEntry, h[m] as ExpiryEntry)) m = r;
    if (m === i) return;
    [h[i], h[m]] = [h[m] as ExpiryEntry, h[i] as ExpiryEntry];
    i = m;
  }
};

/** Keeps the invariant that the heap's top is a live order, so "is anything due?" is one comparison. */
const dropDeadExpiries = (book: Book): void => {
  const h = book.expiries;
  while (h.length > 0 && (h[0] as ExpiryEntry).order.level === null) heapPop(h);
};

/** The earliest GTD expiry among resting orders, or +Infinity. */
export const nextExpiryMs = (book: Book): number => book.expiries[0]?.ms ?? Number.POSITIVE_INFINITY;

/** Live orders whose expiry is at or before `now`, earliest first (ties: the order they rested in). Read-only. */
export const dueExpiries = (book: Book, now: number): RestingOrder[] => {
  const h = book.expiries;
  const due: ExpiryEntry[] = [];
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const e = h[i];
    if (e === undefined || e.ms > now) continue;
    if (e.order.level !== null) due.push(e);
    stack.push(2 * i + 1, 2 * i + 2);
  }
  due.sort((a, b) => (earlier(a, b) ? -1 : 1));
  return due.map((e) => e.order);
};

// ---- snapshot and invariants ----

/** A plain, canonical picture of the book's state: two books are the same when their snapshots are deep-equal. */
export const snapshot = (book: Book) => {
  const sideSnap = (s: BookSide) =>
    [...s.levels].reverse().map((l) => {
      const orders = [];
      for (let o = l.head; o; o = o.next) {
        orders.push({
          id: o.id,
          clientOrderId: o.clientOrderId,
          account: o.account,
          price: o.price,
          quantityLots: o.quantityLots,
          filledLots: o.filledLots,
          remainingLots: o.remainingLots,
          timeInForce: o.timeInForce,
          expiresAt: o.expiresAt,
          postOnly: o.postOnly,
        });
      }
      return { priceTicks: l.priceTicks, totalLots: l.totalLots, orders };
    });
  const bandSnap = (b: ActiveBand | null) =>
    b && {
      guidanceVersion: b.guidanceVersion,
      floor: b.floor,
      ceiling: b.ceiling,
      from: b.effectiveFrom,
      to: b.effectiveTo,
    };
  return {
    opened: book.opened,
    instrument: book.instrument,
    tickSize: book.grid?.tickSize ?? null,
    lotSize: book.lotSize,
    tradingEndsAt: book.tradingEndsAt,
    maxGuidanceLagMs: book.maxGuidanceLagMs,
    closed: book.closed,
    halted: book.halted,
    band: bandSnap(book.band),
    bandSinceMs: book.bandSinceMs,
    guidance: [...book.guidance].sort((a, b) => (a.versionId < b.versionId ? -1 : a.versionId > b.versionId ? 1 : 0)),
    nextBandChangeMs: book.nextBandChangeMs,
    bandVersions: [...book.bandVersions].sort(),
    bids: sideSnap(book.bids),
    asks: sideSnap(book.asks),
    accounts: [...book.accounts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    clientOrderIds: [...book.clientOrderIds.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    expiries: dueExpiries(book, Number.POSITIVE_INFINITY).map((o) => o.id),
    tradeSequence: book.tradeSequence,
  };
};
export type BookSnapshot = ReturnType<typeof snapshot>;

/**
 * Checks every structural invariant of the book (exchange-core style: run around tests, not in production's hot
 * path). Throws AssertionFailed on the first broken one.
 */
export const checkInvariants = (book: Book): void => {
  const exposure = new Map<string, AccountExposure>();
  let seen = 0;
  for (const s of [book.bids, book.asks]) {
    assert(s.levels.length === s.byPrice.size, `${s.side}: level array and map disagree`);
    s.levels.forEach((l, i) => {
      const prev = s.levels[i - 1];
      if (prev) assert(better(s.side, l.priceTicks, prev.priceTicks), `${s.side}: levels out of order`);
      assert(s.byPrice.get(l.priceTicks) === l, `${s.side}: level map points elsewhere`);
      let total = 0;
      let count = 0;
      let prevOrder: RestingOrder | null = null;
      for (let o = l.head; o; o = o.next) {
        assert(o.prev === prevOrder && o.level === l, `${o.id}: broken queue links`);
        assert(o.remainingLots > 0 && o.filledLots + o.remainingLots === o.quantityLots, `${o.id}: lots`);
        assert(o.side === s.side && o.priceTicks === l.priceTicks, `${o.id}: on the wrong level`);
        assert(book.orders.get(o.id) === o, `${o.id}: not in the order map`);
        if (book.band) {
          assert(o.priceTicks >= book.band.floorTicks && o.priceTicks <= book.band.ceilingTicks, `${o.id}: off band`);
        }
        const e = exposure.get(o.account) ?? { openLots: 0, openTickLots: 0 };
        e.openLots += o.remainingLots;
        e.openTickLots += o.remainingLots * o.priceTicks;
        exposure.set(o.account, e);
        total += o.remainingLots;
        count++;
        prevOrder = o;
      }
      assert(l.tail === prevOrder && count === l.count && count > 0, `${s.side} ${l.priceTicks}: count`);
      assert(total === l.totalLots, `${s.side} ${l.priceTicks}: total lots`);
      seen += count;
    });
  }
  assert(seen === book.orders.size, 'order map holds orders that are not in the book');
  const bestBid = book.bids.levels[book.bids.levels.length - 1];
  const bestAsk = book.asks.levels[book.asks.levels.length - 1];
  if (bestBid && bestAsk) assert(bestBid.priceTicks < bestAsk.priceTicks, 'the book is crossed');
  assert(exposure.size === book.accounts.size, 'account exposure map out of step');
  for (const [account, e] of exposure) {
    const a = book.accounts.get(account);
    assert(a && a.openLots === e.openLots && a.openTickLots === e.openTickLots, `${account}: exposure`);
  }
  const top = book.expiries[0];
  assert(top === undefined || top.order.level !== null, 'the expiry heap top is dead');
};
