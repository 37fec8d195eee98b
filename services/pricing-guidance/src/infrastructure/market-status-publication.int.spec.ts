// Proves halts travel over a real Kafka broker: a circuit-breaker halt decided from two trades, and a regulator's
// halt and resume, reach a subscriber of cx.pricing.market-status.v1 keyed by halt id, with the scope matching
// needs to stop the instruments.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { decodeEvent, type MarketStatusEvent, timestampDate } from '@cx/contracts';
import { SqliteEventStore } from '@cx/event-store';
import { KafkaBus, Relay, relaySourceOf } from '@cx/messaging';
import { SimulatedClock } from '@cx/shared-kernel';
import { kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { haltMarket, resumeMarket } from '../application/market-halt.handlers';
import { TradeIndexer } from '../application/trade-indexer';
import { pricingGuidanceConfig } from '../config';
import { MARKET_STATUS_TOPIC, marketStatusTopicSpec } from './guidance-publication';
import { marketStatusRelayRoute } from './surveillance-publication';

describe('market status over Kafka', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('publishes a breaker halt and a manual halt and resume to a subscriber', async () => {
    const brokers = await kafkaBrokers();
    const store = SqliteEventStore.open(join(dir.path, 'pricing.sqlite'));
    const clock = new SimulatedClock(new Date('2026-03-10T08:00:00Z'));
    const deps = { store, clock, config: pricingGuidanceConfig({ surveillance: { breakerMovePercent: '5' } }) };
    const bus = new KafkaBus({ brokers, clientId: 'pricing-status-test' });
    await bus.declareTopics([marketStatusTopicSpec]);
    const relay = new Relay({ name: `pricing-status-${randomUUID()}`, store, bus, routes: [marketStatusRelayRoute] });
    // The topic outlives this test on a shared broker: keep only messages relayed from this run's store.
    const mine = new Set<string>();
    const received: { key: string; event: MarketStatusEvent }[] = [];
    const consumer = await bus.subscribe({
      group: `pricing-status-test-${randomUUID()}`,
      topics: [MARKET_STATUS_TOPIC],
      handler: async (m) => {
        if (mine.has(relaySourceOf(m.headers)?.eventId ?? '')) {
          received.push({ key: m.key, event: decodeEvent(MARKET_STATUS_TOPIC, m.value) });
        }
      },
    });
    try {
      const run = randomUUID().slice(0, 8);
      const instrument = `nvidia-h100-sxm-80g.cn-east-1.2026-03-20`;
      const indexer = new TradeIndexer(deps);
      const trade = (id: string, price: string, at: string, revision: bigint) =>
        indexer.onTrade(
          {
            tradeId: id,
            instrumentId: instrument,
            tradeResourceClass: 'nvidia-h100-sxm-80g',
            region: 'cn-east-1',
            currency: 'CNY',
            price,
            quantity: '1',
            floor: null,
            guidanceVersion: null,
            executedAt: new Date(at),
          },
          { stream: `book-${instrument}`, revision, eventId: `evt-${id}` },
          { correlationId: id, causationId: id, actor: { service: 'matching-test' } },
        );
      await trade(`${run}-1`, '20', '2026-03-10T08:00:00Z', 1n);
      await trade(`${run}-2`, '21.5', '2026-03-10T08:01:00Z', 2n);
      const manual = await haltMarket(
        deps,
        { scope: { resourceClass: 'nvidia-h100-sxm-80g' }, reason: 'outage' },
        { resourceClassExists: () => true, regionExists: () => true },
        { correlationId: run, causationId: run, actor: { keyId: 'reg-1', role: 'regulator' } },
      );
      await resumeMarket(
        deps,
        { haltId: manual.halt.haltId, reason: 'restored', automatic: false },
        { correlationId: run, causationId: run, actor: { keyId: 'reg-1', role: 'regulator' } },
      );
      for await (const e of store.readAll()) mine.add(e.id);
      await relay.start();

      await waitFor(() => received.length >= 3, { timeoutMs: 30_000, what: 'three market-status messages' });
      const breaker = received.find((m) => m.event.event.case === 'marketHalted' && m.key === `cb-${run}-2`);
      if (breaker?.event.event.case !== 'marketHalted') throw new Error('no breaker halt received');
      expect(breaker.event.event.value).toEqual(
        expect.objectContaining({ haltId: `cb-${run}-2`, haltedBy: 'surveillance:circuit-breaker' }),
      );
      expect(breaker.event.event.value.scope?.instrumentId).toBe(instrument);
      expect(timestampDate(breaker.event.event.value.resumesAt!).toISOString()).toBe('2026-03-10T08:16:00.000Z');
      const ofManual = received.filter((m) => m.key === manual.halt.haltId).map((m) => m.event.event.case);
      // One key, one partition: the resume never overtakes its halt.
      expect(ofManual).toEqual(['marketHalted', 'marketResumed']);
    } finally {
      await relay.stop();
      await consumer.close();
      await bus.close();
      await store.close();
    }
  });
});
