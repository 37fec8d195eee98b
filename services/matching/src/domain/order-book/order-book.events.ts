import type { BandVersionKind } from '@cx/guidance';

// The events of one order book (stream `order-book-<instrument>`). Each carries what `evolve` needs to rebuild
// the book and what an audit needs to prove a decision: every order decision and trade records the floor, the
// ceiling and the guidance version in force when it was made (null where no band was in force).
//
// Units: prices are decimal strings in the instrument's currency per accelerator-hour, in canonical form (no
// exponent, no trailing zeros). Events that place a price in the book also carry `priceTicks` (price ÷ tick
// size, an exact integer) so that replaying never parses decimals. Quantities are integer lots as JS numbers: the
// core bounds them to MAX_QUANTITY_LOTS and prices to MAX_PRICE_TICKS, so every product and sum it forms stays a
// safe integer (sums that would not are refused), and a number is cheaper than a string on the hot path.
// Instants are ISO-8601 UTC strings.

export type Side = 'buy' | 'sell';
export type TimeInForce = 'GTC' | 'GTD' | 'IOC' | 'FOK';

export type CancelReason =
  | 'USER'
  | 'IOC_REMAINDER'
  | 'FOK_UNFILLED'
  | 'SELF_TRADE'
  | 'FLOOR_RAISED'
  | 'CEILING_LOWERED'
  | 'KILL_SWITCH'
  | 'POST_ONLY_WOULD_CROSS';

export type ExpiryReason = 'GTD' | 'TRADING_CUT_OFF';

/** Codes of refused orders, in the order of precedence documented in order-book.decider.ts. */
export type RejectCode =
  | 'MATCHING.UNKNOWN_INSTRUMENT'
  | 'MATCHING.INVALID_ORDER'
  | 'MATCHING.INVALID_PRICE'
  | 'MATCHING.OFF_TICK'
  | 'MATCHING.INVALID_QUANTITY'
  | 'MATCHING.INVALID_EXPIRES_AT'
  | 'MATCHING.GTD_EXPIRED'
  | 'MATCHING.INVALID_POST_ONLY'
  | 'MATCHING.DUPLICATE_CLIENT_ORDER_ID'
  | 'MATCHING.ORDER_NOT_FOUND'
  | 'MATCHING.TRADING_CLOSED'
  | 'MATCHING.MARKET_HALTED'
  | 'MATCHING.GUIDANCE_STALE'
  | 'MATCHING.BELOW_FLOOR'
  | 'MATCHING.ABOVE_CEILING'
  | 'MATCHING.POST_ONLY_WOULD_CROSS'
  | 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED'
  | 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED';

/** The band used by a decision, as recorded on it. */
export interface BandRecord {
  floor: string | null;
  ceiling: string | null;
  guidanceVersion: string | null;
}

export interface BookOpened {
  type: 'BookOpened';
  data: {
    instrument: string;
    tickSize: string;
    /** Accelerator-hours per lot. */
    lotSize: string;
    /** Trading stops here (the delivery cut-off) and every resting order expires; null: no cut-off. */
    tradingEndsAt: string | null;
    /** Matching refuses to match when its view of guidance is older than this. */
    maxGuidanceLagMs: number;
    openedAt: string;
  };
}

/**
 * A guidance version the book heard of (issue, amendment or withdrawal, national or for the book's region). The
 * band in force at any instant is `bandAt` (@cx/guidance) over the versions heard; see order-book.guidance.ts.
 */
export interface BandScheduled {
  type: 'BandScheduled';
  data: {
    /** `<bandId>.v<version>`. */
    guidanceVersion: string;
    /**
     * The band line, its version number, the kind of change and its region (null: national). Absent only in
     * events recorded before they were carried; then read from `guidanceVersion`.
     */
    bandId?: string;
    version?: number;
    kind?: BandVersionKind;
    region?: string | null;
    floor: string;
    ceiling: string | null;
    effectiveFrom: string;
    effectiveTo: string | null;
    receivedAt: string;
  };
}

/** The band in force changed to this version. Resting orders outside it are cancelled by the events that follow. */
export interface BandActivated {
  type: 'BandActivated';
  data: {
    guidanceVersion: string;
    floor: string;
    ceiling: string | null;
    effectiveFrom: string;
    /** When the decision was made (the command's instant). */
    activatedAt: string;
    /** The instant from which this version is the band in force (absent in older events: effectiveFrom). */
    effectiveAt?: string;
  };
}

/**
 * No band is in force any more (the band reached its effectiveTo, or was withdrawn, and no other applies): from
 * `effectiveTo` on there is no floor.
 */
export interface BandLapsed {
  type: 'BandLapsed';
  data: { guidanceVersion: string; effectiveTo: string };
}

export interface MarketHalted {
  type: 'MarketHalted';
  data: { reason: string; haltedAt: string };
}

export interface MarketResumed {
  type: 'MarketResumed';
  data: { reason: string; resumedAt: string };
}

/** The instrument reached its trading cut-off; resting orders expire in the events that follow. */
export interface TradingClosed {
  type: 'TradingClosed';
  data: { closedAt: string };
}

export interface OrderAccepted {
  type: 'OrderAccepted';
  data: BandRecord & {
    orderId: string;
    clientOrderId: string;
    account: string;
    instrument: string;
    side: Side;
    price: string;
    priceTicks: number;
    quantityLots: number;
    timeInForce: TimeInForce;
    expiresAt: string | null;
    postOnly: boolean;
    acceptedAt: string;
  };
}

export interface OrderRejected {
  type: 'OrderRejected';
  data: BandRecord & {
    orderId: string;
    clientOrderId: string;
    account: string;
    instrument: string;
    side: Side;
    /** As the client sent it (it may be the reason for the rejection). */
    price: string;
    quantityLots: number;
    timeInForce: TimeInForce;
    code: RejectCode;
    /** The command field at fault, where one is. */
    field: string | null;
    rejectedAt: string;
  };
}

/** The (remaining part of an) order joined the back of its price level. Carries the whole resting order. */
export interface OrderRested {
  type: 'OrderRested';
  data: {
    orderId: string;
    clientOrderId: string;
    account: string;
    side: Side;
    price: string;
    priceTicks: number;
    /** The order's quantity: filledLots + remainingLots. */
    quantityLots: number;
    filledLots: number;
    remainingLots: number;
    timeInForce: TimeInForce;
    expiresAt: string | null;
    postOnly: boolean;
    restedAt: string;
  };
}

export interface TradeExecuted {
  type: 'TradeExecuted';
  data: BandRecord & {
    /** `${instrument}-${sequence}`: deterministic, so a replayed decision yields the same id. */
    tradeId: string;
    /** 1, 2, 3… per instrument: the tape's order. */
    sequence: number;
    instrument: string;
    /** The maker's (resting order's) price. */
    price: string;
    priceTicks: number;
    quantityLots: number;
    makerOrderId: string;
    takerOrderId: string;
    buyOrderId: string;
    sellOrderId: string;
    buyerAccount: string;
    sellerAccount: string;
    makerSide: Side;
    executedAt: string;
  };
}

export interface OrderCancelled {
  type: 'OrderCancelled';
  data: {
    orderId: string;
    account: string;
    reason: CancelReason;
    /** Lots that were still open and are now cancelled. */
    cancelledLots: number;
    filledLots: number;
    /** Recorded for band cancellations (FLOOR_RAISED, CEILING_LOWERED); null otherwise. */
    guidanceVersion: string | null;
    cancelledAt: string;
  };
}

export interface OrderExpired {
  type: 'OrderExpired';
  data: {
    orderId: string;
    account: string;
    reason: ExpiryReason;
    expiredLots: number;
    filledLots: number;
    expiredAt: string;
  };
}

/** The order's quantity went down; it keeps its place in the queue. */
export interface OrderReduced {
  type: 'OrderReduced';
  data: { orderId: string; account: string; quantityLots: number; remainingLots: number; reducedAt: string };
}

/**
 * The order left the book to re-enter at a new price, losing time priority. The events that follow treat it as
 * an incoming order: trades, then OrderRested (or a cancellation) with its new price.
 */
export interface OrderRepriced {
  type: 'OrderRepriced';
  data: BandRecord & {
    orderId: string;
    account: string;
    previousPrice: string;
    price: string;
    priceTicks: number;
    remainingLots: number;
    repricedAt: string;
  };
}

/** A cancel, reduce, reprice or cancel-all that was refused; the book is unchanged. */
export interface ModificationRejected {
  type: 'ModificationRejected';
  data: BandRecord & {
    orderId: string | null;
    account: string;
    action: 'CANCEL' | 'REDUCE' | 'REPRICE';
    code: RejectCode;
    field: string | null;
    rejectedAt: string;
  };
}

export type BookEvent =
  | BookOpened
  | BandScheduled
  | BandActivated
  | BandLapsed
  | MarketHalted
  | MarketResumed
  | TradingClosed
  | OrderAccepted
  | OrderRejected
  | OrderRested
  | TradeExecuted
  | OrderCancelled
  | OrderExpired
  | OrderReduced
  | OrderRepriced
  | ModificationRejected;

export type BookEventType = BookEvent['type'];
