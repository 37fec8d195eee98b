// Proves Kafka ingestion over the real broker: N = scaled(100,000) CloudEvents (binary and structured mode) with
// 10% duplicates and 1% invalid ones are counted exactly once (the aggregate equals the sum of the distinct valid
// events), every invalid one is on the dead-letter topic with its reason code and field, and restarting the
// metering consumer mid-run (same group, same SQLite file) changes nothing. Every invalid one is also recorded as
// exactly one UsageRejected (for the account it reported for), however often the broker delivered it, and the
// relay publishes each as a UsageRejected on cx.metering.usage.v1.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule } from '@cx/identity';
import {
  type BusLogger,
  type DeliveredMessage,
  DLQ_HEADERS,
  KafkaBus,
  MessagingModule,
  type RelayMessage,
} from '@cx/messaging';
import { decodeEvent } from '@cx/contracts';
import { Dec, SimulatedClock } from '@cx/shared-kernel';
import { kafkaBrokers, scaled, tempDir, testHost, waitFor } from '@cx/testing';
import { USAGE_REJECTION_STREAM_PREFIX, type UsageRejectedData } from '../domain/usage/usage-rejection.events';
import {
  ALLOCATIONS_TOPIC,
  meteringTopicSpecs,
  USAGE_TOPIC,
  usageRejectionRelayRoute,
} from '../infrastructure/metering-integration';
import { MeteringProjection } from '../application/metering.projection';
import { MeteringModule } from '../metering.module';
import { MeteringService } from './metering.service';
import { REJECTION_HEADERS } from './usage-submissions.consumer';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const NOW = new Date('2026-03-10T12:00:00Z');
const ACCOUNTS = ['acct-k1', 'acct-k2', 'acct-k3'];

interface Running {
  app: INestApplicationContext;
  store: EventStore;
  bus: KafkaBus;
}

type Message = { key: string; value: Buffer; headers: Record<string, string> };

describe('usage over Kafka', () => {
  const dir = tempDir('cx-metering-kafka-');
  afterAll(() => dir.remove());

  it('counts N events with duplicates once, dead-letters the invalid ones, and survives a restart', async () => {
    const brokers = await kafkaBrokers();
    const suffix = randomUUID().slice(0, 8);
    const topic = `cx.test.metering-submitted-${suffix}.v1`;
    const group = `metering-submitted-${suffix}`;
    const file = join(dir.path, 'cx.sqlite');
    const clock = new SimulatedClock(NOW);
    const specs = [{ name: topic, partitions: 4 }, { name: ALLOCATIONS_TOPIC, partitions: 8 }, ...meteringTopicSpecs];

    const start = async (): Promise<Running> => {
      const store = await openEventStore(`sqlite:${file}`);
      const bus = new KafkaBus({ brokers, clientId: `metering-test-${suffix}`, logger: quiet });
      await bus.declareTopics(specs);
      const app = await NestFactory.createApplicationContext(
        testHost(store, clock, [
          MessagingModule.forBus(bus),
          IdentityModule,
          MeteringModule.forRoot({ submissionsTopic: topic, submissionsGroup: group }),
        ]),
        { logger: false },
      );
      await app.init();
      return { app, store, bus };
    };
    const stop = async (r: Running): Promise<void> => {
      await r.app.close();
      await r.bus.close();
      await r.store.close();
    };

    // The workload: distinct valid events, 10% repeats of earlier ones (same content), 1% invalid.
    const total = scaled(100_000, 2_000);
    const duplicates = Math.round(total * 0.1);
    const invalid = Math.round(total * 0.01);
    const distinct = total - duplicates - invalid;
    const expected = new Map<string, Dec>(ACCOUNTS.map((a) => [a, new Dec(0)]));
    const valid: Message[] = [];
    const encode = (i: number, e: Record<string, unknown>, data: unknown): Message => {
      const key = String(e.subject ?? `k-${i}`);
      if (i % 2 === 0) {
        // Structured mode: the whole event as JSON.
        return {
          key,
          value: Buffer.from(JSON.stringify({ ...e, data })),
          headers: { 'content-type': 'application/cloudevents+json' },
        };
      }
      // Binary mode: attributes as ce_* headers, data as the value.
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const [k, v] of Object.entries(e)) if (v !== undefined) headers[`ce_${k}`] = String(v);
      return { key, value: Buffer.from(JSON.stringify(data)), headers };
    };
    for (let i = 0; i < distinct; i++) {
      const account = ACCOUNTS[i % ACCOUNTS.length] as string;
      const quantity = `${i % 1000}.${i % 7}`;
      expected.set(account, (expected.get(account) as Dec).add(quantity));
      valid.push(
        encode(
          i,
          {
            specversion: '1.0',
            id: `u-${i}`,
            source: '//agent.example/k',
            type: 'com.cx.usage.v1',
            subject: account,
            time: new Date(NOW.getTime() - 3_600_000 + (i % 3_600) * 1_000).toISOString(),
            cxaccount: account,
          },
          { meter: 'tokens_in', quantity, offerId: 'offer-1' },
        ),
      );
    }
    const bad: Message[] = [];
    const badKinds: [string, string][] = [];
    for (let i = 0; i < invalid; i++) {
      const e = {
        specversion: '1.0',
        id: `bad-${i}`,
        source: '//agent.example/k',
        type: 'com.cx.usage.v1',
        subject: 'acct-k1',
        time: '2026-03-10T11:00:00Z',
        cxaccount: 'acct-k1',
      };
      switch (i % 5) {
        case 0:
          bad.push(encode(i, e, { meter: 'tokens_in', quantity: '-1', offerId: 'offer-1' }));
          badKinds.push(['METERING.NEGATIVE_QUANTITY', 'data.quantity']);
          break;
        case 1:
          bad.push(encode(i, e, { meter: 'nope', quantity: '1', offerId: 'offer-1' }));
          badKinds.push(['METERING.UNKNOWN_METER', 'data.meter']);
          break;
        case 2:
          bad.push(
            encode(i, { ...e, cxaccount: undefined }, { meter: 'tokens_in', quantity: '1', offerId: 'offer-1' }),
          );
          badKinds.push(['METERING.MISSING_FIELD', 'cxaccount']);
          break;
        case 3:
          // Another tenant's account.
          bad.push(
            encode(i, { ...e, cxaccount: 'acct-k2' }, { meter: 'tokens_in', quantity: '1', offerId: 'offer-1' }),
          );
          badKinds.push(['METERING.SUBJECT_NOT_FOUND', 'subject']);
          break;
        default:
          bad.push({
            key: `bad-${i}`,
            value: Buffer.from('{"id": '),
            headers: { 'content-type': 'application/cloudevents+json' },
          });
          badKinds.push(['METERING.MALFORMED_JSON', '']);
      }
    }
    // Duplicates are spread over the run, some long after their original (so after the restart), some right
    // behind it (so in the same batch).
    const all: Message[] = [];
    let d = 0;
    let b = 0;
    for (let i = 0; i < distinct; i++) {
      all.push(valid[i] as Message);
      if (d < duplicates && i % 9 === 0) {
        all.push(valid[(i * 7919) % (i + 1)] as Message);
        d++;
      }
      if (b < invalid && i % 97 === 0) all.push(bad[b++] as Message);
    }
    while (d < duplicates) all.push(valid[d++ % distinct] as Message);
    while (b < invalid) all.push(bad[b++] as Message);
    expect(all.length).toBe(total);

    const producer = new KafkaBus({ brokers, clientId: `metering-test-producer-${suffix}`, logger: quiet });
    await producer.declareTopics([{ name: topic, partitions: 4 }]);
    const produce = async (messages: Message[]) => {
      for (let i = 0; i < messages.length; i += 1_000) await producer.publish(topic, messages.slice(i, i + 1_000));
    };

    const dead: DeliveredMessage[] = [];
    const dlqReader = await producer.subscribe({
      group: `metering-dlq-reader-${suffix}`,
      topics: [`${topic}.dlq`],
      handler: async (m) => void dead.push(m),
    });

    let r = await start();
    try {
      const half = Math.floor(total / 2);
      await produce(all.slice(0, half));
      const metering = () => r.app.get(MeteringService);
      const usageCount = () => r.app.get(MeteringProjection).model.usageEvents;
      // Restart the consumer while it is working through the first half.
      await waitFor(() => usageCount() >= distinct / 5, { timeoutMs: 90_000, what: 'a fifth ingested' });
      await stop(r);
      r = await start();
      await produce(all.slice(half));
      await waitFor(() => usageCount() === distinct, { timeoutMs: 110_000, what: `${distinct} distinct events` });
      const distinctDead = () =>
        new Set(
          dead.map((m) => `${m.headers[DLQ_HEADERS.originalPartition]}/${m.headers[DLQ_HEADERS.originalOffset]}`),
        );
      await waitFor(() => distinctDead().size >= invalid, { timeoutMs: 60_000, what: `${invalid} dead letters` });

      // Exactly once: each account's aggregate is the sum of its distinct valid events.
      for (const account of ACCOUNTS) {
        const view = metering().aggregate(
          {
            subject: account,
            meter: 'tokens_in',
            from: '2026-03-10T00:00:00Z',
            to: '2026-03-11T00:00:00Z',
            window: 'day',
          },
          { keyId: 'test', role: 'admin', accounts: [] },
        );
        const sum = view.windows.reduce((s, w) => s.add(w.value), new Dec(0));
        expect({ account, sum: sum.toFixed() }).toEqual({ account, sum: (expected.get(account) as Dec).toFixed() });
      }
      // Every invalid one, and nothing else, is on the dead-letter topic with its reason.
      expect(distinctDead().size).toBe(invalid);
      const byId = new Map<string, DeliveredMessage>();
      for (const m of dead) {
        expect(m.headers[REJECTION_HEADERS.code]).toMatch(/^METERING\./);
        const id =
          m.headers.ce_id ??
          /"id":\s*"([^"]+)"/.exec(m.value.toString())?.[1] ??
          `raw-${m.headers[DLQ_HEADERS.originalOffset]}`;
        byId.set(id, m);
      }
      for (let i = 0; i < invalid; i++) {
        if (i % 5 === 4) continue; // malformed JSON has no readable id
        const m = byId.get(`bad-${i}`);
        expect({ i, code: m?.headers[REJECTION_HEADERS.code], field: m?.headers[REJECTION_HEADERS.field] }).toEqual({
          i,
          code: badKinds[i]?.[0],
          field: badKinds[i]?.[1],
        });
      }
      const malformed = dead.filter((m) => m.headers[REJECTION_HEADERS.code] === 'METERING.MALFORMED_JSON');
      expect(new Set(malformed.map((m) => m.key)).size).toBe(
        badKinds.filter(([c]) => c === 'METERING.MALFORMED_JSON').length,
      );

      // Each invalid record is recorded as rejected exactly once, with its reason and the account it reported for,
      // although the restart redelivered some (they may be on the dead-letter topic twice).
      const recorded = [];
      for await (const e of r.store.readAll({
        fromPosition: 'start',
        filter: { streamNamePrefixes: [USAGE_REJECTION_STREAM_PREFIX] },
      })) {
        recorded.push(e);
      }
      expect(recorded).toHaveLength(invalid);
      const rejections = new Map<string, UsageRejectedData>();
      for (const e of recorded) {
        expect(e.type).toBe('UsageRejected');
        const d = e.data as UsageRejectedData;
        rejections.set(d.id ?? `at ${d.position}`, d);
      }
      expect(rejections.size).toBe(invalid);
      for (let i = 0; i < invalid; i++) {
        if (i % 5 === 4) continue;
        const d = rejections.get(`bad-${i}`);
        const account = i % 5 === 2 ? null : i % 5 === 3 ? 'acct-k2' : 'acct-k1';
        expect({ i, code: d?.code, field: d?.field, account: d?.account, source: d?.source }).toEqual({
          i,
          code: badKinds[i]?.[0],
          field: badKinds[i]?.[1],
          account,
          source: '//agent.example/k',
        });
      }
      // What the relay publishes for one: the contract's UsageRejected, keyed by the account.
      const one = recorded.find((e) => (e.data as UsageRejectedData).id === 'bad-0');
      const out = one ? usageRejectionRelayRoute.toMessage(one) : null;
      const message = out === null || Array.isArray(out) ? null : (out as RelayMessage).message;
      expect(message?.key).toBe('acct-k1');
      const wire = message ? decodeEvent(USAGE_TOPIC, message.value) : null;
      expect(wire?.event.case).toBe('usageRejected');
      expect(wire?.event.value).toMatchObject({
        ref: { source: '//agent.example/k', id: 'bad-0' },
        accountId: 'acct-k1',
        code: 'METERING.NEGATIVE_QUANTITY',
        field: 'data.quantity',
        subject: 'acct-k1',
      });
      process.stderr.write(
        `metering kafka test: ${total} records (${distinct} distinct valid, ${duplicates} duplicates, ${invalid} invalid), ${dead.length} dead letters\n`,
      );
    } finally {
      await stop(r);
      await dlqReader.close();
      await producer.close();
    }
  });
});
