import { Dec } from '@cx/shared-kernel';
import type { Side } from '../domain/order-book/order-book.events';
import type { Book, BookSide } from '../domain/order-book/order-book.state';
import type { BookHandle } from './matching.engine';
import type { TradeRecord } from './market.read-model';

// Capacity discovery, read straight from the in-memory book: depth (anonymised: price levels only, never an
// order or an account), the cost to fill a quantity now, and an instrument's summary. Decimal results are
// formed from integer tick-lots with the shared Dec clone, so they are exact.

export interface DepthLevel {
  price: string;
  quantityLots: number;
  orders: number;
}

const levelsOf = (s: BookSide, max: number): DepthLevel[] => {
  const out: DepthLevel[] = [];
  for (let i = s.levels.length - 1; i >= 0 && out.length < max; i--) {
    const l = s.levels[i]!;
    out.push({ price: l.head!.price, quantityLots: l.totalLots, orders: l.count });
  }
  return out;
};

export const depthOf = (book: Book, maxLevels: number) => ({
  bids: levelsOf(book.bids, maxLevels),
  asks: levelsOf(book.asks, maxLevels),
});

export const bestPrice = (s: BookSide): string | null => s.levels[s.levels.length - 1]?.head?.price ?? null;

export interface Quote {
  side: Side;
  quantityLots: number;
  /** Whether the whole quantity can be filled now against resting orders. */
  fillable: boolean;
  /** Lots available at any price on the other side (all of them when not fillable). */
  availableLots: number;
  /** What the fillable part costs (buy) or earns (sell), in the instrument's currency; null when nothing is. */
  notional: string | null;
  averagePrice: string | null;
  /** The last price level the fill reaches. */
  worstPrice: string | null;
  currency: string;
}

/** What taking `quantityLots` from the book would cost right now (`side` is the taker's side). */
export const quoteOf = (h: BookHandle, side: Side, quantityLots: number): Quote => {
  const book = h.book;
  const levels = (side === 'buy' ? book.asks : book.bids).levels;
  let left = quantityLots;
  let tickLots = 0;
  let worst: string | null = null;
  for (let i = levels.length - 1; i >= 0 && left > 0; i--) {
    const l = levels[i]!;
    const q = Math.min(left, l.totalLots);
    tickLots += q * l.priceTicks;
    left -= q;
    worst = l.head!.price;
  }
  const filled = quantityLots - left;
  const grid = book.grid!;
  const notional = filled > 0 ? new Dec(tickLots).mul(grid.tickSize).mul(book.lotSize) : null;
  return {
    side,
    quantityLots,
    fillable: left === 0,
    availableLots: filled,
    notional: notional?.toFixed() ?? null,
    averagePrice: notional ? new Dec(tickLots).mul(grid.tickSize).div(filled).toDecimalPlaces(8).toFixed() : null,
    worstPrice: worst,
    currency: h.info.currency,
  };
};

export const instrumentSummary = (h: BookHandle, lastTrade: TradeRecord | undefined, now: number) => {
  const book = h.book;
  const status = book.closed || book.tradingEndsAtMs <= now ? 'closed' : book.halted ? 'halted' : 'open';
  return {
    instrumentId: h.info.id,
    resourceClass: h.info.resourceClass,
    region: h.info.region,
    deliveryDay: h.info.deliveryDay,
    deliveryStart: h.info.deliveryStart,
    deliveryEnd: h.info.deliveryEnd,
    tradingEndsAt: h.info.tradingEndsAt,
    tickSize: book.grid!.tickSize,
    lotSize: book.lotSize,
    currency: h.info.currency,
    status,
    bestBid: bestPrice(book.bids),
    bestAsk: bestPrice(book.asks),
    lastPrice: lastTrade?.price ?? null,
    guidanceVersion: book.band?.guidanceVersion ?? null,
    floor: book.band?.floor ?? null,
  };
};
