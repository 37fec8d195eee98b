// Proves matching over a real Kafka broker: guidance published on Kafka reaches the books through the guidance
// consumer; a floor raise taking effect cancels the resting orders below it (FLOOR_RAISED, recording the new
// version) and the relay publishes those cancellations as OUTSIDE_BAND with the version; while orders race a
// floor change delivered over Kafka, no trade executes below the floor in force, each recording the version the
// shared bandAt resolves at its instant; and a withdrawal ends the band (no floor, guidanceVersion null).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  CancelReason,
  GuidanceChangeKind,
  type OrderEvent,
  createEvent,
  decodeEvent,
  timestampFromDate,
  toKafkaRecord,
} from '@cx/contracts';
import { SqliteEventStore } from '@cx/event-store';
import { bandAt } from '@cx/guidance';
import { KafkaBus, Relay, type RelayMessage, type RelayRoute } from '@cx/messaging';
import { SimulatedClock } from '@cx/shared-kernel';
import { kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { instrumentId } from '../application/instruments';
import { MatchingEngine, type PlaceOrderInput } from '../application/matching.engine';
import { bookStream } from '../application/matching.events';
import { matchingConfig } from '../config';
import { GuidanceConsumer } from './guidance.consumer';
import { GUIDANCE_TOPIC, ORDERS_TOPIC, matchingRelayRoutes, matchingTopicSpecs } from './matching-integration';

const T0 = new Date('2026-03-10T08:00:00Z');
const H100 = 'nvidia-h100-sxm-80g';
const INSTR = instrumentId(H100, 'cn-east-1', '2026-03-11');
const META = { correlationId: 'c-kafka', causationId: 'c-kafka', actor: { service: 'test' } };

// Event data is read loosely on purpose: each assertion states the fields it expects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

describe('matching with guidance over Kafka', () => {
  const dir = tempDir('cx-matching-kafka-');
  afterAll(() => dir.remove());

  it('cancels resting orders below a raised floor, and never trades below the floor in force', async () => {
    const brokers = await kafkaBrokers();
    const run = randomUUID();
    // Fresh topics and groups: the shared broker keeps other runs' messages.
    const guidanceTopic = `${GUIDANCE_TOPIC}.test-${run}`;
    const fresh = (topic: string) => `${topic}.test-${run}`;
    const ordersTopic = fresh(ORDERS_TOPIC);
    const store = SqliteEventStore.open(join(dir.path, 'matching.sqlite'));
    const clock = new SimulatedClock(T0);
    const config = matchingConfig({ maxGuidanceLagMs: 24 * 3_600_000 });
    const errors: string[] = [];
    const engine = new MatchingEngine({ store, clock, config, onError: (m, e) => errors.push(`${m}: ${String(e)}`) });
    const bus = new KafkaBus({ brokers, clientId: `matching-test-${run}` });
    await bus.declareTopics([
      { name: guidanceTopic, partitions: 1 },
      ...matchingTopicSpecs.map((t) => ({ name: fresh(t.name), partitions: 2 })),
    ]);
    // Matching's own relay, publishing the book streams' events on this run's copies of its topics.
    const routes: RelayRoute[] = matchingRelayRoutes(config).map((r) => ({
      streamPrefixes: r.streamPrefixes,
      toMessage: (e) => {
        const out = r.toMessage(e);
        const retopic = (m: RelayMessage): RelayMessage => ({ ...m, topic: fresh(m.topic) });
        if (out === null) return null;
        return Array.isArray(out) ? out.map(retopic) : retopic(out as RelayMessage);
      },
    }));
    const relay = new Relay({ name: `matching-${run}`, store, bus, routes });
    const guidance = new GuidanceConsumer(engine);
    const published: OrderEvent[] = [];
    const consumers = [
      await bus.subscribe({
        group: `matching-${run}`,
        topics: [guidanceTopic],
        handler: (m) => guidance.onGuidance(m),
      }),
      await bus.subscribe({
        group: `orders-reader-${run}`,
        topics: [ordersTopic],
        handler: async (m) => {
          published.push(decodeEvent(ORDERS_TOPIC, m.value));
        },
      }),
    ];

    let n = 0;
    const envelope = (at: Date) => {
      n += 1;
      const id = randomUUID();
      return {
        eventId: id,
        aggregateId: H100,
        occurredAt: timestampFromDate(at),
        correlationId: id,
        causationId: id,
        source: { streamId: `guidance-${H100}`, streamRevision: BigInt(n), position: { commit: 1n, prepare: 1n } },
      };
    };
    const heartbeat = () =>
      bus.publish(guidanceTopic, [
        toKafkaRecord(
          GUIDANCE_TOPIC,
          createEvent(GUIDANCE_TOPIC, {
            envelope: envelope(clock.now()),
            event: {
              case: 'guidanceHeartbeat',
              value: { resourceClass: H100, completeUpTo: timestampFromDate(clock.now()) },
            },
          }),
        ),
      ]);
    // The versions as the audit would resolve them, for checking every trade against bandAt.
    const history: Loose[] = [];
    const publishBand = async (version: number, kind: GuidanceChangeKind, floor: string, from: Date) => {
      const versionId = `${H100}.v${version}`;
      await bus.publish(guidanceTopic, [
        toKafkaRecord(
          GUIDANCE_TOPIC,
          createEvent(GUIDANCE_TOPIC, {
            envelope: envelope(clock.now()),
            event: {
              case: 'guidanceChanged',
              value: {
                kind,
                band: {
                  bandId: H100,
                  versionId,
                  version: BigInt(version),
                  resourceClass: H100,
                  floorPerAcceleratorHour: { amount: floor, currency: 'CNY' },
                  effectiveFrom: timestampFromDate(from),
                  issuedBy: 'key-regulator',
                  reason: 'test',
                },
              },
            },
          }),
        ),
      ]);
      history.push({
        bandId: H100,
        versionId,
        version,
        kind: kind === GuidanceChangeKind.WITHDRAWN ? 'withdrawn' : version === 1 ? 'issued' : 'amended',
        resourceClass: H100,
        region: null,
        floor,
        effectiveFrom: from.toISOString(),
        effectiveTo: null,
      });
      return versionId;
    };
    const book = () => engine.handle(INSTR)!.book;
    const place = (clientOrderId: string, over: Partial<PlaceOrderInput>) =>
      engine.placeOrder(
        {
          account: 'beta-01',
          instrument: INSTR,
          clientOrderId,
          side: 'buy',
          price: '12',
          quantityLots: 1,
          timeInForce: 'GTC',
          ...over,
        },
        META,
      );

    try {
      await engine.start({ follow: false });
      await engine.openInstrument(INSTR);
      await relay.start();

      // v1: floor 10, in force at once.
      await heartbeat();
      const v1 = await publishBand(1, GuidanceChangeKind.ISSUED, '10', new Date(T0.getTime() - 60_000));
      await waitFor(() => book().band?.guidanceVersion === v1 || undefined, { what: 'v1 in force', timeoutMs: 30_000 });
      await waitFor(() => engine.isGuidanceFresh(H100) || undefined, { what: 'a fresh heartbeat', timeoutMs: 30_000 });

      const low = await place('bid-10.50', { price: '10.50', quantityLots: 2 });
      const lower = await place('bid-11', { price: '11', quantityLots: 3 });
      const kept = await place('bid-12', { price: '12', quantityLots: 1 });
      await place('ask-13', { account: 'acme-01', side: 'sell', price: '13', quantityLots: 5 });

      // v2: the floor rises to 11.50 a minute from now. Heard first; it takes force only at its effectiveFrom.
      const raisedAt = new Date(T0.getTime() + 60_000);
      const v2 = await publishBand(2, GuidanceChangeKind.AMENDED, '11.50', raisedAt);
      await waitFor(() => book().bandVersions.has(v2) || undefined, { what: 'v2 heard', timeoutMs: 30_000 });
      expect(book().band?.guidanceVersion).toBe(v1);
      expect(book().orders.has(low.order.orderId)).toBe(true);

      clock.set(raisedAt);
      await engine.tick();
      expect(book().band?.guidanceVersion).toBe(v2);
      const cancels: Loose[] = [];
      for await (const e of store.readStream(bookStream(INSTR))) {
        if (e.type === 'OrderCancelled') cancels.push(e.data);
      }
      expect(cancels.map((c) => [c.orderId, c.reason, c.guidanceVersion, c.cancelledAt]).sort()).toEqual(
        [
          [low.order.orderId, 'FLOOR_RAISED', v2, raisedAt.toISOString()],
          [lower.order.orderId, 'FLOOR_RAISED', v2, raisedAt.toISOString()],
        ].sort(),
      );
      expect(book().orders.has(kept.order.orderId)).toBe(true);
      // The relay publishes them as OUTSIDE_BAND, each with the version that put it outside.
      const outsideBand = () =>
        published.flatMap((e) =>
          e.event.case === 'orderCancelled' && e.event.value.reason === CancelReason.OUTSIDE_BAND
            ? [e.event.value]
            : [],
        );
      await waitFor(() => (outsideBand().length === 2 ? true : undefined), {
        what: 'the OUTSIDE_BAND cancellations on Kafka',
        timeoutMs: 30_000,
      });
      expect(
        outsideBand()
          .map((c) => [c.orderId, c.guidanceVersionId, c.cancelledQuantity])
          .sort(),
      ).toEqual(
        [
          [low.order.orderId, v2, '2'],
          [lower.order.orderId, v2, '3'],
        ].sort(),
      );

      // The race: orders on both sides around the floor keep coming while v3 (floor 12.50) travels over Kafka,
      // is heard, and then takes effect when the clock reaches its effectiveFrom in the middle of them.
      await heartbeat();
      const prices = ['11.50', '12.00', '12.40', '12.50', '12.80', '13.00'];
      const racing: Promise<unknown>[] = [];
      const v3At = new Date(raisedAt.getTime() + 30_000);
      let v3: Promise<string> | null = null;
      for (let i = 0; i < 120; i++) {
        const seller = i % 2 === 0;
        racing.push(
          place(`race-${i}`, {
            account: seller ? 'acme-01' : 'beta-01',
            side: seller ? 'sell' : 'buy',
            price: prices[(i * 7) % prices.length]!,
            quantityLots: 1 + (i % 3),
          }).catch((e: unknown) => e),
        );
        if (i === 40) v3 = publishBand(3, GuidanceChangeKind.AMENDED, '12.50', v3At);
        if (i === 60) {
          const id = await v3!;
          await waitFor(() => book().bandVersions.has(id) || undefined, { what: 'v3 heard', timeoutMs: 30_000 });
        }
        if (i === 80) clock.set(v3At);
        if (i % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(racing);
      expect(book().band?.guidanceVersion).toBe(await v3!);
      for (const o of book().orders.values()) expect(Number(o.price)).toBeGreaterThanOrEqual(12.5);

      // Withdrawn: from its effectiveFrom no band is in force, so there is no floor and decisions record null.
      const withdrawnAt = new Date(clock.now().getTime() + 60_000);
      const v4 = await publishBand(4, GuidanceChangeKind.WITHDRAWN, '12.50', withdrawnAt);
      await waitFor(() => book().bandVersions.has(v4) || undefined, { what: 'v4 heard', timeoutMs: 30_000 });
      clock.set(withdrawnAt);
      await heartbeat();
      await waitFor(() => (engine.isGuidanceFresh(H100) ? true : undefined), { what: 'fresh', timeoutMs: 30_000 });
      const cheap = await place('after-withdrawal', { price: '1.00' });
      expect(book().band).toBeNull();

      // The audit, from the stream alone: every trade records the band in force at its instant, as bandAt
      // resolves it from the history, and is at or above that band's floor; nothing rests below it either.
      let floor: string | null = null;
      let version: string | null = null;
      let trades = 0;
      for await (const e of store.readStream(bookStream(INSTR))) {
        const d = e.data as Loose;
        if (e.type === 'BandActivated') [floor, version] = [d.floor, d.guidanceVersion];
        if (e.type === 'BandLapsed') [floor, version] = [null, null];
        if (e.type === 'TradeExecuted') {
          trades += 1;
          expect(d.guidanceVersion).toBe(version);
          expect(d.guidanceVersion).toBe(bandAt(history, H100, 'cn-east-1', new Date(d.executedAt))?.versionId);
          expect(Number(d.price)).toBeGreaterThanOrEqual(Number(floor));
          expect(d.floor).toBe(floor);
        }
        if (e.type === 'OrderRested' && floor !== null) expect(Number(d.price)).toBeGreaterThanOrEqual(Number(floor));
      }
      expect(trades).toBeGreaterThan(0);
      expect(engine.order(cheap.order.orderId)).toMatchObject({ status: 'open' });
      const accepted: Loose[] = [];
      for await (const e of store.readStream(bookStream(INSTR))) {
        if (e.type === 'OrderAccepted' && (e.data as Loose).orderId === cheap.order.orderId) accepted.push(e.data);
      }
      expect(accepted).toEqual([expect.objectContaining({ floor: null, guidanceVersion: null })]);
      expect(errors).toEqual([]);
    } finally {
      await relay.stop();
      for (const c of consumers) await c.close();
      await bus.close();
      await engine.stop();
      await store.close();
    }
  });
});
