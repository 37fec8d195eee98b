import {
  CancelReason as WireCancelReason,
  Side as WireSide,
  TimeInForce as WireTif,
  createEvent,
  timestampFromDate,
  toKafkaRecord,
} from '@cx/contracts';
import type { RecordedEvent } from '@cx/event-store';
import { type RelayRoute, type TopicSpec, envelopeFor } from '@cx/messaging';
import { Dec, isDecimalString } from '@cx/shared-kernel';
import { instrumentInfo } from '../application/instruments';
import {
  type AllocationCreated,
  BOOK_STREAM_PREFIX,
  type StoredOrderCancelled,
  type StoredOrderExpired,
} from '../application/matching.events';
import type { MatchingConfig } from '../config';
import type {
  OrderAccepted,
  OrderRejected,
  Side,
  TimeInForce,
  TradeExecuted,
} from '../domain/order-book/order-book.events';

// Matching's integration events (proto/cx/matching/v1): the relay follows the book streams and publishes order
// decisions on `cx.matching.orders.v1` and the tape on `cx.matching.trades.v1` (both keyed by instrument: one
// book's decisions stay in order), and allocations on `cx.matching.allocations.v1` (keyed by allocation id).
// Book-internal events (BookOpened, bands, rests, reductions, reprices, refused modifications) cross no boundary.

export const ORDERS_TOPIC = 'cx.matching.orders.v1';
export const TRADES_TOPIC = 'cx.matching.trades.v1';
export const ALLOCATIONS_TOPIC = 'cx.matching.allocations.v1';
export const GUIDANCE_TOPIC = 'cx.pricing.guidance.v1';
export const MARKET_STATUS_TOPIC = 'cx.pricing.market-status.v1';

export const matchingTopicSpecs: TopicSpec[] = [
  { name: ORDERS_TOPIC, partitions: 8 },
  { name: TRADES_TOPIC, partitions: 8 },
  { name: ALLOCATIONS_TOPIC, partitions: 8 },
];

const SIDE: Readonly<Record<Side, WireSide>> = { buy: WireSide.BID, sell: WireSide.ASK };
const TIF: Readonly<Record<TimeInForce, WireTif>> = {
  GTC: WireTif.GTC,
  GTD: WireTif.GTD,
  IOC: WireTif.IOC,
  FOK: WireTif.FOK,
};
const CANCEL: Readonly<Record<string, WireCancelReason>> = {
  USER: WireCancelReason.REQUESTED,
  KILL_SWITCH: WireCancelReason.REQUESTED,
  IOC_REMAINDER: WireCancelReason.UNFILLED,
  FOK_UNFILLED: WireCancelReason.UNFILLED,
  FLOOR_RAISED: WireCancelReason.OUTSIDE_BAND,
  CEILING_LOWERED: WireCancelReason.OUTSIDE_BAND,
  SELF_TRADE: WireCancelReason.SELF_TRADE,
  // The contract has no reason for this yet; UNSPECIFIED rather than a wrong one.
  POST_ONLY_WOULD_CROSS: WireCancelReason.UNSPECIFIED,
};

const money = (amount: string | null, currency: string) =>
  amount !== null && isDecimalString(amount) ? { amount, currency } : undefined;

/** The relay routes of matching, for the host's Relay. `config` gives lot sizes and the currency. */
export const matchingRelayRoutes = (config: MatchingConfig): RelayRoute[] => {
  const hours = (lots: number, instrument: string) =>
    new Dec(lots).mul(instrumentInfo(config, instrument).spec.lotSize).toFixed();
  return [
    {
      streamPrefixes: [BOOK_STREAM_PREFIX],
      toMessage: (e: RecordedEvent) => {
        const instrument = e.streamId.slice(BOOK_STREAM_PREFIX.length);
        const ccy = config.currency;
        switch (e.type) {
          case 'OrderAccepted': {
            const d = e.data as OrderAccepted['data'];
            const ev = createEvent(ORDERS_TOPIC, {
              envelope: envelopeFor(e, instrument, new Date(d.acceptedAt)),
              event: {
                case: 'orderAccepted',
                value: {
                  orderId: d.orderId,
                  clientOrderId: d.clientOrderId,
                  accountId: d.account,
                  instrumentId: instrument,
                  side: SIDE[d.side],
                  limitPrice: money(d.price, ccy),
                  quantity: hours(d.quantityLots, instrument),
                  timeInForce: TIF[d.timeInForce],
                  ...(d.expiresAt !== null ? { expiresAt: timestampFromDate(new Date(d.expiresAt)) } : {}),
                  ...(d.guidanceVersion !== null ? { guidanceVersionId: d.guidanceVersion } : {}),
                  floor: money(d.floor, ccy),
                  ceiling: money(d.ceiling, ccy),
                },
              },
            });
            return { topic: ORDERS_TOPIC, message: toKafkaRecord(ORDERS_TOPIC, ev) };
          }
          case 'OrderRejected': {
            const d = e.data as OrderRejected['data'];
            const ev = createEvent(ORDERS_TOPIC, {
              envelope: envelopeFor(e, instrument, new Date(d.rejectedAt)),
              event: {
                case: 'orderRejected',
                value: {
                  orderId: d.orderId,
                  clientOrderId: d.clientOrderId,
                  accountId: d.account,
                  instrumentId: instrument,
                  side: SIDE[d.side] ?? WireSide.UNSPECIFIED,
                  limitPrice: money(String(d.price), ccy),
                  quantity: Number.isSafeInteger(d.quantityLots) ? hours(d.quantityLots, instrument) : '0',
                  timeInForce: TIF[d.timeInForce] ?? WireTif.UNSPECIFIED,
                  reasonCode: d.code,
                  message: d.field ? `${d.code} (${d.field})` : d.code,
                  ...(d.guidanceVersion !== null ? { guidanceVersionId: d.guidanceVersion } : {}),
                  floor: money(d.floor, ccy),
                  ceiling: money(d.ceiling, ccy),
                },
              },
            });
            return { topic: ORDERS_TOPIC, message: toKafkaRecord(ORDERS_TOPIC, ev) };
          }
          case 'OrderCancelled':
          case 'OrderExpired': {
            const d = (e as unknown as StoredOrderCancelled | StoredOrderExpired).data;
            const cancelled = e.type === 'OrderCancelled';
            const c = d as StoredOrderCancelled['data'];
            const x = d as StoredOrderExpired['data'];
            const ev = createEvent(ORDERS_TOPIC, {
              envelope: envelopeFor(e, instrument, new Date(cancelled ? c.cancelledAt : x.expiredAt)),
              event: {
                case: 'orderCancelled',
                value: {
                  orderId: d.orderId,
                  clientOrderId: d.clientOrderId ?? '',
                  accountId: d.account,
                  instrumentId: instrument,
                  side: d.side ? SIDE[d.side] : WireSide.UNSPECIFIED,
                  reason: cancelled ? (CANCEL[c.reason] ?? WireCancelReason.UNSPECIFIED) : WireCancelReason.EXPIRED,
                  cancelledQuantity: hours(cancelled ? c.cancelledLots : x.expiredLots, instrument),
                  filledQuantity: hours(d.filledLots, instrument),
                  ...(cancelled && c.guidanceVersion !== null ? { guidanceVersionId: c.guidanceVersion } : {}),
                },
              },
            });
            return { topic: ORDERS_TOPIC, message: toKafkaRecord(ORDERS_TOPIC, ev) };
          }
          case 'TradeExecuted': {
            const d = e.data as TradeExecuted['data'];
            const info = instrumentInfo(config, instrument);
            const ev = createEvent(TRADES_TOPIC, {
              envelope: envelopeFor(e, instrument, new Date(d.executedAt)),
              event: {
                case: 'tradeExecuted',
                value: {
                  tradeId: d.tradeId,
                  instrumentId: instrument,
                  resourceClass: info.resourceClass,
                  region: info.region,
                  deliveryDay: info.deliveryDay,
                  price: money(d.price, ccy),
                  quantity: hours(d.quantityLots, instrument),
                  buyOrderId: d.buyOrderId,
                  sellOrderId: d.sellOrderId,
                  buyerAccountId: d.buyerAccount,
                  sellerAccountId: d.sellerAccount,
                  aggressorSide: d.makerSide === 'buy' ? WireSide.ASK : WireSide.BID,
                  sequence: BigInt(d.sequence),
                  ...(d.guidanceVersion !== null ? { guidanceVersionId: d.guidanceVersion } : {}),
                  floor: money(d.floor, ccy),
                  ceiling: money(d.ceiling, ccy),
                },
              },
            });
            return { topic: TRADES_TOPIC, message: toKafkaRecord(TRADES_TOPIC, ev) };
          }
          case 'AllocationCreated': {
            const d = e.data as AllocationCreated['data'];
            const ev = createEvent(ALLOCATIONS_TOPIC, {
              envelope: envelopeFor(e, d.allocationId, new Date(d.createdAt)),
              event: {
                case: 'allocationCreated',
                value: {
                  allocationId: d.allocationId,
                  tradeId: d.tradeId,
                  instrumentId: d.instrument,
                  resourceClass: d.resourceClass,
                  region: d.region,
                  providerAccountId: d.providerAccount,
                  buyerAccountId: d.buyerAccount,
                  quantity: d.quantity,
                  price: money(d.price, d.currency),
                  deliveryStart: timestampFromDate(new Date(d.deliveryStart)),
                  deliveryEnd: timestampFromDate(new Date(d.deliveryEnd)),
                  ...(d.guidanceVersion !== null ? { guidanceVersionId: d.guidanceVersion } : {}),
                },
              },
            });
            return { topic: ALLOCATIONS_TOPIC, message: toKafkaRecord(ALLOCATIONS_TOPIC, ev) };
          }
          default:
            return null;
        }
      },
    },
  ];
};
