import type { Currency } from '@cx/shared-kernel';

// The reference index and market surveillance of one resource class (issue 4, items 5 and 6). Pricing-guidance
// hears matching's tape (`cx.matching.trades.v1`) and records the effect of each trade in the class's own stream,
// `reference-index-<resourceClass>`, at an exact expected revision with ids derived from the trade's source event:
// the trade itself, the index values it changed (each a new version, never an edit), the alerts it raised and the
// circuit-breaker halt it tripped. Every event is complete, so the relay maps it onto the contracts
// (proto/cx/pricing/v1/index.proto, alerts.proto) field by field and a replay rebuilds every answer.

export const REFERENCE_INDEX_STREAM_PREFIX = 'reference-index-';
export const referenceIndexStream = (resourceClass: string): string =>
  `${REFERENCE_INDEX_STREAM_PREFIX}${resourceClass}`;

/** A trade as the index needs it: prices and quantities as exact decimal strings. */
export interface IndexedTrade {
  tradeId: string;
  instrumentId: string;
  resourceClass: string;
  region: string;
  currency: Currency;
  /** Per accelerator-hour. */
  price: string;
  /** Accelerator-hours. */
  quantity: string;
  /** The floor in force when it matched; null where no band was in force. */
  floor: string | null;
  guidanceVersion: string | null;
  /** ISO 8601, the business time it executed. */
  executedAt: string;
  /** The UTC day it executed, "YYYY-MM-DD". */
  day: string;
}

export interface TradeIndexed {
  type: 'TradeIndexed';
  data: IndexedTrade & {
    /** A later day had already been indexed in this class: the trade's day gets a revised value. */
    late: boolean;
    /** The windows the trade was judged with (configuration, recorded so a replay keeps the same windows). */
    windows: { intradayMs: number; breakerMs: number };
  };
}

/** A trade the index cannot use (another class's stream, a non-positive price…); recorded so an audit sees why. */
export interface TradeNotIndexed {
  type: 'TradeNotIndexed';
  data: { tradeId: string; code: string; reason: string };
}

export type IndexWindow = 'daily' | 'intraday';

export interface IndexValue {
  /** `<resourceClass>.<region | national>.<currency>.<daily:YYYY-MM-DD | intraday>`. */
  indexId: string;
  resourceClass: string;
  /** null: the national index. */
  region: string | null;
  currency: Currency;
  window: IndexWindow;
  /** ISO 8601. Daily: the UTC day; intraday: the rolling window ending at the latest trade. */
  windowStart: string;
  windowEnd: string;
  /** 1, 2, 3… within the series. */
  version: number;
  /** Notional / volume, rounded half-even to the currency's minor unit (the index's one rounding point). */
  vwap: string;
  /** Exact: Σ price × quantity. */
  notional: string;
  /** Exact accelerator-hours. */
  volume: string;
  tradeCount: number;
  /** A late trade changed a day already followed by a later one. */
  revision: boolean;
  tradeId: string;
  /** ISO 8601: the business time of the trade that produced it. */
  publishedAt: string;
}

export interface ReferenceIndexPublished {
  type: 'ReferenceIndexPublished';
  data: IndexValue;
}

export type AlertRule = 'near-floor' | 'consecutive-decline' | 'floor-clustering' | 'circuit-breaker';

export interface Alert {
  /** Deterministic: `<rule>.<resourceClass>.<region | national | instrument>.<currency>.<day>` (breaker: the halt). */
  alertId: string;
  rule: AlertRule;
  resourceClass: string;
  region: string | null;
  instrumentId: string | null;
  currency: Currency;
  day: string;
  /** Percentages, decimal strings (rounded to 4 places for reading; the rule itself compared exactly). */
  observedPercent: string;
  thresholdPercent: string;
  /** The index (breaker: the trade's price) and the floor the rule compared, where it used them. */
  price: string | null;
  floor: string | null;
  message: string;
  raisedAt: string;
  tradeId: string;
  haltId: string | null;
}

export interface SurveillanceAlertRaised {
  type: 'SurveillanceAlertRaised';
  data: Alert;
}

/** The breaker fired on an instrument; the halt itself is recorded in `market-halt-<haltId>`. */
export interface CircuitBreakerTripped {
  type: 'CircuitBreakerTripped';
  data: {
    haltId: string;
    instrumentId: string;
    resourceClass: string;
    region: string;
    tradeId: string;
    price: string;
    referencePrice: string;
    movePercent: string;
    thresholdPercent: string;
    windowMs: number;
    haltedAt: string;
    resumesAt: string;
  };
}

export type ReferenceIndexEvent =
  TradeIndexed | TradeNotIndexed | ReferenceIndexPublished | SurveillanceAlertRaised | CircuitBreakerTripped;

const TYPES: ReadonlySet<string> = new Set([
  'TradeIndexed',
  'TradeNotIndexed',
  'ReferenceIndexPublished',
  'SurveillanceAlertRaised',
  'CircuitBreakerTripped',
]);
export const isReferenceIndexEvent = (type: string): type is ReferenceIndexEvent['type'] => TYPES.has(type);

/** The halt id a trade trips: deterministic, so a redelivered trade names the same halt. */
export const breakerHaltIdOf = (tradeId: string): string => `cb-${tradeId}`;
