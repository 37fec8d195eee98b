import type { BookEvent, OrderCancelled, OrderExpired, Side } from '../domain/order-book/order-book.events';

// What a book stream (`book-<instrument>`) holds: the core's BookEvents, as the core decided them, plus what the
// application layer records beside them in the same append:
// - AllocationCreated after every TradeExecuted: the delivery contract the trade creates. Same stream, same
//   append, so a trade never exists without its allocation (and the relay publishes both from one position).
// - OrderCancelled and OrderExpired carry the order's instrument, client order id and side as well: the
//   integration contract (cx.matching.orders.v1) needs them and a relay route has no state to look them up in.
//   `evolve` ignores the extra fields.

export interface AllocationCreated {
  type: 'AllocationCreated';
  data: {
    /** `alloc-<tradeId>`: deterministic, one per trade. */
    allocationId: string;
    tradeId: string;
    instrument: string;
    resourceClass: string;
    region: string;
    /** The seller's account delivers the capacity. */
    providerAccount: string;
    buyerAccount: string;
    /** Accelerator-hours, a decimal string (lots × lot size). */
    quantity: string;
    quantityLots: number;
    /** Per accelerator-hour, in `currency`. */
    price: string;
    currency: string;
    /** The instrument's UTC delivery day, [start, end). */
    deliveryStart: string;
    deliveryEnd: string;
    guidanceVersion: string | null;
    createdAt: string;
  };
}

export interface OrderContext {
  instrument: string;
  clientOrderId: string;
  side: Side;
}

export type StoredOrderCancelled = OrderCancelled & { data: OrderCancelled['data'] & Partial<OrderContext> };
export type StoredOrderExpired = OrderExpired & { data: OrderExpired['data'] & Partial<OrderContext> };

export type MatchingEvent = BookEvent | AllocationCreated;

export const BOOK_STREAM_PREFIX = 'book-';
export const bookStream = (instrument: string): string => `${BOOK_STREAM_PREFIX}${instrument}`;
export const allocationIdOf = (tradeId: string): string => `alloc-${tradeId}`;

const BOOK_EVENT_TYPES = new Set<string>([
  'BookOpened',
  'BandScheduled',
  'BandActivated',
  'BandLapsed',
  'MarketHalted',
  'MarketResumed',
  'TradingClosed',
  'OrderAccepted',
  'OrderRejected',
  'OrderRested',
  'TradeExecuted',
  'OrderCancelled',
  'OrderExpired',
  'OrderReduced',
  'OrderRepriced',
  'ModificationRejected',
]);
/** Whether `evolve` applies this type (AllocationCreated, and types added later, are not the book's state). */
export const isBookEvent = (type: string): boolean => BOOK_EVENT_TYPES.has(type);
