import { AlertRule, createEvent, IndexWindow, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import type { RecordedEvent } from '@cx/event-store';
import { envelopeFor, type RelayMessage, type RelayRoute, type TopicSpec } from '@cx/messaging';
import {
  actorLabel,
  type HaltScope,
  MARKET_HALT_STREAM_PREFIX,
  type MarketHalted,
  type MarketResumed,
} from '../domain/market-halt/market-halt.events';
import {
  type Alert,
  type IndexValue,
  REFERENCE_INDEX_STREAM_PREFIX,
} from '../domain/surveillance/reference-index.events';
import { MARKET_STATUS_TOPIC } from './guidance-publication';

// What surveillance publishes through the relay: index values on `cx.pricing.index.v1` and alerts on
// `cx.pricing.alerts.v1` (both keyed by resource class, so one class's versions arrive in the order recorded), and
// halts and resumes on `cx.pricing.market-status.v1` (keyed by halt id, so a resume never overtakes its halt).

export const INDEX_TOPIC = 'cx.pricing.index.v1';
export const ALERTS_TOPIC = 'cx.pricing.alerts.v1';
/** Where pricing-guidance hears the tape, and the group it reads it in. */
export const TRADES_TOPIC = 'cx.matching.trades.v1';
export const PRICING_GUIDANCE_GROUP = 'pricing-guidance';

export const indexTopicSpec: TopicSpec = { name: INDEX_TOPIC, partitions: 3, configs: { 'retention.ms': '-1' } };
export const alertsTopicSpec: TopicSpec = { name: ALERTS_TOPIC, partitions: 3, configs: { 'retention.ms': '-1' } };

const WINDOW: Readonly<Record<IndexValue['window'], IndexWindow>> = {
  daily: IndexWindow.DAILY,
  intraday: IndexWindow.INTRADAY,
};
const RULE: Readonly<Record<Alert['rule'], AlertRule>> = {
  'near-floor': AlertRule.NEAR_FLOOR,
  'consecutive-decline': AlertRule.CONSECUTIVE_DECLINE,
  'floor-clustering': AlertRule.FLOOR_CLUSTERING,
  'circuit-breaker': AlertRule.CIRCUIT_BREAKER,
};

const money = (amount: string | null, currency: string) => (amount === null ? undefined : { amount, currency });

const toIndexMessage = (e: RecordedEvent): RelayMessage => {
  const v = e.data as IndexValue;
  const event = createEvent(INDEX_TOPIC, {
    envelope: envelopeFor(e, v.resourceClass, new Date(v.publishedAt)),
    event: {
      case: 'referenceIndexPublished',
      value: {
        indexId: v.indexId,
        resourceClass: v.resourceClass,
        ...(v.region !== null ? { region: v.region } : {}),
        window: WINDOW[v.window],
        windowStart: timestampFromDate(new Date(v.windowStart)),
        windowEnd: timestampFromDate(new Date(v.windowEnd)),
        version: BigInt(v.version),
        vwap: { amount: v.vwap, currency: v.currency },
        notional: { amount: v.notional, currency: v.currency },
        volume: v.volume,
        tradeCount: BigInt(v.tradeCount),
        revision: v.revision,
        tradeId: v.tradeId,
      },
    },
  });
  return { topic: INDEX_TOPIC, message: toKafkaRecord(INDEX_TOPIC, event) };
};

const toAlertMessage = (e: RecordedEvent): RelayMessage => {
  const a = e.data as Alert;
  const event = createEvent(ALERTS_TOPIC, {
    envelope: envelopeFor(e, a.resourceClass, new Date(a.raisedAt)),
    event: {
      case: 'alertRaised',
      value: {
        alertId: a.alertId,
        rule: RULE[a.rule],
        resourceClass: a.resourceClass,
        ...(a.region !== null ? { region: a.region } : {}),
        ...(a.instrumentId !== null ? { instrumentId: a.instrumentId } : {}),
        day: a.day,
        observedPercent: a.observedPercent,
        thresholdPercent: a.thresholdPercent,
        price: money(a.price, a.currency),
        floor: money(a.floor, a.currency),
        message: a.message,
        raisedAt: timestampFromDate(new Date(a.raisedAt)),
        tradeId: a.tradeId,
        ...(a.haltId !== null ? { haltId: a.haltId } : {}),
      },
    },
  });
  return { topic: ALERTS_TOPIC, message: toKafkaRecord(ALERTS_TOPIC, event) };
};

const scopeOf = (s: HaltScope) => ({
  ...(s.resourceClass !== null ? { resourceClass: s.resourceClass } : {}),
  ...(s.region !== null ? { region: s.region } : {}),
  ...(s.instrumentId !== null ? { instrumentId: s.instrumentId } : {}),
});

/** The market-status message for a recorded halt event; null for anything else. */
export const toMarketStatusMessage = (e: RecordedEvent): RelayMessage | null => {
  if (e.type === 'MarketHalted') {
    const d = e.data as MarketHalted['data'];
    const event = createEvent(MARKET_STATUS_TOPIC, {
      envelope: envelopeFor(e, d.haltId, new Date(d.haltedAt)),
      event: {
        case: 'marketHalted',
        value: {
          haltId: d.haltId,
          scope: scopeOf(d.scope),
          reason: d.reason,
          haltedBy: actorLabel(d.haltedBy),
          ...(d.resumesAt !== null ? { resumesAt: timestampFromDate(new Date(d.resumesAt)) } : {}),
        },
      },
    });
    return { topic: MARKET_STATUS_TOPIC, message: toKafkaRecord(MARKET_STATUS_TOPIC, event) };
  }
  if (e.type === 'MarketResumed') {
    const d = e.data as MarketResumed['data'];
    const event = createEvent(MARKET_STATUS_TOPIC, {
      envelope: envelopeFor(e, d.haltId, new Date(d.resumedAt)),
      event: {
        case: 'marketResumed',
        value: { haltId: d.haltId, scope: scopeOf(d.scope), reason: d.reason, resumedBy: actorLabel(d.resumedBy) },
      },
    });
    return { topic: MARKET_STATUS_TOPIC, message: toKafkaRecord(MARKET_STATUS_TOPIC, event) };
  }
  return null;
};

export const referenceIndexRelayRoute: RelayRoute = {
  streamPrefixes: [REFERENCE_INDEX_STREAM_PREFIX],
  toMessage: (e: RecordedEvent) =>
    e.type === 'ReferenceIndexPublished'
      ? toIndexMessage(e)
      : e.type === 'SurveillanceAlertRaised'
        ? toAlertMessage(e)
        : null,
};

export const marketStatusRelayRoute: RelayRoute = {
  streamPrefixes: [MARKET_HALT_STREAM_PREFIX],
  toMessage: toMarketStatusMessage,
};

/** Every topic pricing-guidance publishes, and the routes that feed the surveillance ones. */
export const surveillanceTopicSpecs: TopicSpec[] = [indexTopicSpec, alertsTopicSpec];
export const surveillanceRelayRoutes: RelayRoute[] = [referenceIndexRelayRoute, marketStatusRelayRoute];
