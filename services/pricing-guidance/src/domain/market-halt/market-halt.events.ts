// Market halts (issue 4, item 6): one stream per halt, `market-halt-<haltId>`. A halt is opened by the circuit
// breaker (id `cb-<tradeId>`, appended at `no_stream`, so a redelivered trade cannot halt twice) or by the
// regulator, and closed once: by hand, or automatically when its cooling-off ends. The relay maps both events onto
// `cx.pricing.market-status.v1` (proto/cx/pricing/v1/market_status.proto), keyed by halt id, and matching stops or
// resumes the instruments in scope.

export const MARKET_HALT_STREAM_PREFIX = 'market-halt-';
export const marketHaltStream = (haltId: string): string => `${MARKET_HALT_STREAM_PREFIX}${haltId}`;

/** What a halt covers: every field absent is the whole market; each present field narrows it. */
export interface HaltScope {
  resourceClass: string | null;
  region: string | null;
  instrumentId: string | null;
}

export interface HaltActor {
  /** The regulator's key id; null for the surveillance service. */
  keyId: string | null;
  role: string | null;
  /** The rule that acted, e.g. "circuit-breaker" or "cooling-off"; null for a person. */
  rule: string | null;
}

export interface MarketHalted {
  type: 'MarketHalted';
  data: {
    haltId: string;
    scope: HaltScope;
    reason: string;
    origin: 'manual' | 'circuit-breaker';
    haltedBy: HaltActor;
    /** ISO 8601, business time. */
    haltedAt: string;
    /** null: until resumed by hand. */
    resumesAt: string | null;
  };
}

export interface MarketResumed {
  type: 'MarketResumed';
  data: {
    haltId: string;
    scope: HaltScope;
    reason: string;
    /** true: the cooling-off ended; false: the regulator resumed it. */
    automatic: boolean;
    resumedBy: HaltActor;
    resumedAt: string;
  };
}

export type MarketHaltEvent = MarketHalted | MarketResumed;

export const isMarketHaltEvent = (type: string): type is MarketHaltEvent['type'] =>
  type === 'MarketHalted' || type === 'MarketResumed';

/** The label a contract consumer sees as `halted_by` / `resumed_by`. */
export const actorLabel = (a: HaltActor): string =>
  a.keyId ?? (a.rule !== null ? `surveillance:${a.rule}` : 'pricing-guidance');
