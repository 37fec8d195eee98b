// Proves guidance travels over a real Kafka broker: a band issued for a future instant is on
// cx.pricing.guidance.v1 (exact decimal prices, its version id) before it takes effect, and the heartbeats that
// follow it on the same key say guidance is complete up to a time at or after its issue.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type GuidanceEvent, decodeEvent, timestampDate } from '@cx/contracts';
import { SqliteEventStore } from '@cx/event-store';
import { KafkaBus, Relay, relaySourceOf } from '@cx/messaging';
import { SimulatedClock } from '@cx/shared-kernel';
import { kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { loadStarterCatalog } from '../application/catalog.handlers';
import { HeartbeatRecorder } from '../application/guidance-heartbeat.handlers';
import { GuidanceProjection } from '../application/guidance.projection';
import { issueBand } from '../application/price-band.handlers';
import { pricingGuidanceConfig } from '../config';
import { GUIDANCE_TOPIC, guidanceRelayRoute, guidanceTopicSpec } from './guidance-publication';

describe('guidance publication over Kafka', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('publishes a future band before it takes effect, then heartbeats covering it', async () => {
    const brokers = await kafkaBrokers();
    const store = SqliteEventStore.open(join(dir.path, 'pricing.sqlite'));
    const clock = new SimulatedClock(new Date('2026-03-10T08:00:00Z'));
    const deps = { store, clock, config: pricingGuidanceConfig({ minNoticeMs: 60_000, maxPropagationLagMs: 30_000 }) };
    const bus = new KafkaBus({ brokers, clientId: 'pricing-test' });
    await bus.declareTopics([guidanceTopicSpec]);
    const relay = new Relay({ name: `pricing-${randomUUID()}`, store, bus, routes: [guidanceRelayRoute] });
    const projection = new GuidanceProjection(store);
    // The topic outlives this test on a shared broker: keep only messages relayed from this run's store events.
    const mine = new Set<string>();
    const received: GuidanceEvent[] = [];
    const consumer = await bus.subscribe({
      group: `pricing-test-${randomUUID()}`,
      topics: [GUIDANCE_TOPIC],
      handler: async (m) => {
        if (mine.has(relaySourceOf(m.headers)?.eventId ?? '')) received.push(decodeEvent(GUIDANCE_TOPIC, m.value));
      },
    });
    try {
      await loadStarterCatalog(deps);
      await projection.ready();
      const meta = {
        correlationId: randomUUID(),
        causationId: randomUUID(),
        actor: { keyId: 'reg-1', role: 'regulator' },
      };
      const effectiveFrom = new Date('2026-03-10T09:00:00Z');
      const band = await issueBand(
        deps,
        {
          resourceClass: 'nvidia-h100-sxm-80g',
          currency: 'CNY',
          floorPerAcceleratorHour: '18.5',
          ceilingPerAcceleratorHour: '60.125',
          referencePrice: '25.00',
          effectiveFrom: effectiveFrom.toISOString(),
          reason: 'stop a low-price spiral',
          documentRef: 'NDRC-2026-041',
        },
        meta,
      );
      await projection.caughtUpTo(band.position);
      clock.advance(1_000);
      await new HeartbeatRecorder(deps, projection.model).record();
      for await (const e of store.readAll()) mine.add(e.id);
      await relay.start();

      const heartbeatFor = (rc: string) =>
        received.find((e) => e.event.case === 'guidanceHeartbeat' && e.event.value.resourceClass === rc);
      await waitFor(() => heartbeatFor('nvidia-h100-sxm-80g'), { timeoutMs: 30_000, what: 'the H100 heartbeat' });
      const changed = received.find((e) => e.event.case === 'guidanceChanged');
      if (changed?.event.case !== 'guidanceChanged') throw new Error('no GuidanceChanged received');
      const b = changed.event.value.band;
      expect(b?.versionId).toBe('nvidia-h100-sxm-80g.v1');
      expect(b?.floorPerAcceleratorHour).toEqual(expect.objectContaining({ amount: '18.50', currency: 'CNY' }));
      expect(b?.ceilingPerAcceleratorHour?.amount).toBe('60.125');
      // The regulator's document and role travel with the band, for consumers and auditors downstream.
      expect([b?.documentRef, b?.issuerRole]).toEqual(['NDRC-2026-041', 'regulator']);
      // Published before it takes effect: the business clock is still well before effectiveFrom.
      expect(timestampDate(b!.effectiveFrom!).getTime()).toBe(effectiveFrom.getTime());
      expect(clock.now().getTime()).toBeLessThan(effectiveFrom.getTime());
      // The heartbeat on the same key comes after the change and covers its issue time.
      const hb = heartbeatFor('nvidia-h100-sxm-80g');
      if (hb?.event.case !== 'guidanceHeartbeat') throw new Error('no heartbeat');
      expect(received.indexOf(hb)).toBeGreaterThan(received.indexOf(changed));
      expect(hb.event.value.latestVersionId).toBe('nvidia-h100-sxm-80g.v1');
      expect(timestampDate(hb.event.value.completeUpTo!).getTime()).toBeGreaterThanOrEqual(
        timestampDate(changed.envelope!.occurredAt!).getTime(),
      );
      // One message per resource class, each with its own event id.
      const heartbeats = received.filter((e) => e.event.case === 'guidanceHeartbeat');
      expect(new Set(heartbeats.map((e) => e.envelope?.eventId)).size).toBe(heartbeats.length);
    } finally {
      await relay.stop();
      await consumer.close();
      await bus.close();
      await projection.stop();
      await store.close();
    }
  });
});
