// Proves the surveillance relay routes map recorded events onto the contracts exactly: index values on
// cx.pricing.index.v1 and alerts on cx.pricing.alerts.v1 keyed by resource class, halts and resumes on
// cx.pricing.market-status.v1 keyed by halt id, decimals byte for byte, absent optionals absent; other events none.
import { AlertRule, decodeEvent, EVENT_TYPE_HEADER, IndexWindow } from '@cx/contracts';
import type { RecordedEvent } from '@cx/event-store';
import type { RelayMessage } from '@cx/messaging';
import type { Alert, IndexValue } from '../domain/surveillance/reference-index.events';
import type { MarketHalted, MarketResumed } from '../domain/market-halt/market-halt.events';
import { referenceIndexRelayRoute, marketStatusRelayRoute } from './surveillance-publication';

const recorded = (type: string, data: unknown, streamId: string): RecordedEvent => ({
  id: '0195b0c2-7f3a-7c3e-9a51-3f1d2b8e4c11',
  streamId,
  revision: 7n,
  type,
  data,
  metadata: { correlationId: 'corr-1', causationId: 'evt-trade-1', actor: { service: 'pricing-guidance' } },
  created: new Date('2026-03-10T10:00:01Z'),
  position: { commit: 42n, prepare: 42n },
});

const one = (m: RelayMessage | readonly RelayMessage[] | null): RelayMessage => {
  if (m === null || Array.isArray(m)) throw new Error('expected one message');
  return m as RelayMessage;
};

const value: IndexValue = {
  indexId: 'nvidia-h100-sxm-80g.national.CNY.daily:2026-03-10',
  resourceClass: 'nvidia-h100-sxm-80g',
  region: null,
  currency: 'CNY',
  window: 'daily',
  windowStart: '2026-03-10T00:00:00.000Z',
  windowEnd: '2026-03-11T00:00:00.000Z',
  version: 3,
  vwap: '21.05',
  notional: '368.3325',
  volume: '17.5',
  tradeCount: 3,
  revision: true,
  tradeId: 't-3',
  publishedAt: '2026-03-10T03:00:00.000Z',
};

const alert: Alert = {
  alertId: 'near-floor.nvidia-h100-sxm-80g.cn-east-1.CNY.2026-03-10',
  rule: 'near-floor',
  resourceClass: 'nvidia-h100-sxm-80g',
  region: 'cn-east-1',
  instrumentId: null,
  currency: 'CNY',
  day: '2026-03-10',
  observedPercent: '2.95',
  thresholdPercent: '3',
  price: '20.59',
  floor: '20',
  message: 'near',
  raisedAt: '2026-03-10T10:20:00.000Z',
  tradeId: 't-3',
  haltId: null,
};

describe('surveillance publication', () => {
  it('publishes an index value keyed by resource class', () => {
    const m = one(referenceIndexRelayRoute.toMessage(recorded('ReferenceIndexPublished', value, 'reference-index-x')));
    expect(m.topic).toBe('cx.pricing.index.v1');
    expect(m.message.key).toBe('nvidia-h100-sxm-80g');
    expect(m.message.headers?.[EVENT_TYPE_HEADER]).toBe('cx.pricing.v1.ReferenceIndexPublished');
    const e = decodeEvent('cx.pricing.index.v1', m.message.value as Uint8Array);
    if (e.event.case !== 'referenceIndexPublished') throw new Error(String(e.event.case));
    expect(e.event.value).toEqual(
      expect.objectContaining({
        indexId: value.indexId,
        window: IndexWindow.DAILY,
        version: 3n,
        vwap: expect.objectContaining({ amount: '21.05', currency: 'CNY' }),
        notional: expect.objectContaining({ amount: '368.3325' }),
        volume: '17.5',
        tradeCount: 3n,
        revision: true,
      }),
    );
    expect(e.event.value.region).toBeUndefined();
    expect(e.envelope?.source?.streamRevision).toBe(7n);
  });

  it('publishes an alert keyed by resource class', () => {
    const m = one(referenceIndexRelayRoute.toMessage(recorded('SurveillanceAlertRaised', alert, 'reference-index-x')));
    expect([m.topic, m.message.key]).toEqual(['cx.pricing.alerts.v1', 'nvidia-h100-sxm-80g']);
    const e = decodeEvent('cx.pricing.alerts.v1', m.message.value as Uint8Array);
    if (e.event.case !== 'alertRaised') throw new Error(String(e.event.case));
    expect(e.event.value).toEqual(
      expect.objectContaining({
        rule: AlertRule.NEAR_FLOOR,
        region: 'cn-east-1',
        observedPercent: '2.95',
        price: expect.objectContaining({ amount: '20.59' }),
        floor: expect.objectContaining({ amount: '20' }),
      }),
    );
    expect(e.event.value.instrumentId).toBeUndefined();
    expect(e.event.value.haltId).toBeUndefined();
  });

  it('publishes nothing for the trade itself or a refused trade', () => {
    expect(referenceIndexRelayRoute.toMessage(recorded('TradeIndexed', {}, 'reference-index-x'))).toBeNull();
    expect(referenceIndexRelayRoute.toMessage(recorded('TradeNotIndexed', {}, 'reference-index-x'))).toBeNull();
    expect(referenceIndexRelayRoute.toMessage(recorded('CircuitBreakerTripped', {}, 'reference-index-x'))).toBeNull();
  });

  it('publishes a halt and its resume keyed by halt id', () => {
    const scope = { resourceClass: null, region: null, instrumentId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-20' };
    const halted: MarketHalted['data'] = {
      haltId: 'cb-t-9',
      scope,
      reason: 'moved',
      origin: 'circuit-breaker',
      haltedBy: { keyId: null, role: null, rule: 'circuit-breaker' },
      haltedAt: '2026-03-10T10:04:00.000Z',
      resumesAt: '2026-03-10T10:19:00.000Z',
    };
    const h = one(marketStatusRelayRoute.toMessage(recorded('MarketHalted', halted, 'market-halt-cb-t-9')));
    expect([h.topic, h.message.key]).toEqual(['cx.pricing.market-status.v1', 'cb-t-9']);
    const he = decodeEvent('cx.pricing.market-status.v1', h.message.value as Uint8Array);
    if (he.event.case !== 'marketHalted') throw new Error(String(he.event.case));
    expect(he.event.value.scope).toEqual(expect.objectContaining({ instrumentId: scope.instrumentId }));
    expect(he.event.value.scope?.resourceClass).toBeUndefined();
    expect(he.event.value.haltedBy).toBe('surveillance:circuit-breaker');
    const resumed: MarketResumed['data'] = {
      haltId: 'cb-t-9',
      scope,
      reason: 'cooling-off period ended',
      automatic: true,
      resumedBy: { keyId: null, role: null, rule: 'cooling-off' },
      resumedAt: '2026-03-10T10:19:00.000Z',
    };
    const r = one(marketStatusRelayRoute.toMessage(recorded('MarketResumed', resumed, 'market-halt-cb-t-9')));
    const re = decodeEvent('cx.pricing.market-status.v1', r.message.value as Uint8Array);
    expect(re.event.case === 'marketResumed' && re.event.value.resumedBy).toBe('surveillance:cooling-off');
    expect(re.envelope?.occurredAt && new Date(Number(re.envelope.occurredAt.seconds) * 1000).toISOString()).toBe(
      '2026-03-10T10:19:00.000Z',
    );
  });
});
