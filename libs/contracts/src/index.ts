// The integration events that cross service boundaries (DESIGN.md, "Services and what they own"): the TypeScript
// generated from proto/ (libs/contracts/src/gen, committed; `npm run proto:generate` rewrites it and
// `npm run proto:check` fails when it is stale), and the topic → message map producers and consumers share.
//
// Each topic carries exactly one message type, `<Name>Event`: an envelope (event id, type, aggregate id = the
// Kafka key, occurred-at, correlation and causation ids, actor, source stream position) and a oneof `event`
// naming the payload. The relay also copies the payload's full name into the Kafka header `cx-event-type`, so a
// consumer can route without decoding; the oneof stays the authority.
import {
  create,
  fromBinary,
  getOption,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { isDecimalString } from '@cx/shared-kernel';
import { PeriodEventSchema } from './gen/cx/billing/v1/periods_pb';
import { SettlementEventSchema } from './gen/cx/billing/v1/settlements_pb';
import { StatementEventSchema } from './gen/cx/billing/v1/statements_pb';
import { decimal } from './gen/cx/common/v1/options_pb';
import { IdentityEventSchema } from './gen/cx/identity/v1/identity_pb';
import { AllocationEventSchema } from './gen/cx/matching/v1/allocations_pb';
import { OrderEventSchema } from './gen/cx/matching/v1/orders_pb';
import { TradeEventSchema } from './gen/cx/matching/v1/trades_pb';
import { UsageEventSchema } from './gen/cx/metering/v1/usage_pb';
import { AlertEventSchema } from './gen/cx/pricing/v1/alerts_pb';
import { GuidanceEventSchema } from './gen/cx/pricing/v1/guidance_pb';
import { IndexEventSchema } from './gen/cx/pricing/v1/index_pb';
import { MarketStatusEventSchema } from './gen/cx/pricing/v1/market_status_pb';

export * from './gen/cx/billing/v1/periods_pb';
export * from './gen/cx/billing/v1/settlements_pb';
export * from './gen/cx/billing/v1/statements_pb';
export * from './gen/cx/common/v1/envelope_pb';
export * from './gen/cx/common/v1/options_pb';
export * from './gen/cx/identity/v1/identity_pb';
export * from './gen/cx/matching/v1/allocations_pb';
export * from './gen/cx/matching/v1/orders_pb';
export * from './gen/cx/matching/v1/trades_pb';
export * from './gen/cx/matching/v1/types_pb';
export * from './gen/cx/metering/v1/usage_pb';
export * from './gen/cx/pricing/v1/alerts_pb';
export * from './gen/cx/pricing/v1/guidance_pb';
export * from './gen/cx/pricing/v1/index_pb';
export * from './gen/cx/pricing/v1/market_status_pb';
export { create, fromBinary, toBinary, equals, clone } from '@bufbuild/protobuf';
export { timestampDate, timestampFromDate, timestampFromMs, timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';

/** Topic name → the one message every record on it is. */
export const topics = {
  'cx.identity.v1': IdentityEventSchema,
  'cx.pricing.guidance.v1': GuidanceEventSchema,
  'cx.pricing.market-status.v1': MarketStatusEventSchema,
  'cx.pricing.index.v1': IndexEventSchema,
  'cx.pricing.alerts.v1': AlertEventSchema,
  'cx.matching.orders.v1': OrderEventSchema,
  'cx.matching.trades.v1': TradeEventSchema,
  'cx.matching.allocations.v1': AllocationEventSchema,
  'cx.metering.usage.v1': UsageEventSchema,
  'cx.billing.periods.v1': PeriodEventSchema,
  'cx.billing.settlements.v1': SettlementEventSchema,
  'cx.billing.statements.v1': StatementEventSchema,
} as const satisfies Record<string, DescMessage>;

export type Topic = keyof typeof topics;
export type TopicSchema<T extends Topic> = (typeof topics)[T];
/** The decoded record of a topic: `{ envelope, event: { case, value } }`. */
export type TopicEvent<T extends Topic> = MessageShape<TopicSchema<T>>;
export type TopicEventInit<T extends Topic> = MessageInitShape<TopicSchema<T>>;
/** The payload cases of a topic, e.g. `'orderAccepted' | 'orderRejected' | 'orderCancelled'`. */
export type TopicEventCase<T extends Topic> = NonNullable<TopicEvent<T>['event']['case']>;

export const topicNames = Object.keys(topics) as Topic[];
export const isTopic = (name: string): name is Topic => Object.prototype.hasOwnProperty.call(topics, name);

/** Kafka header with the payload's full message name, e.g. `cx.matching.v1.TradeExecuted`. */
export const EVENT_TYPE_HEADER = 'cx-event-type';
export const CONTENT_TYPE_HEADER = 'content-type';
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

export class ContractViolation extends Error {
  constructor(
    readonly topic: string,
    readonly problems: readonly string[],
  ) {
    super(`${topic}: ${problems.join('; ')}`);
    this.name = 'ContractViolation';
  }
}

const eventOneof = (schema: DescMessage) => {
  const oneof = schema.oneofs.find((o) => o.name === 'event');
  if (!oneof) throw new Error(`${schema.typeName} has no oneof "event"`);
  return oneof;
};

/** The full message name of the payload case `eventCase` on `topic`, e.g. `cx.matching.v1.TradeExecuted`. */
export const eventTypeFor = <T extends Topic>(topic: T, eventCase: TopicEventCase<T>): string => {
  const field = eventOneof(topics[topic]).fields.find((f) => f.localName === eventCase);
  if (!field || field.fieldKind !== 'message') throw new Error(`${topic} has no event case ${String(eventCase)}`);
  return field.message.typeName;
};

/** Every payload full name a topic may carry. */
export const eventTypesOf = (topic: Topic): string[] =>
  eventOneof(topics[topic]).fields.flatMap((f) => (f.fieldKind === 'message' ? [f.message.typeName] : []));

/**
 * Builds a record, filling `envelope.eventType` from the payload case when it is left empty, so a producer
 * cannot publish a type that disagrees with the payload.
 */
export const createEvent = <T extends Topic>(topic: T, init: TopicEventInit<T>): TopicEvent<T> => {
  const event = create(topics[topic], init) as TopicEvent<T>;
  const c = event.event.case as TopicEventCase<T> | undefined;
  if (event.envelope && !event.envelope.eventType && c) event.envelope.eventType = eventTypeFor(topic, c);
  return event;
};

const MONEY = 'cx.common.v1.Money';
const CURRENCY_RE = /^[A-Z]{3}$/;

const checkMessage = (msg: ReflectMessage, path: string, problems: string[]): void => {
  for (const field of msg.fields) {
    const at = path ? `${path}.${field.localName}` : field.localName;
    if (field.fieldKind === 'scalar') {
      if (!getOption(field, decimal)) continue;
      // Absent optional fields are fine; an implicit-presence decimal must hold a decimal (not "").
      if (field.proto.proto3Optional && !msg.isSet(field)) continue;
      const value = msg.get(field);
      if (!isDecimalString(value)) problems.push(`${at} is not a decimal string: ${JSON.stringify(value)}`);
      if (msg.desc.typeName === MONEY) {
        const currency = msg.get(msg.desc.field.currency!);
        if (typeof currency !== 'string' || !CURRENCY_RE.test(currency))
          problems.push(`${path}.currency is not ISO 4217: ${JSON.stringify(currency)}`);
      }
    } else if (field.fieldKind === 'message') {
      if (msg.isSet(field)) checkMessage(msg.get(field), at, problems);
    } else if (field.fieldKind === 'list') {
      const list = msg.get(field);
      let i = 0;
      for (const item of list) {
        if (field.listKind === 'message') checkMessage(item as ReflectMessage, `${at}[${i}]`, problems);
        else if (getOption(field, decimal) && !isDecimalString(item))
          problems.push(`${at}[${i}] is not a decimal string: ${JSON.stringify(item)}`);
        i += 1;
      }
    } else if (field.fieldKind === 'map') {
      for (const [k, v] of msg.get(field))
        if (field.mapKind === 'message') checkMessage(v as ReflectMessage, `${at}[${String(k)}]`, problems);
    }
  }
};

/**
 * What is wrong with a record (empty: nothing): the envelope's required fields, `eventType` matching the payload,
 * and every decimal field (`[(cx.common.v1.decimal) = true]`, Money amounts) in plain decimal notation.
 */
export const validateEvent = <T extends Topic>(topic: T, event: TopicEvent<T>): string[] => {
  const problems: string[] = [];
  const env = event.envelope;
  if (!env) problems.push('envelope is missing');
  else {
    for (const key of ['eventId', 'eventType', 'aggregateId', 'correlationId', 'causationId'] as const)
      if (!env[key]) problems.push(`envelope.${key} is empty`);
    if (!env.occurredAt) problems.push('envelope.occurredAt is missing');
    if (!env.source?.streamId) problems.push('envelope.source.streamId is empty');
  }
  const c = event.event.case as TopicEventCase<T> | undefined;
  if (!c) problems.push('event is not set');
  else if (env?.eventType && env.eventType !== eventTypeFor(topic, c))
    problems.push(`envelope.eventType ${env.eventType} does not match the payload ${eventTypeFor(topic, c)}`);
  checkMessage(reflect(topics[topic], event), '', problems);
  return problems;
};

/** Validates and encodes a record; throws ContractViolation instead of publishing a malformed one. */
export const encodeEvent = <T extends Topic>(topic: T, event: TopicEvent<T>): Uint8Array => {
  const problems = validateEvent(topic, event);
  if (problems.length > 0) throw new ContractViolation(topic, problems);
  return toBinary(topics[topic], event);
};

/**
 * Decodes a record of `topic`. Unknown fields are kept; a payload added after this build decodes with
 * `event.case === undefined`, which a consumer skips (contracts only grow within a version).
 */
export const decodeEvent = <T extends Topic>(topic: T, bytes: Uint8Array): TopicEvent<T> =>
  fromBinary(topics[topic], bytes) as TopicEvent<T>;

/** The Kafka record for an event: keyed by its aggregate id, typed by header. Validates like encodeEvent. */
export const toKafkaRecord = <T extends Topic>(
  topic: T,
  event: TopicEvent<T>,
): { key: string; value: Buffer; headers: Record<string, string> } => {
  const value = encodeEvent(topic, event);
  const env = event.envelope!;
  return {
    key: env.aggregateId,
    value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    headers: { [EVENT_TYPE_HEADER]: env.eventType, [CONTENT_TYPE_HEADER]: PROTOBUF_CONTENT_TYPE },
  };
};
