import type { BandVersionKind } from '@cx/guidance';
import { Dec, DomainError, assert, assertNever, isDecimalString } from '@cx/shared-kernel';
import type {
  BandRecord,
  BookEvent,
  CancelReason,
  ModificationRejected,
  OrderRejected,
  RejectCode,
  Side,
  TimeInForce,
} from './order-book.events';
import {
  type ActiveBand,
  type Book,
  type RestingOrder,
  clientKey,
  dueExpiries,
  emptyBook,
  nextExpiryMs,
  removeOrder,
  restOrder,
  sideOf,
  takeLots,
} from './order-book.state';
import {
  BAND_KINDS,
  type BandScope,
  type BookBandVersion,
  bandCovers,
  bandInForce,
  legacyVersionFields,
  nextBandChange,
  scopeOfInstrument,
} from './order-book.guidance';
import {
  ceilingToTicks,
  floorToTicks,
  isValidLots,
  isoOf,
  parseInstant,
  priceToTicks,
  tickGrid,
  ticksToPrice,
} from './order-book.units';

// The order book decider: `decide(command, book) → events` judges a command against the book without changing
// it; `evolve(book, event) → book` applies one event. Both are pure in the sense that matters for event sourcing:
// no I/O, no clock, no randomness: time, the freshness of guidance and the account's limits arrive on the
// command, and ids are derived (`${instrument}-${sequence}` for trades). The book is a hot aggregate, so `evolve`
// mutates it in place and returns it (STYLE.md: hot aggregates stay in memory with one writer).
//
// Matching is done once. `decide` walks the book read-only and writes down what happens (trades, self-trade
// cancellations, the rest of the order); `evolve` then applies each event in O(1) (a fill takes lots off one
// known order; a rest appends to one known level) or O(log levels) when a level appears or disappears. The walk
// never needs its own effects: the taker consumes makers strictly in queue order, so "how much is left of this
// maker" is always either all of it or what the taker had left. Time-driven work due at the command's instant
// (bands taking force, GTD expiries, the trading cut-off) is decided first, and the orders it removes are
// passed to the walk as a small `gone` set, so even then nothing is copied.
//
// Rejection precedence for PlaceOrder (the first that applies wins; the decider spec holds the table):
//   1. MATCHING.UNKNOWN_INSTRUMENT   the book was never opened, or the command names another instrument. The app
//                                    layer answers this code itself when no book exists for the instrument.
//   2. input, field by field:  MATCHING.INVALID_ORDER (side / timeInForce / ids) → INVALID_PRICE → OFF_TICK →
//      INVALID_QUANTITY (zero, negative, fractional or too many lots) → INVALID_EXPIRES_AT (GTD without one, or
//      one on another time in force) → GTD_EXPIRED (expiresAt at or before now) → INVALID_POST_ONLY (with IOC/FOK)
//   3. MATCHING.DUPLICATE_CLIENT_ORDER_ID   the account already used this client order id on this book
//   4. MATCHING.TRADING_CLOSED       the instrument passed its trading cut-off
//   5. MATCHING.MARKET_HALTED        a halt is in force
//   6. MATCHING.GUIDANCE_STALE       matching's view of guidance is older than the configured maximum lag
//   7. MATCHING.BELOW_FLOOR / MATCHING.ABOVE_CEILING   against the band in force at `now`
//   8. MATCHING.MAX_OPEN_QUANTITY_EXCEEDED → MAX_OPEN_NOTIONAL_EXCEEDED   the account's limits, with the whole
//      new order counted as open (checked before matching, so an order that would trade at once counts too)
// Bad input comes first because nothing else can be judged about it; then the market's state, most general
// first (a closed or halted market says more than stale guidance); then the band, which is about this price;
// then the account. Post-only orders that would cross are accepted and then cancelled (POST_ONLY_WOULD_CROSS).
//
// Cancel, reduce and reprice: UNKNOWN_INSTRUMENT → ORDER_NOT_FOUND (unknown, already gone, or another account's
// order: the same answer, so ids of other tenants cannot be probed) → input (INVALID_QUANTITY for reduce;
// INVALID_PRICE → OFF_TICK for reprice). Cancel and reduce lower risk, so they are allowed while halted or stale;
// a reprice may trade, so it then continues: MARKET_HALTED → GUIDANCE_STALE → BELOW_FLOOR / ABOVE_CEILING →
// POST_ONLY_WOULD_CROSS (a post-only order is not moved to a crossing price) → MAX_OPEN_NOTIONAL_EXCEEDED.

export interface CommandMetadata {
  /** The instant of the decision, epoch milliseconds, from the clock port. */
  now: number;
  /**
   * When matching last heard from guidance (a band or a heartbeat on `cx.pricing.guidance.v1`), epoch ms; null:
   * never. The app tracks heartbeats; they are not book events, since the book's stream would fill with them.
   */
  guidanceSeenAt: number | null;
}

export interface AccountLimits {
  /** Most lots the account may have open (resting plus the new order) across all its books; null: no limit. */
  maxOpenQuantityLots: number | null;
  /** Most notional (price × quantity, in the currency) open across all its books; null: no limit. */
  maxOpenNotional: string | null;
}

/**
 * What the account has open on its OTHER books, as the application knows it when this command is decided (its
 * limits hold across all of its books). Carried on the command, like the time, so the decision stays pure.
 */
export interface ExposureElsewhere {
  openLots: number;
  /** Decimal string, in the instrument's currency. */
  openNotional: string;
}

export interface OpenBook {
  type: 'OpenBook';
  data: {
    instrument: string;
    tickSize: string;
    /** Accelerator-hours per lot: turns tick-lots into notional. */
    lotSize: string;
    tradingEndsAt: string | null;
    maxGuidanceLagMs: number;
  };
  metadata: CommandMetadata;
}

export interface PlaceOrder {
  type: 'PlaceOrder';
  data: {
    orderId: string;
    clientOrderId: string;
    account: string;
    instrument: string;
    side: Side;
    price: string;
    quantityLots: number;
    timeInForce: TimeInForce;
    expiresAt?: string | null;
    postOnly?: boolean;
    limits?: AccountLimits | null;
    /** Absent or null: nothing open elsewhere. */
    elsewhere?: ExposureElsewhere | null;
  };
  metadata: CommandMetadata;
}

export interface CancelOrder {
  type: 'CancelOrder';
  data: { orderId: string; account: string; instrument: string };
  metadata: CommandMetadata;
}

export interface ReduceOrder {
  type: 'ReduceOrder';
  /** `quantityLots`: the order's new total quantity (filled included, as FIX's OrderQty), below the current one. */
  data: { orderId: string; account: string; instrument: string; quantityLots: number };
  metadata: CommandMetadata;
}

export interface RepriceOrder {
  type: 'RepriceOrder';
  data: {
    orderId: string;
    account: string;
    instrument: string;
    price: string;
    limits?: AccountLimits | null;
    elsewhere?: ExposureElsewhere | null;
  };
  metadata: CommandMetadata;
}

/** The kill switch: cancels every resting order of the account on this book. */
export interface CancelAllOrders {
  type: 'CancelAllOrders';
  data: { account: string; instrument: string };
  metadata: CommandMetadata;
}

/**
 * A guidance version (issue, amendment or withdrawal) for the instrument's class, national or for its region. The
 * book keeps every version it hears and the band in force is `bandAt` over them (order-book.guidance.ts): the
 * app sends every version of the class nationally and in the book's region, and no resolution of its own.
 */
export interface ApplyBand {
  type: 'ApplyBand';
  data: {
    /** `<bandId>.v<version>`. */
    guidanceVersion: string;
    /**
     * The band line, its version number, the kind of change, and its class and region (null: national). Callers
     * that name a version only (benchmarks, older tools) leave them out: they are then read from the version id,
     * as a national issue or amendment of the book's class.
     */
    bandId?: string;
    version?: number;
    kind?: BandVersionKind;
    resourceClass?: string;
    region?: string | null;
    floor: string;
    ceiling: string | null;
    effectiveFrom: string;
    effectiveTo: string | null;
  };
  metadata: CommandMetadata;
}

export interface SetMarketStatus {
  type: 'SetMarketStatus';
  data: { status: 'HALTED' | 'OPEN'; reason: string };
  metadata: CommandMetadata;
}

/** Time passed: applies whatever fell due (bands, GTD expiries, the cut-off). Sent by the app on a timer. */
export interface Tick {
  type: 'Tick';
  data: Record<string, never>;
  metadata: CommandMetadata;
}

export type BookCommand =
  | OpenBook
  | PlaceOrder
  | CancelOrder
  | ReduceOrder
  | RepriceOrder
  | CancelAllOrders
  | ApplyBand
  | SetMarketStatus
  | Tick;

export const initialBook = emptyBook;

// ---------------------------------------------------------------------------------------------------------------
// decide

/** What the command is judged against once time-driven work due at `now` is accounted for. */
interface View {
  band: ActiveBand | null;
  closed: boolean;
  /** Orders that the time-driven events of this decision remove; null (the common case) when there are none. */
  gone: Set<string> | null;
}

const NO_BAND: BandRecord = { floor: null, ceiling: null, guidanceVersion: null };
const bandRecord = (b: ActiveBand | null): BandRecord =>
  b ? { floor: b.floor, ceiling: b.ceiling, guidanceVersion: b.guidanceVersion } : NO_BAND;

export const decide = (cmd: BookCommand, book: Book): BookEvent[] => {
  const out: BookEvent[] = [];
  const now = cmd.metadata.now;
  if (cmd.type === 'OpenBook') return openBook(cmd, book);
  if (cmd.type === 'ApplyBand') return applyBand(cmd, book);
  const view = book.opened ? housekeeping(book, now, out) : { band: null, closed: false, gone: null };
  switch (cmd.type) {
    case 'PlaceOrder':
      placeOrder(cmd, book, view, out);
      break;
    case 'CancelOrder':
      cancelOrder(cmd, book, view, out);
      break;
    case 'ReduceOrder':
      reduceOrder(cmd, book, view, out);
      break;
    case 'RepriceOrder':
      repriceOrder(cmd, book, view, out);
      break;
    case 'CancelAllOrders':
      if (!book.opened || cmd.data.instrument !== book.instrument) break;
      for (const o of book.orders.values()) {
        if (o.account === cmd.data.account && !view.gone?.has(o.id)) out.push(cancelled(o, 'KILL_SWITCH', null, now));
      }
      break;
    case 'SetMarketStatus':
      if (!book.opened) throw DomainError.notFound('MATCHING.UNKNOWN_INSTRUMENT', 'the book is not open');
      if (cmd.data.status === 'HALTED' && !book.halted) {
        out.push({ type: 'MarketHalted', data: { reason: cmd.data.reason, haltedAt: isoOf(now) } });
      } else if (cmd.data.status === 'OPEN' && book.halted) {
        out.push({ type: 'MarketResumed', data: { reason: cmd.data.reason, resumedAt: isoOf(now) } });
      }
      break;
    case 'Tick':
      break;
    default:
      assertNever(cmd);
  }
  return out;
};

const openBook = (cmd: OpenBook, book: Book): BookEvent[] => {
  const d = cmd.data;
  if (book.opened) {
    if (book.instrument === d.instrument && book.grid?.tickSize === new Dec(d.tickSize).toFixed()) return [];
    throw DomainError.conflict('MATCHING.BOOK_ALREADY_OPEN', `book ${book.instrument} is already open`);
  }
  tickGrid(d.tickSize);
  if (!isDecimalString(d.lotSize) || new Dec(d.lotSize).lte(0)) {
    throw DomainError.invalid('MATCHING.INVALID_LOT_SIZE', 'lot size must be a positive decimal', 'lotSize');
  }
  if (d.tradingEndsAt !== null && Number.isNaN(parseInstant(d.tradingEndsAt))) {
    throw DomainError.invalid('MATCHING.INVALID_INSTANT', 'tradingEndsAt must be a UTC instant', 'tradingEndsAt');
  }
  return [
    {
      type: 'BookOpened',
      data: {
        instrument: d.instrument,
        tickSize: new Dec(d.tickSize).toFixed(),
        lotSize: new Dec(d.lotSize).toFixed(),
        tradingEndsAt: d.tradingEndsAt,
        maxGuidanceLagMs: d.maxGuidanceLagMs,
        openedAt: isoOf(cmd.metadata.now),
      },
    },
  ];
};

const applyBand = (cmd: ApplyBand, book: Book): BookEvent[] => {
  const out: BookEvent[] = [];
  if (!book.opened) throw DomainError.notFound('MATCHING.UNKNOWN_INSTRUMENT', 'the book is not open');
  // Guidance arrives at least once; a version already heard of changes nothing but the passing of time.
  if (book.bandVersions.has(cmd.data.guidanceVersion)) {
    housekeeping(book, cmd.metadata.now, out);
    return out;
  }
  const invalid = (message: string, field?: string) => DomainError.invalid('MATCHING.INVALID_BAND', message, field);
  const named = legacyVersionFields(book.scope, cmd.data.guidanceVersion);
  const d = {
    ...cmd.data,
    bandId: cmd.data.bandId ?? named.bandId,
    version: cmd.data.version ?? named.version,
    kind: cmd.data.kind ?? named.kind,
    resourceClass: cmd.data.resourceClass ?? named.resourceClass,
    region: cmd.data.region === undefined ? named.region : cmd.data.region,
  };
  if (!bandCovers(book.scope, d)) throw invalid(`the band ${d.bandId} is not for ${book.instrument}`, 'bandId');
  if (!BAND_KINDS.has(d.kind)) throw invalid('kind must be issued, amended or withdrawn', 'kind');
  if (!Number.isSafeInteger(d.version) || d.version < 1) throw invalid('version must be a positive integer', 'version');
  if (!isDecimalString(d.floor) || new Dec(d.floor).lt(0))
    throw invalid('floor must be a non-negative decimal', 'floor');
  // A ceiling below the floor is recorded as issued: no price is then inside the band, so nothing rests or trades
  // while it is in force. Stricter than any other reading, and the same band the audit resolves.
  if (d.ceiling !== null && !isDecimalString(d.ceiling)) throw invalid('ceiling must be a decimal', 'ceiling');
  if (
    Number.isNaN(parseInstant(d.effectiveFrom)) ||
    (d.effectiveTo !== null && Number.isNaN(parseInstant(d.effectiveTo)))
  ) {
    throw invalid('effectiveFrom/effectiveTo must be UTC instants', 'effectiveFrom');
  }
  const scheduled: Extract<BookEvent, { type: 'BandScheduled' }> = {
    type: 'BandScheduled',
    data: {
      guidanceVersion: d.guidanceVersion,
      bandId: d.bandId,
      version: d.version,
      kind: d.kind,
      region: d.region,
      floor: new Dec(d.floor).toFixed(),
      ceiling: d.ceiling === null ? null : new Dec(d.ceiling).toFixed(),
      effectiveFrom: d.effectiveFrom,
      effectiveTo: d.effectiveTo,
      receivedAt: isoOf(cmd.metadata.now),
    },
  };
  out.push(scheduled);
  // A version that changes the band at or before now takes force in this same decision, so no order slips
  // through under the old band: the time-driven work is decided against a shallow copy that has heard it.
  const guidance = [...book.guidance, versionOf(book.scope, scheduled)];
  housekeeping(
    { ...book, guidance, nextBandChangeMs: bandChangeAfter(book.scope, guidance, book.band, book.bandSinceMs, false) },
    cmd.metadata.now,
    out,
  );
  return out;
};

/**
 * Decides everything that fell due at or before `now`, in time order (ties: expiries, then band changes, then the
 * cut-off), appends its events, and returns the state the command itself is judged against. Read-only.
 */
const housekeeping = (book: Book, now: number, out: BookEvent[]): View => {
  let band = book.band;
  const due =
    nextExpiryMs(book) <= now || book.nextBandChangeMs <= now || (!book.closed && book.tradingEndsAtMs <= now);
  if (!due) return { band, closed: book.closed, gone: null };

  const gone = new Set<string>();
  type Item = { ms: number; rank: number; order?: RestingOrder; band?: BookBandVersion | null };
  const items: Item[] = [];
  for (const o of dueExpiries(book, now)) items.push({ ms: o.expiresAtMs as number, rank: 0, order: o });
  // Every change of the band in force up to now, each at the instant `bandAt` changes its answer.
  let current = book.band?.guidanceVersion ?? null;
  for (let t = book.nextBandChangeMs; t <= now;) {
    const next = bandInForce(book.guidance, book.scope, t);
    items.push({ ms: t, rank: 1, band: next });
    current = next?.versionId ?? null;
    t = nextBandChange(book.guidance, book.scope, current, t, true);
  }
  if (!book.closed && book.tradingEndsAtMs <= now) items.push({ ms: book.tradingEndsAtMs, rank: 2 });
  // Stable sort: equal (ms, rank) keep heap order for expiries.
  items.sort((a, b) => a.ms - b.ms || a.rank - b.rank);

  let closed = book.closed;
  for (const it of items) {
    if (it.rank === 0) {
      const o = it.order as RestingOrder;
      if (gone.has(o.id) || closed) continue;
      gone.add(o.id);
      out.push(expired(o, 'GTD', it.ms));
    } else if (it.rank === 1) {
      const v = it.band as BookBandVersion | null;
      if (v === null) {
        out.push({
          type: 'BandLapsed',
          data: { guidanceVersion: (band as ActiveBand).guidanceVersion, effectiveTo: isoOf(it.ms) },
        });
        band = null;
        continue;
      }
      const b = activeBand(book, v);
      band = b;
      out.push({
        type: 'BandActivated',
        data: {
          guidanceVersion: b.guidanceVersion,
          floor: b.floor,
          ceiling: b.ceiling,
          effectiveFrom: b.effectiveFrom,
          activatedAt: isoOf(now),
          effectiveAt: isoOf(it.ms),
        },
      });
      // Resting orders outside the new band would otherwise trade outside it: cancel them, bids then asks, each
      // in price-time order, so the events are deterministic.
      for (const s of [book.bids, book.asks]) {
        for (let i = s.levels.length - 1; i >= 0; i--) {
          const level = s.levels[i]!;
          const reason: CancelReason | null =
            level.priceTicks < b.floorTicks
              ? 'FLOOR_RAISED'
              : level.priceTicks > b.ceilingTicks
                ? 'CEILING_LOWERED'
                : null;
          if (reason === null) continue;
          for (let o = level.head; o; o = o.next) {
            if (gone.has(o.id)) continue;
            gone.add(o.id);
            out.push(cancelled(o, reason, b.guidanceVersion, now));
          }
        }
      }
    } else {
      closed = true;
      out.push({ type: 'TradingClosed', data: { closedAt: book.tradingEndsAt as string } });
      for (const o of book.orders.values()) {
        if (gone.has(o.id)) continue;
        gone.add(o.id);
        out.push(expired(o, 'TRADING_CUT_OFF', it.ms));
      }
    }
  }
  return { band, closed, gone };
};

const cancelled = (o: RestingOrder, reason: CancelReason, guidanceVersion: string | null, now: number): BookEvent => ({
  type: 'OrderCancelled',
  data: {
    orderId: o.id,
    account: o.account,
    reason,
    cancelledLots: o.remainingLots,
    filledLots: o.filledLots,
    guidanceVersion,
    cancelledAt: isoOf(now),
  },
});

const expired = (o: RestingOrder, reason: 'GTD' | 'TRADING_CUT_OFF', ms: number): BookEvent => ({
  type: 'OrderExpired',
  data: {
    orderId: o.id,
    account: o.account,
    reason,
    expiredLots: o.remainingLots,
    filledLots: o.filledLots,
    expiredAt: isoOf(ms),
  },
});

const isStale = (book: Book, meta: CommandMetadata): boolean =>
  meta.guidanceSeenAt === null || meta.now - meta.guidanceSeenAt > book.maxGuidanceLagMs;

const SIDES = new Set(['buy', 'sell']);
const TIFS = new Set(['GTC', 'GTD', 'IOC', 'FOK']);

const placeOrder = (cmd: PlaceOrder, book: Book, view: View, out: BookEvent[]): void => {
  const d = cmd.data;
  const now = cmd.metadata.now;
  const band = view.band;
  const reject = (code: RejectCode, field: string | null): void => {
    const r: OrderRejected = {
      type: 'OrderRejected',
      data: {
        orderId: d.orderId,
        clientOrderId: d.clientOrderId,
        account: d.account,
        instrument: d.instrument,
        side: d.side,
        price: d.price,
        quantityLots: d.quantityLots,
        timeInForce: d.timeInForce,
        code,
        field,
        ...bandRecord(band),
        rejectedAt: isoOf(now),
      },
    };
    out.push(r);
  };
  if (!book.opened || d.instrument !== book.instrument) return reject('MATCHING.UNKNOWN_INSTRUMENT', 'instrument');
  if (!SIDES.has(d.side)) return reject('MATCHING.INVALID_ORDER', 'side');
  if (!TIFS.has(d.timeInForce)) return reject('MATCHING.INVALID_ORDER', 'timeInForce');
  if (typeof d.orderId !== 'string' || typeof d.clientOrderId !== 'string' || typeof d.account !== 'string') {
    return reject('MATCHING.INVALID_ORDER', 'clientOrderId');
  }
  const grid = book.grid!;
  const ticks = priceToTicks(grid, d.price);
  if (ticks === 'INVALID_PRICE') return reject('MATCHING.INVALID_PRICE', 'price');
  if (ticks === 'OFF_TICK') return reject('MATCHING.OFF_TICK', 'price');
  if (!isValidLots(d.quantityLots)) return reject('MATCHING.INVALID_QUANTITY', 'quantityLots');
  const expiresAt = d.expiresAt ?? null;
  let expiresAtMs: number | null = null;
  if (d.timeInForce === 'GTD') {
    expiresAtMs = parseInstant(expiresAt);
    if (Number.isNaN(expiresAtMs)) return reject('MATCHING.INVALID_EXPIRES_AT', 'expiresAt');
    if (expiresAtMs <= now) return reject('MATCHING.GTD_EXPIRED', 'expiresAt');
  } else if (expiresAt !== null) return reject('MATCHING.INVALID_EXPIRES_AT', 'expiresAt');
  const postOnly = d.postOnly === true;
  if (postOnly && (d.timeInForce === 'IOC' || d.timeInForce === 'FOK')) {
    return reject('MATCHING.INVALID_POST_ONLY', 'postOnly');
  }
  if (book.clientOrderIds.has(clientKey(d.account, d.clientOrderId))) {
    return reject('MATCHING.DUPLICATE_CLIENT_ORDER_ID', 'clientOrderId');
  }
  if (view.closed) return reject('MATCHING.TRADING_CLOSED', null);
  if (book.halted) return reject('MATCHING.MARKET_HALTED', null);
  if (isStale(book, cmd.metadata)) return reject('MATCHING.GUIDANCE_STALE', null);
  if (band !== null) {
    if (ticks < band.floorTicks) return reject('MATCHING.BELOW_FLOOR', 'price');
    if (ticks > band.ceilingTicks) return reject('MATCHING.ABOVE_CEILING', 'price');
  }
  const limitCode = checkLimits(
    book,
    view,
    d.account,
    d.limits ?? null,
    d.elsewhere ?? null,
    d.quantityLots,
    ticks * d.quantityLots,
  );
  if (limitCode !== null) return reject(limitCode, limitCode.includes('QUANTITY') ? 'quantityLots' : 'price');

  const price = ticksToPrice(grid, ticks);
  const rec = bandRecord(band);
  out.push({
    type: 'OrderAccepted',
    data: {
      orderId: d.orderId,
      clientOrderId: d.clientOrderId,
      account: d.account,
      instrument: d.instrument,
      side: d.side,
      price,
      priceTicks: ticks,
      quantityLots: d.quantityLots,
      timeInForce: d.timeInForce,
      expiresAt,
      postOnly,
      floor: rec.floor,
      ceiling: rec.ceiling,
      guidanceVersion: rec.guidanceVersion,
      acceptedAt: isoOf(now),
    },
  });
  execute(book, view, out, now, {
    orderId: d.orderId,
    clientOrderId: d.clientOrderId,
    account: d.account,
    side: d.side,
    ticks,
    price,
    quantityLots: d.quantityLots,
    filledLots: 0,
    timeInForce: d.timeInForce,
    expiresAt,
    postOnly,
    checkPostOnly: postOnly,
  });
};

/**
 * Account limits, over this book and what the account has open elsewhere (and the core's own bound: an account's
 * open tick-lots on one book stay a safe integer).
 */
const checkLimits = (
  book: Book,
  view: View,
  account: string,
  limits: AccountLimits | null,
  elsewhere: ExposureElsewhere | null,
  addLots: number,
  addTickLots: number,
): RejectCode | null => {
  const acc = book.accounts.get(account);
  let openLots = acc?.openLots ?? 0;
  let openTickLots = acc?.openTickLots ?? 0;
  if (view.gone !== null && acc !== undefined) {
    // Orders the time-driven events just removed no longer count.
    for (const id of view.gone) {
      const o = book.orders.get(id);
      if (o && o.account === account) {
        openLots -= o.remainingLots;
        openTickLots -= o.remainingLots * o.priceTicks;
      }
    }
  }
  const elsewhereLots = elsewhere?.openLots ?? 0;
  if (limits?.maxOpenQuantityLots != null && elsewhereLots + openLots + addLots > limits.maxOpenQuantityLots) {
    return 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED';
  }
  if (!Number.isSafeInteger(openTickLots + addTickLots)) return 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED';
  if (limits?.maxOpenNotional != null) {
    // What is left of the limit once the other books are counted, in this book's tick-lots (exact: the open
    // tick-lots are whole, so "notional > budget" is "tick-lots > floor(budget ÷ (tick × lot))").
    const budget =
      elsewhere === null || elsewhere.openNotional === '0'
        ? maxTickLots(book, limits.maxOpenNotional)
        : remainingTickLots(book, limits.maxOpenNotional, elsewhere.openNotional);
    if (openTickLots + addTickLots > budget) return 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED';
  }
  return null;
};

const remainingTickLots = (book: Book, limit: string, usedElsewhere: string): number =>
  isDecimalString(limit) && isDecimalString(usedElsewhere)
    ? new Dec(limit).minus(usedElsewhere).div(new Dec(book.grid!.tickSize).mul(book.lotSize)).floor().toNumber()
    : Number.NEGATIVE_INFINITY;

// Notional = ticks × tickSize × lots × lotSize, so a notional limit is floor(limit ÷ (tickSize × lotSize)) tick-lots.
// Limits repeat per account, so each distinct limit string is converted once per book.
const tickLotLimits = new WeakMap<Book, Map<string, number>>();
const maxTickLots = (book: Book, limit: string): number => {
  let m = tickLotLimits.get(book);
  if (m === undefined) tickLotLimits.set(book, (m = new Map()));
  let v = m.get(limit);
  if (v === undefined) {
    v = isDecimalString(limit)
      ? new Dec(limit).div(new Dec(book.grid!.tickSize).mul(book.lotSize)).floor().toNumber()
      : Number.NEGATIVE_INFINITY;
    m.set(limit, v);
  }
  return v;
};

interface Taker {
  orderId: string;
  clientOrderId: string;
  account: string;
  side: Side;
  ticks: number;
  price: string;
  quantityLots: number;
  filledLots: number;
  timeInForce: TimeInForce;
  expiresAt: string | null;
  /** Carried onto the rested order. */
  postOnly: boolean;
  /** Refuse to take liquidity: false for a repriced order, whose crossing was judged before it left the book. */
  checkPostOnly: boolean;
}

/** Matches an accepted (or repriced) order against the book and decides what becomes of its remainder. */
const execute = (book: Book, view: View, out: BookEvent[], now: number, t: Taker): void => {
  const buy = t.side === 'buy';
  const opposite = sideOf(book, buy ? 'sell' : 'buy');
  const levels = opposite.levels;
  const gone = view.gone;
  const limit = t.ticks;
  let remaining = t.quantityLots - t.filledLots;

  if (t.checkPostOnly) {
    for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i]!;
      if (buy ? level.priceTicks > limit : level.priceTicks < limit) break;
      for (let o = level.head; o; o = o.next) {
        if (gone === null || !gone.has(o.id)) {
          out.push(takerCancelled(t, 'POST_ONLY_WOULD_CROSS', remaining, now));
          return;
        }
      }
    }
  } else if (t.timeInForce === 'FOK') {
    // All or nothing against the whole book: count what the order could take (its own orders would be cancelled,
    // not traded, so they do not count) before touching anything.
    let available = 0;
    scan: for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i]!;
      if (buy ? level.priceTicks > limit : level.priceTicks < limit) break;
      for (let o = level.head; o; o = o.next) {
        if (o.account === t.account || (gone !== null && gone.has(o.id))) continue;
        available += o.remainingLots;
        if (available >= remaining) break scan;
      }
    }
    if (available < remaining) {
      out.push(takerCancelled(t, 'FOK_UNFILLED', remaining, now));
      return;
    }
  }

  if (remaining > 0 && levels.length > 0) {
    const band = view.band;
    let filled = t.filledLots;
    // One taker per decision, so this decision's trades continue the book's sequence from here.
    let sequence = book.tradeSequence;
    walk: for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i]!;
      if (buy ? level.priceTicks > limit : level.priceTicks < limit) break;
      let tradePrice: string | null = null;
      for (let o = level.head; o; o = o.next) {
        if (gone !== null && gone.has(o.id)) continue;
        if (o.account === t.account) {
          // Self-trade prevention: the resting order is cancelled and the incoming one carries on.
          out.push(cancelled(o, 'SELF_TRADE', null, now));
          continue;
        }
        const q = o.remainingLots < remaining ? o.remainingLots : remaining;
        if (tradePrice === null) {
          // Resting orders outside the band were cancelled when it took force (they are in `gone` if that
          // happened in this decision); a trade outside it would be a bug.
          assert(
            band === null || (level.priceTicks >= band.floorTicks && level.priceTicks <= band.ceilingTicks),
            'a resting order is outside the band in force',
          );
          tradePrice = o.price;
        }
        const seq = ++sequence;
        out.push({
          type: 'TradeExecuted',
          data: {
            tradeId: `${book.instrument}-${seq}`,
            sequence: seq,
            instrument: book.instrument,
            price: tradePrice,
            priceTicks: level.priceTicks,
            quantityLots: q,
            makerOrderId: o.id,
            takerOrderId: t.orderId,
            buyOrderId: buy ? t.orderId : o.id,
            sellOrderId: buy ? o.id : t.orderId,
            buyerAccount: buy ? t.account : o.account,
            sellerAccount: buy ? o.account : t.account,
            makerSide: o.side,
            floor: band ? band.floor : null,
            ceiling: band ? band.ceiling : null,
            guidanceVersion: band ? band.guidanceVersion : null,
            executedAt: isoOf(now),
          },
        });
        remaining -= q;
        filled += q;
        if (remaining === 0) break walk;
      }
    }
    t.filledLots = filled;
  }
  if (remaining === 0) return;
  if (t.timeInForce === 'IOC') {
    out.push(takerCancelled(t, 'IOC_REMAINDER', remaining, now));
    return;
  }
  // FOK reaching here filled completely; GTC and GTD rest.
  out.push({
    type: 'OrderRested',
    data: {
      orderId: t.orderId,
      clientOrderId: t.clientOrderId,
      account: t.account,
      side: t.side,
      price: t.price,
      priceTicks: t.ticks,
      quantityLots: t.quantityLots,
      filledLots: t.filledLots,
      remainingLots: remaining,
      timeInForce: t.timeInForce,
      expiresAt: t.expiresAt,
      postOnly: t.postOnly,
      restedAt: isoOf(now),
    },
  });
};

const takerCancelled = (t: Taker, reason: CancelReason, remaining: number, now: number): BookEvent => ({
  type: 'OrderCancelled',
  data: {
    orderId: t.orderId,
    account: t.account,
    reason,
    cancelledLots: remaining,
    filledLots: t.filledLots,
    guidanceVersion: null,
    cancelledAt: isoOf(now),
  },
});

/** Finds the caller's own live order; anything else is ORDER_NOT_FOUND. */
const ownOrder = (book: Book, view: View, orderId: string, account: string): RestingOrder | null => {
  const o = book.orders.get(orderId);
  if (o === undefined || o.account !== account || (view.gone !== null && view.gone.has(orderId))) return null;
  return o;
};

const modificationRejected = (
  out: BookEvent[],
  action: ModificationRejected['data']['action'],
  d: { orderId: string; account: string },
  code: RejectCode,
  field: string | null,
  band: ActiveBand | null,
  now: number,
): void => {
  out.push({
    type: 'ModificationRejected',
    data: { orderId: d.orderId, account: d.account, action, code, field, ...bandRecord(band), rejectedAt: isoOf(now) },
  });
};

const cancelOrder = (cmd: CancelOrder, book: Book, view: View, out: BookEvent[]): void => {
  const d = cmd.data;
  const now = cmd.metadata.now;
  if (!book.opened || d.instrument !== book.instrument) {
    return modificationRejected(out, 'CANCEL', d, 'MATCHING.UNKNOWN_INSTRUMENT', 'instrument', null, now);
  }
  const o = ownOrder(book, view, d.orderId, d.account);
  if (o === null) return modificationRejected(out, 'CANCEL', d, 'MATCHING.ORDER_NOT_FOUND', 'orderId', view.band, now);
  out.push(cancelled(o, 'USER', null, now));
};

const reduceOrder = (cmd: ReduceOrder, book: Book, view: View, out: BookEvent[]): void => {
  const d = cmd.data;
  const now = cmd.metadata.now;
  if (!book.opened || d.instrument !== book.instrument) {
    return modificationRejected(out, 'REDUCE', d, 'MATCHING.UNKNOWN_INSTRUMENT', 'instrument', null, now);
  }
  const o = ownOrder(book, view, d.orderId, d.account);
  if (o === null) return modificationRejected(out, 'REDUCE', d, 'MATCHING.ORDER_NOT_FOUND', 'orderId', view.band, now);
  if (!isValidLots(d.quantityLots) || d.quantityLots <= o.filledLots || d.quantityLots >= o.quantityLots) {
    return modificationRejected(out, 'REDUCE', d, 'MATCHING.INVALID_QUANTITY', 'quantityLots', view.band, now);
  }
  out.push({
    type: 'OrderReduced',
    data: {
      orderId: o.id,
      account: o.account,
      quantityLots: d.quantityLots,
      remainingLots: d.quantityLots - o.filledLots,
      reducedAt: isoOf(now),
    },
  });
};

const repriceOrder = (cmd: RepriceOrder, book: Book, view: View, out: BookEvent[]): void => {
  const d = cmd.data;
  const now = cmd.metadata.now;
  const band = view.band;
  const refuse = (code: RejectCode, field: string | null) =>
    modificationRejected(out, 'REPRICE', d, code, field, band, now);
  if (!book.opened || d.instrument !== book.instrument) {
    return modificationRejected(out, 'REPRICE', d, 'MATCHING.UNKNOWN_INSTRUMENT', 'instrument', null, now);
  }
  const o = ownOrder(book, view, d.orderId, d.account);
  if (o === null) return refuse('MATCHING.ORDER_NOT_FOUND', 'orderId');
  const grid = book.grid!;
  const ticks = priceToTicks(grid, d.price);
  if (ticks === 'INVALID_PRICE') return refuse('MATCHING.INVALID_PRICE', 'price');
  if (ticks === 'OFF_TICK') return refuse('MATCHING.OFF_TICK', 'price');
  if (book.halted) return refuse('MATCHING.MARKET_HALTED', null);
  if (isStale(book, cmd.metadata)) return refuse('MATCHING.GUIDANCE_STALE', null);
  if (band !== null) {
    if (ticks < band.floorTicks) return refuse('MATCHING.BELOW_FLOOR', 'price');
    if (ticks > band.ceilingTicks) return refuse('MATCHING.ABOVE_CEILING', 'price');
  }
  const gone = view.gone ?? new Set<string>();
  const withoutSelf: View = { ...view, gone: new Set(gone).add(o.id) };
  if (o.postOnly && crosses(book, withoutSelf, o.side, ticks)) return refuse('MATCHING.POST_ONLY_WOULD_CROSS', 'price');
  // The order's own lots leave and come back at the new price.
  const delta = o.remainingLots * (ticks - o.priceTicks);
  // Only the notional can grow: the quantity does not change.
  const notionalOnly = { maxOpenQuantityLots: null, maxOpenNotional: d.limits?.maxOpenNotional ?? null };
  const limitCode = delta > 0 ? checkLimits(book, view, o.account, notionalOnly, d.elsewhere ?? null, 0, delta) : null;
  if (limitCode !== null) return refuse(limitCode, 'price');

  const price = ticksToPrice(grid, ticks);
  const rec = bandRecord(band);
  out.push({
    type: 'OrderRepriced',
    data: {
      orderId: o.id,
      account: o.account,
      previousPrice: o.price,
      price,
      priceTicks: ticks,
      remainingLots: o.remainingLots,
      floor: rec.floor,
      ceiling: rec.ceiling,
      guidanceVersion: rec.guidanceVersion,
      repricedAt: isoOf(now),
    },
  });
  execute(book, withoutSelf, out, now, {
    orderId: o.id,
    clientOrderId: o.clientOrderId,
    account: o.account,
    side: o.side,
    ticks,
    price,
    quantityLots: o.quantityLots,
    filledLots: o.filledLots,
    timeInForce: o.timeInForce,
    expiresAt: o.expiresAt,
    postOnly: o.postOnly,
    checkPostOnly: false,
  });
};

const crosses = (book: Book, view: View, side: Side, ticks: number): boolean => {
  const buy = side === 'buy';
  const levels = sideOf(book, buy ? 'sell' : 'buy').levels;
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i]!;
    if (buy ? level.priceTicks > ticks : level.priceTicks < ticks) return false;
    for (let o = level.head; o; o = o.next) if (!view.gone?.has(o.id)) return true;
  }
  return false;
};

// ---------------------------------------------------------------------------------------------------------------
// evolve

export const evolve = (book: Book, e: BookEvent): Book => {
  switch (e.type) {
    case 'BookOpened': {
      const d = e.data;
      book.opened = true;
      book.instrument = d.instrument;
      book.scope = scopeOfInstrument(d.instrument);
      book.grid = tickGrid(d.tickSize);
      book.lotSize = d.lotSize;
      book.tradingEndsAt = d.tradingEndsAt;
      book.tradingEndsAtMs = d.tradingEndsAt === null ? Number.POSITIVE_INFINITY : parseInstant(d.tradingEndsAt);
      book.maxGuidanceLagMs = d.maxGuidanceLagMs;
      return book;
    }
    case 'BandScheduled':
      book.bandVersions.add(e.data.guidanceVersion);
      book.guidance.push(versionOf(book.scope, e));
      book.nextBandChangeMs = bandChangeAfter(book.scope, book.guidance, book.band, book.bandSinceMs, false);
      return book;
    case 'BandActivated': {
      const v = book.guidance.find((b) => b.versionId === e.data.guidanceVersion);
      assert(v !== undefined, `band ${e.data.guidanceVersion} was never scheduled`);
      book.band = activeBand(book, v);
      book.bandSinceMs = parseInstant(e.data.effectiveAt ?? e.data.effectiveFrom);
      book.nextBandChangeMs = bandChangeAfter(book.scope, book.guidance, book.band, book.bandSinceMs, true);
      return book;
    }
    case 'BandLapsed':
      book.band = null;
      book.bandSinceMs = parseInstant(e.data.effectiveTo);
      book.nextBandChangeMs = bandChangeAfter(book.scope, book.guidance, null, book.bandSinceMs, true);
      return book;
    case 'MarketHalted':
      book.halted = true;
      return book;
    case 'MarketResumed':
      book.halted = false;
      return book;
    case 'TradingClosed':
      book.closed = true;
      return book;
    case 'OrderAccepted':
      book.clientOrderIds.set(clientKey(e.data.account, e.data.clientOrderId), e.data.orderId);
      return book;
    case 'OrderRested': {
      const d = e.data;
      restOrder(book, {
        id: d.orderId,
        clientOrderId: d.clientOrderId,
        account: d.account,
        side: d.side,
        priceTicks: d.priceTicks,
        price: d.price,
        quantityLots: d.quantityLots,
        filledLots: d.filledLots,
        remainingLots: d.remainingLots,
        timeInForce: d.timeInForce,
        expiresAt: d.expiresAt,
        expiresAtMs: d.expiresAt === null ? null : parseInstant(d.expiresAt),
        postOnly: d.postOnly,
        level: null,
        prev: null,
        next: null,
      });
      return book;
    }
    case 'TradeExecuted': {
      const maker = book.orders.get(e.data.makerOrderId);
      assert(maker !== undefined, `maker ${e.data.makerOrderId} is not in the book`);
      maker.filledLots += e.data.quantityLots;
      takeLots(book, maker, e.data.quantityLots);
      book.tradeSequence = e.data.sequence;
      return book;
    }
    case 'OrderCancelled':
    case 'OrderExpired':
    case 'OrderRepriced': {
      // The taker's own cancellations (IOC remainder, FOK, post-only) name an order that never rested.
      const o = book.orders.get(e.data.orderId);
      if (o !== undefined) removeOrder(book, o);
      return book;
    }
    case 'OrderReduced': {
      const o = book.orders.get(e.data.orderId);
      assert(o !== undefined, `order ${e.data.orderId} is not in the book`);
      const by = o.quantityLots - e.data.quantityLots;
      o.quantityLots = e.data.quantityLots;
      takeLots(book, o, by);
      return book;
    }
    case 'OrderRejected':
    case 'ModificationRejected':
      return book;
    default:
      return assertNever(e);
  }
};

/** The version as the book keeps it, from its BandScheduled event (older events name their band line only). */
const versionOf = (scope: BandScope, e: Extract<BookEvent, { type: 'BandScheduled' }>): BookBandVersion => {
  const d = e.data;
  const line =
    d.bandId !== undefined && d.version !== undefined && d.kind !== undefined && d.region !== undefined
      ? { bandId: d.bandId, version: d.version, kind: d.kind, resourceClass: scope.resourceClass, region: d.region }
      : legacyVersionFields(scope, d.guidanceVersion);
  return {
    ...line,
    versionId: d.guidanceVersion,
    floor: d.floor,
    ceiling: d.ceiling,
    effectiveFrom: d.effectiveFrom,
    effectiveTo: d.effectiveTo,
  };
};

/** The band in force as the hot path reads it: floor and ceiling as tick prices. */
const activeBand = (book: Book, v: BookBandVersion): ActiveBand => {
  const grid = book.grid!;
  return {
    guidanceVersion: v.versionId,
    floor: v.floor,
    ceiling: v.ceiling,
    floorTicks: floorToTicks(grid, v.floor),
    ceilingTicks: v.ceiling === null ? Number.POSITIVE_INFINITY : ceilingToTicks(grid, v.ceiling),
    effectiveFrom: v.effectiveFrom,
    effectiveTo: v.effectiveTo,
  };
};

const bandChangeAfter = (
  scope: BandScope,
  guidance: readonly BookBandVersion[],
  band: ActiveBand | null,
  sinceMs: number,
  strictlyAfter: boolean,
): number => nextBandChange(guidance, scope, band?.guidanceVersion ?? null, sinceMs, strictlyAfter);

/** Applies events in order: how a book is rebuilt from its stream, and how decisions are applied live. */
export const evolveAll = (book: Book, events: readonly BookEvent[]): Book => {
  for (const e of events) evolve(book, e);
  return book;
};
