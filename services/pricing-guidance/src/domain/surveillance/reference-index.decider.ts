import {
  assertNever,
  type Currency,
  Dec,
  isCurrency,
  isDecimalString,
  minorUnits,
  roundToMinorUnit,
} from '@cx/shared-kernel';
import {
  type Alert,
  type AlertRule,
  breakerHaltIdOf,
  type CircuitBreakerTripped,
  type IndexedTrade,
  type ReferenceIndexEvent,
  type ReferenceIndexPublished,
  type SurveillanceAlertRaised,
  type TradeIndexed,
  type TradeNotIndexed,
} from './reference-index.events';

// The reference index and surveillance of one resource class, as a decider: `evolve` folds the class's stream,
// `decide` judges one trade against it. The thresholds arrive on the command (and the windows are recorded on the
// trade's event), so the decider reads nothing and a replay reaches the same answers.
//
// Per trade: the daily VWAP of its UTC day and the rolling intraday VWAP, for its region and nationally, each a new
// version; then the spiral rules on the region's day (near the floor, clustering at the floor, consecutive
// declines; declines nationally too), each alert raised once per rule, scope and day; then the circuit breaker on
// its instrument.

/** What the rules need of the configuration (see SurveillanceConfig). */
export interface SurveillanceThresholds {
  intradayWindowMs: number;
  nearFloorPercent: string;
  declineDays: number;
  declinePercent: string;
  floorSharePercent: string;
  floorShareMinTrades: number;
  breakerMovePercent: string;
  breakerWindowMs: number;
  coolingOffMs: number;
}

export interface DayBucket {
  notional: string;
  volume: string;
  count: number;
  /** Volume traded at (or, were a floor to rise mid-day, below) the floor in force at the trade. */
  volumeAtFloor: string;
  /** The last version published for the day. */
  version: number;
}

interface Priced {
  at: number;
  price: string;
}
interface WindowTrade extends Priced {
  quantity: string;
}

export interface IndexState {
  /** `<region | ''>|<currency>|<day>` ('' is the national scope). */
  daily: Readonly<Record<string, DayBucket>>;
  /** `<region | ''>|<currency>`: the trades of the rolling window and the series' last version. */
  intraday: Readonly<Record<string, { trades: readonly WindowTrade[]; latest: number; version: number }>>;
  /** The latest day indexed in the class. */
  latestDay: string | null;
  /** Per instrument: the trades of the breaker's window, and until when a trip halted it. */
  breaker: Readonly<Record<string, { trades: readonly Priced[]; haltedUntil: number | null }>>;
  /** Alerts already raised (each once). */
  alerts: Readonly<Record<string, true>>;
}

export const noIndex: IndexState = { daily: {}, intraday: {}, latestDay: null, breaker: {}, alerts: {} };

/** A trade as heard on the tape; fields are checked here, so a malformed one is recorded, not indexed. */
export interface IndexTrade {
  type: 'IndexTrade';
  data: {
    /** The class whose stream this is. */
    resourceClass: string;
    tradeId: string;
    instrumentId: string;
    tradeResourceClass: string;
    region: string;
    currency: string;
    price: string;
    quantity: string;
    floor: string | null;
    guidanceVersion: string | null;
    executedAt: Date | null;
  };
  metadata: { thresholds: SurveillanceThresholds };
}

const DAY_MS = 86_400_000;
const NATIONAL = '';
const scopeName = (region: string): string => (region === NATIONAL ? 'national' : region);
const dayKey = (region: string, currency: string, day: string): string => `${region}|${currency}|${day}`;
const seriesKey = (region: string, currency: string): string => `${region}|${currency}`;
const dayStart = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);
const addDays = (day: string, n: number): string => new Date(dayStart(day) + n * DAY_MS).toISOString().slice(0, 10);
const percent = (d: Dec): string => d.toDecimalPlaces(4, Dec.ROUND_HALF_EVEN).toFixed();
const vwapOf = (b: { notional: string; volume: string }): Dec => new Dec(b.notional).div(b.volume);
const indexPrice = (vwap: Dec, currency: Currency): string =>
  roundToMinorUnit(vwap, currency).toFixed(minorUnits[currency]);

const tradeOf = (at: number, price: string, quantity: string): WindowTrade => ({ at, price, quantity });

export const evolve = (state: IndexState, e: ReferenceIndexEvent): IndexState => {
  switch (e.type) {
    case 'TradeIndexed': {
      const t = e.data;
      const at = Date.parse(t.executedAt);
      const q = new Dec(t.quantity);
      const atFloor = t.floor !== null && new Dec(t.price).lte(t.floor);
      const daily = { ...state.daily };
      const intraday = { ...state.intraday };
      for (const region of [t.region, NATIONAL]) {
        const key = dayKey(region, t.currency, t.day);
        const b = daily[key] ?? { notional: '0', volume: '0', count: 0, volumeAtFloor: '0', version: 0 };
        daily[key] = {
          notional: new Dec(b.notional).plus(new Dec(t.price).times(q)).toFixed(),
          volume: new Dec(b.volume).plus(q).toFixed(),
          count: b.count + 1,
          volumeAtFloor: atFloor ? new Dec(b.volumeAtFloor).plus(q).toFixed() : b.volumeAtFloor,
          version: b.version,
        };
        const s = intraday[seriesKey(region, t.currency)] ?? { trades: [], latest: at, version: 0 };
        const latest = Math.max(s.latest, at);
        // Only the window's trades are kept: the rest can never count again.
        const from = latest - t.windows.intradayMs;
        intraday[seriesKey(region, t.currency)] = {
          trades: [...s.trades, tradeOf(at, t.price, t.quantity)].filter((w) => w.at > from),
          latest,
          version: s.version,
        };
      }
      const b = state.breaker[t.instrumentId] ?? { trades: [], haltedUntil: null };
      let breaker = state.breaker;
      if (b.haltedUntil === null || at >= b.haltedUntil) {
        // After a halt the breaker starts afresh: the prices before it are not the market's any more.
        const kept = b.haltedUntil === null ? b.trades : [];
        const latest = Math.max(at, ...kept.map((p) => p.at));
        const trades = [...kept, { at, price: t.price }].filter((p) => p.at > latest - t.windows.breakerMs);
        breaker = { ...state.breaker, [t.instrumentId]: { trades, haltedUntil: null } };
      }
      return {
        ...state,
        daily,
        intraday,
        breaker,
        latestDay: state.latestDay === null || t.day > state.latestDay ? t.day : state.latestDay,
      };
    }
    case 'ReferenceIndexPublished': {
      const v = e.data;
      const region = v.region ?? NATIONAL;
      if (v.window === 'daily') {
        const key = dayKey(region, v.currency, v.windowStart.slice(0, 10));
        const b = state.daily[key];
        return b === undefined ? state : { ...state, daily: { ...state.daily, [key]: { ...b, version: v.version } } };
      }
      const key = seriesKey(region, v.currency);
      const s = state.intraday[key];
      return s === undefined
        ? state
        : { ...state, intraday: { ...state.intraday, [key]: { ...s, version: v.version } } };
    }
    case 'SurveillanceAlertRaised':
      return { ...state, alerts: { ...state.alerts, [e.data.alertId]: true } };
    case 'CircuitBreakerTripped':
      return {
        ...state,
        breaker: {
          ...state.breaker,
          [e.data.instrumentId]: { trades: [], haltedUntil: Date.parse(e.data.resumesAt) },
        },
      };
    case 'TradeNotIndexed':
      return state;
    default:
      return assertNever(e);
  }
};

const notIndexed = (tradeId: string, code: string, reason: string): TradeNotIndexed[] => [
  { type: 'TradeNotIndexed', data: { tradeId, code, reason } },
];

const positive = (v: string): boolean => isDecimalString(v) && new Dec(v).gt(0);

export const decide = (cmd: IndexTrade, state: IndexState): ReferenceIndexEvent[] => {
  const d = cmd.data;
  const th = cmd.metadata.thresholds;
  // A trade that is not one the index can weigh is recorded as such: the tape is matching's, not ours to fix.
  if (d.tradeResourceClass !== d.resourceClass) {
    return notIndexed(d.tradeId, 'PRICING.TRADE_WRONG_CLASS', `trade of ${d.tradeResourceClass} in ${d.resourceClass}`);
  }
  if (!isCurrency(d.currency)) return notIndexed(d.tradeId, 'PRICING.TRADE_CURRENCY', `currency ${d.currency}`);
  if (!positive(d.price)) return notIndexed(d.tradeId, 'PRICING.TRADE_PRICE', `price ${d.price}`);
  if (!positive(d.quantity)) return notIndexed(d.tradeId, 'PRICING.TRADE_QUANTITY', `quantity ${d.quantity}`);
  if (d.floor !== null && !positive(d.floor)) return notIndexed(d.tradeId, 'PRICING.TRADE_FLOOR', `floor ${d.floor}`);
  if (d.executedAt === null || Number.isNaN(d.executedAt.getTime())) {
    return notIndexed(d.tradeId, 'PRICING.TRADE_TIME', 'no execution time');
  }
  const currency: Currency = d.currency;
  const executedAt = d.executedAt.toISOString();
  const day = executedAt.slice(0, 10);
  const at = d.executedAt.getTime();
  const trade: IndexedTrade = {
    tradeId: d.tradeId,
    instrumentId: d.instrumentId,
    resourceClass: d.resourceClass,
    region: d.region,
    currency,
    price: new Dec(d.price).toFixed(),
    quantity: new Dec(d.quantity).toFixed(),
    floor: d.floor === null ? null : new Dec(d.floor).toFixed(),
    guidanceVersion: d.guidanceVersion,
    executedAt,
    day,
  };
  const indexed: TradeIndexed = {
    type: 'TradeIndexed',
    data: {
      ...trade,
      late: state.latestDay !== null && day < state.latestDay,
      windows: { intradayMs: th.intradayWindowMs, breakerMs: th.breakerWindowMs },
    },
  };
  const events: ReferenceIndexEvent[] = [indexed];
  let next = evolve(state, indexed);
  const emit = (e: ReferenceIndexEvent): void => {
    events.push(e);
    next = evolve(next, e);
  };
  const series = (region: string, window: string): string =>
    `${d.resourceClass}.${scopeName(region)}.${currency}.${window}`;

  // The index: the trade's day, and the rolling window ending at the latest trade heard.
  for (const region of [d.region, NATIONAL]) {
    const b = next.daily[dayKey(region, currency, day)] as DayBucket;
    emit(
      indexValue(trade, region, 'daily', series(region, `daily:${day}`), b, b.version + 1, {
        start: dayStart(day),
        end: dayStart(day) + DAY_MS,
        revision: indexed.data.late,
      }),
    );
    const s = next.intraday[seriesKey(region, currency)];
    // A trade older than the window changes no intraday value (the window already moved past it).
    if (s !== undefined && at > s.latest - th.intradayWindowMs) {
      const sums = s.trades.reduce(
        (acc, w) => ({
          notional: acc.notional.plus(new Dec(w.price).times(w.quantity)),
          volume: acc.volume.plus(w.quantity),
        }),
        { notional: new Dec(0), volume: new Dec(0) },
      );
      const bucket = { notional: sums.notional.toFixed(), volume: sums.volume.toFixed(), count: s.trades.length };
      emit(
        indexValue(trade, region, 'intraday', series(region, 'intraday'), bucket, s.version + 1, {
          start: s.latest - th.intradayWindowMs,
          end: s.latest,
          revision: false,
        }),
      );
    }
  }

  // The spiral rules, on the region's day (a regional floor compares with a regional index); declines nationally
  // too. A late trade may complete a chain of declines ending on a later day, so those days are judged again.
  const raise = (alert: Omit<Alert, 'tradeId' | 'raisedAt' | 'currency' | 'resourceClass'>): void => {
    if (next.alerts[alert.alertId]) return;
    const data: Alert = {
      ...alert,
      resourceClass: d.resourceClass,
      currency,
      tradeId: d.tradeId,
      raisedAt: executedAt,
    };
    emit({ type: 'SurveillanceAlertRaised', data } satisfies SurveillanceAlertRaised);
  };
  const alertId = (rule: AlertRule, region: string, onDay: string): string =>
    `${rule}.${d.resourceClass}.${scopeName(region)}.${currency}.${onDay}`;
  const regional = next.daily[dayKey(d.region, currency, day)] as DayBucket;
  const vwap = vwapOf(regional);
  if (trade.floor !== null) {
    const floor = new Dec(trade.floor);
    const above = vwap.minus(floor).div(floor).times(100);
    if (above.lte(th.nearFloorPercent)) {
      raise({
        alertId: alertId('near-floor', d.region, day),
        rule: 'near-floor',
        region: d.region,
        instrumentId: null,
        day,
        observedPercent: percent(above),
        thresholdPercent: th.nearFloorPercent,
        price: indexPrice(vwap, currency),
        floor: trade.floor,
        message: `the ${day} index of ${d.resourceClass} in ${d.region} is ${percent(above)}% above the floor`,
        haltId: null,
      });
    }
  }
  const share = new Dec(regional.volumeAtFloor).div(regional.volume).times(100);
  if (regional.count >= th.floorShareMinTrades && share.gt(th.floorSharePercent)) {
    raise({
      alertId: alertId('floor-clustering', d.region, day),
      rule: 'floor-clustering',
      region: d.region,
      instrumentId: null,
      day,
      observedPercent: percent(share),
      thresholdPercent: th.floorSharePercent,
      price: indexPrice(vwap, currency),
      floor: trade.floor,
      message: `${percent(share)}% of the ${day} volume of ${d.resourceClass} in ${d.region} traded at the floor`,
      haltId: null,
    });
  }
  for (const region of [d.region, NATIONAL]) {
    for (let k = 0; k <= th.declineDays; k++) {
      const end = addDays(day, k);
      const decline = declineEnding(next, region, currency, end, th.declineDays);
      if (decline !== null && decline.gt(th.declinePercent)) {
        const last = next.daily[dayKey(region, currency, end)] as DayBucket;
        raise({
          alertId: alertId('consecutive-decline', region, end),
          rule: 'consecutive-decline',
          region: region === NATIONAL ? null : region,
          instrumentId: null,
          day: end,
          observedPercent: percent(decline),
          thresholdPercent: th.declinePercent,
          price: indexPrice(vwapOf(last), currency),
          floor: null,
          message: `the ${scopeName(region)} index of ${d.resourceClass} fell ${th.declineDays} days in a row to ${end}, ${percent(decline)}% in total`,
          haltId: null,
        });
      }
    }
  }

  // The circuit breaker: the largest move between this trade and any trade of the window on its instrument.
  const inst = next.breaker[d.instrumentId];
  if (inst !== undefined && inst.haltedUntil === null) {
    const price = new Dec(trade.price);
    let worst: { move: Dec; reference: string } | null = null;
    for (const p of inst.trades) {
      if (p.at > at || at - p.at >= th.breakerWindowMs) continue;
      const move = price.minus(p.price).abs().div(p.price).times(100);
      if (worst === null || move.gt(worst.move)) worst = { move, reference: p.price };
    }
    if (worst !== null && worst.move.gt(th.breakerMovePercent)) {
      const haltId = breakerHaltIdOf(d.tradeId);
      const resumesAt = new Date(at + th.coolingOffMs).toISOString();
      emit({
        type: 'CircuitBreakerTripped',
        data: {
          haltId,
          instrumentId: d.instrumentId,
          resourceClass: d.resourceClass,
          region: d.region,
          tradeId: d.tradeId,
          price: trade.price,
          referencePrice: worst.reference,
          movePercent: percent(worst.move),
          thresholdPercent: th.breakerMovePercent,
          windowMs: th.breakerWindowMs,
          haltedAt: executedAt,
          resumesAt,
        },
      } satisfies CircuitBreakerTripped);
      raise({
        alertId: `circuit-breaker.${haltId}`,
        rule: 'circuit-breaker',
        region: d.region,
        instrumentId: d.instrumentId,
        day,
        observedPercent: percent(worst.move),
        thresholdPercent: th.breakerMovePercent,
        price: trade.price,
        floor: trade.floor,
        message: `${d.instrumentId} moved ${percent(worst.move)}% (from ${worst.reference} to ${trade.price}) within ${th.breakerWindowMs} ms: halted until ${resumesAt}`,
        haltId,
      });
    }
  }
  return events;
};

/** The total decline (percent) over the `days` days ending on `end`, if each of them fell; otherwise null. */
const declineEnding = (state: IndexState, region: string, currency: string, end: string, days: number): Dec | null => {
  const values: Dec[] = [];
  for (let k = days; k >= 0; k--) {
    const b = state.daily[dayKey(region, currency, addDays(end, -k))];
    if (b === undefined) return null;
    values.push(vwapOf(b));
  }
  for (let i = 1; i < values.length; i++) if (!(values[i] as Dec).lt(values[i - 1] as Dec)) return null;
  const first = values[0] as Dec;
  return first
    .minus(values[values.length - 1] as Dec)
    .div(first)
    .times(100);
};

const indexValue = (
  trade: IndexedTrade,
  region: string,
  window: 'daily' | 'intraday',
  indexId: string,
  b: { notional: string; volume: string; count: number },
  version: number,
  w: { start: number; end: number; revision: boolean },
): ReferenceIndexPublished => ({
  type: 'ReferenceIndexPublished',
  data: {
    indexId,
    resourceClass: trade.resourceClass,
    region: region === NATIONAL ? null : region,
    currency: trade.currency,
    window,
    windowStart: new Date(w.start).toISOString(),
    windowEnd: new Date(w.end).toISOString(),
    version,
    vwap: indexPrice(vwapOf(b), trade.currency),
    notional: b.notional,
    volume: b.volume,
    tradeCount: b.count,
    revision: w.revision,
    tradeId: trade.tradeId,
    publishedAt: trade.executedAt,
  },
});
