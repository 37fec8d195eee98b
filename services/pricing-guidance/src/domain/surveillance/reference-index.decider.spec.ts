// Proves the reference index and surveillance decider: daily and intraday VWAPs to the cent from a scripted tape,
// revisions for late trades, each spiral rule (near the floor, clustering at the floor, consecutive declines) raised
// once, the circuit breaker's trip and cooling-off, refused trades, and that a replay of the events rebuilds the state.
import {
  decide,
  evolve,
  type IndexState,
  type IndexTrade,
  noIndex,
  type SurveillanceThresholds,
} from './reference-index.decider';
import type { Alert, IndexValue, ReferenceIndexEvent } from './reference-index.events';

const RC = 'nvidia-h100-sxm-80g';
const thresholds: SurveillanceThresholds = {
  intradayWindowMs: 3_600_000,
  nearFloorPercent: '3',
  declineDays: 3,
  declinePercent: '10',
  floorSharePercent: '50',
  floorShareMinTrades: 3,
  breakerMovePercent: '10',
  breakerWindowMs: 300_000,
  coolingOffMs: 900_000,
};

let n = 0;
const trade = (
  at: string,
  price: string,
  quantity: string,
  over: Partial<IndexTrade['data']> = {},
  th: SurveillanceThresholds = thresholds,
): IndexTrade => {
  n += 1;
  return {
    type: 'IndexTrade',
    data: {
      resourceClass: RC,
      tradeId: `t-${n}`,
      instrumentId: `${RC}.cn-east-1.2026-03-20`,
      tradeResourceClass: RC,
      region: 'cn-east-1',
      currency: 'CNY',
      price,
      quantity,
      floor: null,
      guidanceVersion: null,
      executedAt: new Date(at),
      ...over,
    },
    metadata: { thresholds: th },
  };
};

/** Decides each trade against the state the previous ones left; returns every event and the final state. */
const run = (trades: IndexTrade[], from: IndexState = noIndex) => {
  let state = from;
  const events: ReferenceIndexEvent[] = [];
  for (const t of trades) {
    const out = decide(t, state);
    events.push(...out);
    state = out.reduce(evolve, state);
  }
  return { state, events };
};

const values = (events: ReferenceIndexEvent[], window: 'daily' | 'intraday', region: string | null = 'cn-east-1') =>
  events.flatMap((e) =>
    e.type === 'ReferenceIndexPublished' && e.data.window === window && e.data.region === region ? [e.data] : [],
  );
const alerts = (events: ReferenceIndexEvent[], rule?: Alert['rule']) =>
  events.flatMap((e) => (e.type === 'SurveillanceAlertRaised' && (!rule || e.data.rule === rule) ? [e.data] : []));
const last = (vs: IndexValue[]): IndexValue => vs[vs.length - 1] as IndexValue;

describe('reference index', () => {
  it('publishes the daily VWAP of a scripted tape, to the cent, per region and nationally', () => {
    const { events } = run([
      trade('2026-03-10T01:00:00Z', '20.00', '10'),
      trade('2026-03-10T02:00:00Z', '23.00', '5'),
      trade('2026-03-10T03:00:00Z', '21.333', '2.5'),
      trade('2026-03-10T04:00:00Z', '30', '1', { region: 'cn-north-1', instrumentId: `${RC}.cn-north-1.2026-03-20` }),
    ]);
    // East: (200 + 115 + 53.3325) / 17.5 = 21.0475714… → 21.05.
    const east = values(events, 'daily');
    expect(east.map((v) => v.vwap)).toEqual(['20.00', '21.00', '21.05']);
    expect(last(east)).toEqual(
      expect.objectContaining({
        indexId: `${RC}.cn-east-1.CNY.daily:2026-03-10`,
        version: 3,
        notional: '368.3325',
        volume: '17.5',
        tradeCount: 3,
        windowStart: '2026-03-10T00:00:00.000Z',
        windowEnd: '2026-03-11T00:00:00.000Z',
        revision: false,
      }),
    );
    // National: (368.3325 + 30) / 18.5 = 21.5315… → 21.53.
    const national = values(events, 'daily', null);
    expect(last(national)).toEqual(
      expect.objectContaining({ indexId: `${RC}.national.CNY.daily:2026-03-10`, vwap: '21.53', version: 4 }),
    );
  });

  it('rounds the index half-even at the cent', () => {
    // 10.125 exactly: half-even keeps 10.12.
    const { events } = run([trade('2026-03-10T01:00:00Z', '10.10', '1'), trade('2026-03-10T01:01:00Z', '10.15', '1')]);
    expect(last(values(events, 'daily')).vwap).toBe('10.12');
  });

  it('revises a day already followed by a later one with a new version, flagged as a revision', () => {
    const { events } = run([
      trade('2026-03-10T10:00:00Z', '20', '1'),
      trade('2026-03-11T10:00:00Z', '22', '1'),
      trade('2026-03-10T23:59:00Z', '26', '1'),
    ]);
    const day10 = values(events, 'daily').filter((v) => v.windowStart.startsWith('2026-03-10'));
    expect(day10.map((v) => [v.version, v.vwap, v.revision])).toEqual([
      [1, '20.00', false],
      [2, '23.00', true],
    ]);
    expect(events.find((e) => e.type === 'TradeIndexed' && e.data.late)).toBeDefined();
  });

  it('keeps a rolling intraday index over the configured window', () => {
    const { events } = run([
      trade('2026-03-10T10:00:00Z', '20', '1'),
      trade('2026-03-10T10:30:00Z', '22', '1'),
      trade('2026-03-10T11:10:00Z', '30', '2'),
      // Older than the window ending at 11:10: changes no intraday value.
      trade('2026-03-10T09:00:00Z', '10', '1'),
    ]);
    const intraday = values(events, 'intraday');
    expect(intraday.map((v) => [v.version, v.vwap, v.tradeCount])).toEqual([
      [1, '20.00', 1],
      [2, '21.00', 2],
      // 10:00 fell out: (22 + 60) / 3.
      [3, '27.33', 2],
    ]);
    expect(last(intraday)).toEqual(
      expect.objectContaining({ windowStart: '2026-03-10T10:10:00.000Z', windowEnd: '2026-03-10T11:10:00.000Z' }),
    );
  });

  it('records a trade it cannot weigh instead of indexing it', () => {
    for (const [over, code] of [
      [{ tradeResourceClass: 'nvidia-a100-sxm-80g' }, 'PRICING.TRADE_WRONG_CLASS'],
      [{ currency: 'XXX' }, 'PRICING.TRADE_CURRENCY'],
      [{ price: '0' }, 'PRICING.TRADE_PRICE'],
      [{ price: '1e3' }, 'PRICING.TRADE_PRICE'],
      [{ quantity: '-1' }, 'PRICING.TRADE_QUANTITY'],
      [{ floor: 'abc' }, 'PRICING.TRADE_FLOOR'],
      [{ executedAt: null }, 'PRICING.TRADE_TIME'],
    ] as const) {
      const out = decide(trade('2026-03-10T10:00:00Z', '20', '1', over as Partial<IndexTrade['data']>), noIndex);
      expect(out).toEqual([{ type: 'TradeNotIndexed', data: expect.objectContaining({ code }) }]);
    }
  });

  it('rebuilds the same state from its events, and decides the same trade the same way', () => {
    const tape = [
      trade('2026-03-10T10:00:00Z', '20', '1', { floor: '19.8' }),
      trade('2026-03-10T10:01:00Z', '25', '1', { floor: '19.8' }),
      trade('2026-03-11T10:00:00Z', '19.8', '3', { floor: '19.8' }),
    ];
    const { state, events } = run(tape);
    expect(events.reduce(evolve, noIndex)).toEqual(state);
    const again = run(tape);
    expect(again.events).toEqual(events);
  });
});

describe('spiral surveillance', () => {
  it('alerts once a day when the index is within the threshold of the floor', () => {
    const { events } = run([
      trade('2026-03-10T10:00:00Z', '25', '1', { floor: '20' }),
      trade('2026-03-10T10:10:00Z', '20.1', '9', { floor: '20' }),
      trade('2026-03-10T10:20:00Z', '20.1', '9', { floor: '20' }),
    ]);
    const near = alerts(events, 'near-floor');
    // (25 + 180.9) / 10 = 20.59: 2.95% above the floor, within 3%.
    expect(near).toHaveLength(1);
    expect(near[0]).toEqual(
      expect.objectContaining({
        alertId: `near-floor.${RC}.cn-east-1.CNY.2026-03-10`,
        observedPercent: '2.95',
        thresholdPercent: '3',
        price: '20.59',
        floor: '20',
        day: '2026-03-10',
      }),
    );
  });

  it('does not alert when the index stays clear of the floor, or where no band is in force', () => {
    const { events } = run([
      trade('2026-03-10T10:00:00Z', '21', '1', { floor: '20' }),
      trade('2026-03-10T10:10:00Z', '20', '1'),
    ]);
    expect(alerts(events)).toEqual([]);
  });

  it('alerts when more than the threshold share of a day’s volume trades at the floor, after enough trades', () => {
    const { events } = run([
      trade('2026-03-10T10:00:00Z', '20', '5', { floor: '20' }),
      trade('2026-03-10T10:05:00Z', '20', '5', { floor: '20' }),
      trade('2026-03-10T10:10:00Z', '30', '4', { floor: '20' }),
      trade('2026-03-10T10:15:00Z', '30', '1', { floor: '20' }),
    ]);
    const clustered = alerts(events, 'floor-clustering');
    // Raised on the third trade (10 of 14 = 71.4286%), not repeated on the fourth.
    expect(clustered).toHaveLength(1);
    expect(clustered[0]).toEqual(expect.objectContaining({ observedPercent: '71.4286', thresholdPercent: '50' }));
  });

  it('alerts on N consecutive daily declines totalling more than the threshold, per region and nationally', () => {
    const days = ['100', '97', '94', '89'];
    const { events } = run(days.map((p, i) => trade(`2026-03-1${i}T10:00:00Z`, p, '1')));
    const declines = alerts(events, 'consecutive-decline');
    expect(declines.map((a) => [a.region, a.day, a.observedPercent])).toEqual([
      ['cn-east-1', '2026-03-13', '11'],
      [null, '2026-03-13', '11'],
    ]);
  });

  it('does not count a pause or a decline within the threshold as a spiral', () => {
    const flat = run(['100', '97', '97', '80'].map((p, i) => trade(`2026-03-1${i}T10:00:00Z`, p, '1')));
    expect(alerts(flat.events, 'consecutive-decline')).toEqual([]);
    const gentle = run(['100', '98', '96', '94'].map((p, i) => trade(`2026-03-1${i}T10:00:00Z`, p, '1')));
    expect(alerts(gentle.events, 'consecutive-decline')).toEqual([]);
    const gap = run(['100', '97', '94', '89'].map((p, i) => trade(`2026-03-1${i * 2}T10:00:00Z`, p, '1')));
    expect(alerts(gap.events, 'consecutive-decline')).toEqual([]);
  });

  it('judges again the chain a late trade completes', () => {
    // Day 11 arrives last; only then do 10 → 13 form three declines.
    const { events } = run(
      [
        ['2026-03-10', '100'],
        ['2026-03-12', '94'],
        ['2026-03-13', '89'],
        ['2026-03-11', '97'],
      ].map(([d, p]) => trade(`${d}T10:00:00Z`, p as string, '1')),
    );
    expect(alerts(events, 'consecutive-decline').map((a) => a.day)).toEqual(['2026-03-13', '2026-03-13']);
  });
});

describe('circuit breaker', () => {
  it('halts an instrument whose price moves more than the threshold within the window, once, for the cooling-off', () => {
    const { events, state } = run([
      trade('2026-03-10T10:00:00Z', '20', '1'),
      trade('2026-03-10T10:02:00Z', '21', '1'),
      // 22.5 against 20 is 12.5%.
      trade('2026-03-10T10:04:00Z', '22.5', '1'),
      // During the halt (matching stops; a trade in flight does not trip it again).
      trade('2026-03-10T10:05:00Z', '30', '1'),
    ]);
    const trips = events.flatMap((e) => (e.type === 'CircuitBreakerTripped' ? [e.data] : []));
    expect(trips).toEqual([
      expect.objectContaining({
        haltId: 'cb-t-' + String(n - 1),
        instrumentId: `${RC}.cn-east-1.2026-03-20`,
        price: '22.5',
        referencePrice: '20',
        movePercent: '12.5',
        thresholdPercent: '10',
        haltedAt: '2026-03-10T10:04:00.000Z',
        resumesAt: '2026-03-10T10:19:00.000Z',
      }),
    ]);
    expect(alerts(events, 'circuit-breaker')).toEqual([
      expect.objectContaining({
        haltId: trips[0]?.haltId,
        instrumentId: trips[0]?.instrumentId,
        observedPercent: '12.5',
      }),
    ]);
    // After the cooling-off the breaker starts afresh: 30 against nothing before it does not trip.
    const after = run([trade('2026-03-10T10:20:00Z', '30', '1')], state);
    expect(after.events.some((e) => e.type === 'CircuitBreakerTripped')).toBe(false);
  });

  it('ignores moves outside the window, within the threshold, or on another instrument', () => {
    const { events } = run([
      trade('2026-03-10T10:00:00Z', '20', '1'),
      // 5 minutes later: the first trade is out of the window.
      trade('2026-03-10T10:05:00Z', '25', '1'),
      trade('2026-03-10T10:06:00Z', '27', '1'),
      trade('2026-03-10T10:06:30Z', '40', '1', { instrumentId: `${RC}.cn-east-1.2026-03-21` }),
    ]);
    expect(events.some((e) => e.type === 'CircuitBreakerTripped')).toBe(false);
  });
});
