import { createEvent, ReporterRole, Side, timestampFromDate, toKafkaRecord, type Topic } from '@cx/contracts';
import { ALLOCATIONS_TOPIC, TRADES_TOPIC, USAGE_TOPIC } from '../infrastructure/billing-integration';

// The Kafka inputs billing hears for one delivered allocation, built the way matching and metering publish them: a
// TradeExecuted on the trades topic, its AllocationCreated on the allocations topic and delivery readings on the
// usage topic, each in an envelope. Statements carry content hashes over what billing heard, so every id, price,
// quantity and envelope field a test depends on is a parameter here; the only defaults are named on their fields.

const RESOURCE_CLASS = 'nvidia-h100-sxm-80g';
const REGION = 'cn-east-1';

/** One message as a test publishes it: the topic and the Kafka record. */
export interface InputMessage {
  topic: Topic;
  message: ReturnType<typeof toKafkaRecord>;
}

/**
 * Numbers envelopes: each takes the next number for its event id, correlation and stream revision. Share one
 * numbering across deliveries when their event ids must not repeat.
 */
export interface EnvelopeNumbering {
  /** The number the last envelope took; 0 before the first. */
  seq: number;
  eventId: (seq: number) => string;
  correlationId: (seq: number) => string;
}

/** A numbering from 1; the correlation (and causation) id is the event id unless given. */
export const envelopeNumbering = (
  eventId: (seq: number) => string,
  correlationId: (seq: number) => string = eventId,
): EnvelopeNumbering => ({ seq: 0, eventId, correlationId });

export interface Reading {
  role: ReporterRole;
  /** The reading's ref id, unique per source. */
  id: string;
  /** accelerator_seconds. */
  seconds: string;
}

export interface Delivery {
  tradeId: string;
  allocationId: string;
  /** The delivery day, `YYYY-MM-DD`; the instrument, the envelopes' time and the delivery window follow from it. */
  day: string;
  buyer: string;
  provider: string;
  /** CNY, as a decimal string. */
  price: string;
  quantity: string;
  buyOrderId: string;
  sellOrderId: string;
  /** Which side took liquidity: BID makes the buyer the taker. */
  aggressorSide: Side;
  /** The trade's sequence in its book; the trade envelope's number unless given. */
  sequence?: bigint;
  /** Reading ref sources by reporter; `//prov` and `//buyer` unless given. */
  sources?: { provider: string; buyer: string };
  /** In the order they are published, after the trade and the allocation. */
  readings: readonly Reading[];
  envelopes: EnvelopeNumbering;
}

export interface DeliveryInputs {
  tradeId: string;
  allocationId: string;
  /** The trade, the allocation, then the readings. */
  messages: InputMessage[];
}

const record = <T extends Topic>(topic: T, init: Parameters<typeof createEvent<T>>[1]): InputMessage => ({
  topic,
  message: toKafkaRecord(topic, createEvent(topic, init)),
});

/** The trade, its allocation and its readings, enveloped in that order. */
export const deliveryInputs = (d: Delivery): DeliveryInputs => {
  const instrumentId = `${RESOURCE_CLASS}.${REGION}.${d.day}`;
  const { tradeId, allocationId } = d;
  const envelope = (aggregateId: string) => {
    d.envelopes.seq += 1;
    const seq = d.envelopes.seq;
    const correlationId = d.envelopes.correlationId(seq);
    return {
      eventId: d.envelopes.eventId(seq),
      aggregateId,
      occurredAt: timestampFromDate(new Date(`${d.day}T00:00:00Z`)),
      correlationId,
      causationId: correlationId,
      source: { streamId: `book-${instrumentId}`, streamRevision: BigInt(seq), position: { commit: 1n, prepare: 1n } },
    };
  };
  const sources = d.sources ?? { provider: '//prov', buyer: '//buyer' };
  const price = { amount: d.price, currency: 'CNY' };
  const trade = record(TRADES_TOPIC, {
    envelope: envelope(instrumentId),
    event: {
      case: 'tradeExecuted',
      value: {
        tradeId,
        instrumentId,
        resourceClass: RESOURCE_CLASS,
        region: REGION,
        deliveryDay: d.day,
        price,
        quantity: d.quantity,
        buyOrderId: d.buyOrderId,
        sellOrderId: d.sellOrderId,
        buyerAccountId: d.buyer,
        sellerAccountId: d.provider,
        aggressorSide: d.aggressorSide,
        sequence: d.sequence ?? BigInt(d.envelopes.seq),
      },
    },
  });
  const allocation = record(ALLOCATIONS_TOPIC, {
    envelope: envelope(allocationId),
    event: {
      case: 'allocationCreated',
      value: {
        allocationId,
        tradeId,
        instrumentId,
        resourceClass: RESOURCE_CLASS,
        region: REGION,
        providerAccountId: d.provider,
        buyerAccountId: d.buyer,
        quantity: d.quantity,
        price,
        deliveryStart: timestampFromDate(new Date(`${d.day}T00:00:00Z`)),
        deliveryEnd: timestampFromDate(new Date(`${d.day}T23:59:59Z`)),
      },
    },
  });
  const reading = ({ role, id, seconds }: Reading) => {
    const provider = role === ReporterRole.PROVIDER;
    return record(USAGE_TOPIC, {
      envelope: envelope(allocationId),
      event: {
        case: 'usageRecorded',
        value: {
          ref: { source: provider ? sources.provider : sources.buyer, id },
          subject: { case: 'allocationId', value: allocationId },
          meter: 'accelerator_seconds',
          quantity: seconds,
          usageTime: timestampFromDate(new Date(`${d.day}T08:00:00Z`)),
          reporterRole: role,
          reporterAccountId: provider ? d.provider : d.buyer,
          late: false,
        },
      },
    });
  };
  return { tradeId, allocationId, messages: [trade, allocation, ...d.readings.map(reading)] };
};
