import { createEvent, Side, timestampFromDate, toKafkaRecord } from '@cx/contracts';

// Kafka records a gateway hosting webhooks hears, built exactly as matching's and billing's relays publish them, for
// tests that run the gateway alone and play the other services' part on the real broker. Every id, account and time
// is a parameter; the rest (instrument, price, quantity, which side was the aggressor) are defaults named below.

/** Matching's tape, as the contract spells it (not taken from our consumer): a test publishes where matching does. */
export const TRADES_TOPIC = 'cx.matching.trades.v1';
/** Billing's settlements, likewise. */
export const SETTLEMENTS_TOPIC = 'cx.billing.settlements.v1';

const RESOURCE_CLASS = 'nvidia-h100-sxm-80g';
const REGION = 'cn-east-1';
const DELIVERY_DAY = '2026-03-11';

export type KafkaRecord = ReturnType<typeof toKafkaRecord>;

/** The envelope of the first event on a fresh stream, caused by nothing before it, written by a relay (no key). */
const envelope = (eventId: string, aggregateId: string, streamId: string, service: string, at: Date) => ({
  eventId,
  aggregateId,
  occurredAt: timestampFromDate(at),
  recordedAt: timestampFromDate(at),
  correlationId: eventId,
  causationId: eventId,
  source: { streamId, streamRevision: 0n, position: { commit: 1n, prepare: 1n } },
  actor: { keyId: '', role: '', service },
});

export interface TradeExecutedInput {
  eventId: string;
  tradeId: string;
  buyOrderId: string;
  sellOrderId: string;
  buyerAccountId: string;
  sellerAccountId: string;
  /** The trade's sequence in its book. */
  sequence: bigint;
  /** When it occurred and was recorded. */
  at: Date;
}

/** One lot of H100 in cn-east-1 for 2026-03-11 at 25.5 CNY, the bid the aggressor (so the buyer is the taker). */
export const tradeExecutedRecord = (t: TradeExecutedInput): KafkaRecord =>
  toKafkaRecord(
    TRADES_TOPIC,
    createEvent(TRADES_TOPIC, {
      envelope: envelope(t.eventId, t.tradeId, `trade-${t.tradeId}`, 'matching', t.at),
      event: {
        case: 'tradeExecuted',
        value: {
          tradeId: t.tradeId,
          instrumentId: `${RESOURCE_CLASS}.${REGION}.${DELIVERY_DAY}`,
          resourceClass: RESOURCE_CLASS,
          region: REGION,
          deliveryDay: DELIVERY_DAY,
          price: { amount: '25.5', currency: 'CNY' },
          quantity: '1',
          buyOrderId: t.buyOrderId,
          sellOrderId: t.sellOrderId,
          buyerAccountId: t.buyerAccountId,
          sellerAccountId: t.sellerAccountId,
          aggressorSide: Side.BID,
          sequence: t.sequence,
        },
      },
    }),
  );

export interface SettlementPostedInput {
  eventId: string;
  settlementId: string;
  allocationId: string;
  buyerAccountId: string;
  providerAccountId: string;
  /** CNY, as a decimal string: what a spend rule adds up. */
  amount: string;
  /** When it occurred and was recorded. */
  at: Date;
}

/** One accelerator-hour of an allocation settled for period 2026-03-10, with no buyer fee. */
export const settlementPostedRecord = (s: SettlementPostedInput): KafkaRecord =>
  toKafkaRecord(
    SETTLEMENTS_TOPIC,
    createEvent(SETTLEMENTS_TOPIC, {
      envelope: envelope(s.eventId, s.settlementId, `settlement-${s.settlementId}`, 'billing', s.at),
      event: {
        case: 'settlementPosted',
        value: {
          settlementId: s.settlementId,
          period: '2026-03-10',
          subject: { case: 'allocationId', value: s.allocationId },
          buyerAccountId: s.buyerAccountId,
          providerAccountId: s.providerAccountId,
          quantity: '1',
          unit: 'accelerator-hour',
          amount: { amount: s.amount, currency: 'CNY' },
          buyerFee: { amount: '0.00', currency: 'CNY' },
          transferIds: [],
        },
      },
    }),
  );
