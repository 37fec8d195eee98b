// Proves observability end to end: a request's x-correlation-id is answered back, recorded on the events it
// appends, carried by the relay into message headers (the in-process bus, and a real Kafka broker), opened again
// around the consumer that hears it (its appends name the request's event as their cause, its log lines carry
// both ids); /metrics shows orders, trades, floor refusals, consumer lag per group, relay lag and dead letters with
// sane values after real traffic; /health covers the store and the broker, and answers 503 when the broker is down.
import 'reflect-metadata';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuthGuard } from '@cx/auth';
import { EVENT_STORE, type EventStore, openEventStore, type RecordedEvent } from '@cx/event-store';
import { IDENTITY_TOPIC, IdentityModule, IdentityService, identityRelayRouteTo, identityTopicSpec } from '@cx/identity';
import {
  type DeliveredMessage,
  KafkaBus,
  MESSAGE_BUS,
  type MessageBus,
  MessagingModule,
  Relay,
  relaySourceOf,
} from '@cx/messaging';
import { buildConfig, configureHttpApp, CoreModule, createLogger } from '@cx/platform';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from './testing/embedded-app';

const T0 = new Date('2026-03-10T10:00:00Z');
const INSTR = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-11';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (enough of the format for our own series). */
const parseMetrics = (text: string): Sample[] =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not a sample line: ${l}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[k as string] = v as string;
      }
      return { name: m[1] as string, labels, value: Number(m[3]) };
    });

const scrape = async (url: string): Promise<Sample[]> => {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
};
const series = (samples: Sample[], name: string): Sample[] => samples.filter((s) => s.name === name);
const total = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  series(samples, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

const allEvents = async (store: EventStore): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
};

/** pino lines written to memory, parsed. */
const memoryLog = () => {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', 'obs-test', stream) };
};

const post = (url: string, path: string, key: string, body: unknown, correlationId?: string) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(correlationId === undefined ? {} : { 'x-correlation-id': correlationId }),
    },
    body: JSON.stringify(body),
  });

describe('observability in the embedded exchange', () => {
  const dir = tempDir('cx-obs-');
  const clock = new SimulatedClock(T0);
  let r: EmbeddedApp;
  let admin: string;
  let seller: string;
  let buyer: string;
  let regulator: string;
  let n = 0;
  const order = (
    key: string,
    account: string,
    side: 'buy' | 'sell',
    price: string,
    instrument = INSTR,
    corr?: string,
  ) =>
    post(
      r.url,
      '/v1/orders',
      key,
      { account, side, instrument, price, quantityLots: 1, timeInForce: 'GTC', clientOrderId: `o-${(n += 1)}` },
      corr,
    );

  beforeAll(async () => {
    // A minute's notice for guidance, so the floor can take effect without the clock jumping past matching's view.
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), clock, {
      guidance: { minNoticeMs: 60_000, maxPropagationLagMs: 60_000 },
    });
    admin = r.adminKey as string;
    for (const [accountId, kind] of [
      ['prov-1', 'provider'],
      ['buy-1', 'buyer'],
    ]) {
      expect(
        (await httpCall(r.url, 'POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status,
      ).toBe(201);
    }
    const key = async (role: string, accounts: string[]) =>
      (await httpCall(r.url, 'POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    seller = await key('trader', ['prov-1']);
    buyer = await key('trader', ['buy-1']);
    regulator = await key('regulator', []);
    const deposit = { transferId: 'd1', account: 'buy-1', amount: '5000.00', currency: 'CNY' };
    expect((await httpCall(r.url, 'POST', '/v1/ledger/deposits', admin, deposit)).status).toBe(201);
  });
  afterAll(async () => {
    await r.app.close();
    dir.remove();
  });

  it('answers the caller’s correlation id, or one of its own, and records it on the events of the request', async () => {
    const given = await post(
      r.url,
      '/v1/accounts',
      admin,
      { accountId: 'corr-1', legalName: 'C', kind: 'buyer' },
      'obs-corr-1',
    );
    expect(given.status).toBe(201);
    expect(given.headers.get('x-correlation-id')).toBe('obs-corr-1');
    const made = await post(r.url, '/v1/accounts', admin, { accountId: 'corr-2', legalName: 'C', kind: 'buyer' });
    const madeId = made.headers.get('x-correlation-id') as string;
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);
    // An unusable id (not a safe id) is replaced, never echoed.
    const bad = await post(
      r.url,
      '/v1/accounts',
      admin,
      { accountId: 'corr-3', legalName: 'C', kind: 'buyer' },
      '<script>',
    );
    expect(bad.headers.get('x-correlation-id')).not.toBe('<script>');

    const events = await allEvents(r.store);
    const of = (id: string) => events.filter((e) => e.metadata.correlationId === id);
    expect(of('obs-corr-1').map((e) => e.streamId)).toContain('account-corr-1');
    expect(of(madeId).map((e) => e.streamId)).toContain('account-corr-2');
    // A request is its own cause.
    expect(of('obs-corr-1').every((e) => e.metadata.causationId === 'obs-corr-1')).toBe(true);
  });

  it('opens the request’s correlation around a consumer of the relayed event: its log lines carry it', async () => {
    const { lines, logger } = memoryLog();
    const bus = r.app.get<MessageBus>(MESSAGE_BUS);
    const heard: DeliveredMessage[] = [];
    const consumer = await bus.subscribe({
      group: 'obs-log-listener',
      topics: [IDENTITY_TOPIC],
      handler: async (m) => {
        heard.push(m);
        logger.info({ offset: m.offset }, 'identity event heard');
      },
    });
    try {
      const res = await post(
        r.url,
        '/v1/accounts',
        admin,
        { accountId: 'corr-4', legalName: 'C', kind: 'buyer' },
        'obs-corr-4',
      );
      expect(res.status).toBe(201);
      const message = await waitFor(() => heard.find((m) => relaySourceOf(m.headers)?.correlationId === 'obs-corr-4'), {
        what: 'the account event on the in-process bus',
      });
      const source = relaySourceOf(message.headers);
      expect(source).toMatchObject({ stream: 'account-corr-4', correlationId: 'obs-corr-4' });
      const line = lines.find((l) => l.offset === message.offset);
      expect(line).toMatchObject({
        correlationId: 'obs-corr-4',
        causationId: source?.eventId,
        msg: 'identity event heard',
      });
    } finally {
      await consumer.close();
    }
  });

  it('carries a trade’s correlation through matching into what consumers append, caused by the request’s events', async () => {
    expect((await order(seller, 'prov-1', 'sell', '20.00')).status).toBe(201);
    const bid = await order(buyer, 'buy-1', 'buy', '20.00', INSTR, 'obs-trade-1');
    expect(bid.status).toBe(201);
    expect(((await bid.json()) as { status: string }).status).toBe('filled');
    const consequence = await waitFor(
      async () => {
        const events = (await allEvents(r.store)).filter((e) => e.metadata.correlationId === 'obs-trade-1');
        const own = new Set(events.filter((e) => e.metadata.causationId === 'obs-trade-1').map((e) => e.id));
        const caused = events.filter((e) => own.has(e.metadata.causationId as string));
        return own.size > 0 && caused.length > 0 ? { own, caused } : null;
      },
      { timeoutMs: 30_000, what: 'an event appended by a consumer of the trade' },
    );
    expect(consequence.caused.length).toBeGreaterThan(0);
  });

  it('shows orders, trades, floor refusals, consumer and relay lag, and dead letters on /metrics', async () => {
    // A floor in force above an ask: the new order is refused by the floor.
    const band = await httpCall(r.url, 'POST', '/v1/guidance', regulator, {
      resourceClass: 'nvidia-h100-sxm-80g',
      floorPerAcceleratorHour: '40',
      effectiveFrom: '2026-03-10T10:02:00.000Z',
      reason: 'spiral stop',
      documentRef: 'NDRC-2026-101',
    });
    expect(band.status).toBe(201);
    clock.set(new Date('2026-03-10T10:03:00Z'));
    let lastReply: unknown = null;
    const belowFloor = async (): Promise<boolean> => {
      const res = await order(seller, 'prov-1', 'sell', '10.00');
      lastReply = { status: res.status, body: await res.json() };
      return (lastReply as { body: { code?: string } }).body.code === 'MATCHING.BELOW_FLOOR';
    };
    await waitFor(belowFloor, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'matching to refuse an ask below the floor',
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}; last reply ${JSON.stringify(lastReply)}`);
    });

    // A poison message on a topic of its own: the group gives up on it and dead-letters it.
    const bus = r.app.get<MessageBus>(MESSAGE_BUS);
    await bus.declareTopics([{ name: 'obs.poison.v1', partitions: 1 }]);
    const poisoned = await bus.subscribe({
      group: 'obs-poison',
      topics: ['obs.poison.v1'],
      maxAttempts: 1,
      handler: async () => {
        throw new TypeError('cannot read this');
      },
    });
    try {
      await bus.publish('obs.poison.v1', [{ key: 'k', value: Buffer.from('not json') }]);
      const after = await waitFor(
        async () => {
          const s = await scrape(r.url);
          return total(s, 'cx_messages_dead_lettered_total', { group: 'obs-poison', topic: 'obs.poison.v1' }) === 1
            ? s
            : null;
        },
        { what: 'the dead letter on /metrics' },
      );
      expect(total(after, 'cx_orders_accepted_total')).toBeGreaterThanOrEqual(2);
      expect(total(after, 'cx_trades_total')).toBeGreaterThanOrEqual(1);
      expect(total(after, 'cx_rejected_by_floor_total', { what: 'order' })).toBeGreaterThanOrEqual(1);
      expect(total(after, 'cx_orders_rejected_total', { code: 'MATCHING.BELOW_FLOOR' })).toBeGreaterThanOrEqual(1);
      expect(total(after, 'cx_events_appended_total', { type: 'TradeExecuted' })).toBe(total(after, 'cx_trades_total'));
      expect(total(after, 'cx_http_requests_total', { method: 'POST', route: '/v1/orders' })).toBeGreaterThanOrEqual(3);

      // Every consumer group of the exchange reports its lag; once traffic stops, every one of them catches up, and
      // so does the relay.
      const groups = new Set(series(after, 'cx_consumer_lag_messages').map((s) => s.labels.group));
      expect(groups.size).toBeGreaterThanOrEqual(4);
      for (const s of series(after, 'cx_consumer_lag_messages')) {
        expect(Number.isInteger(s.value) && s.value >= 0).toBe(true);
      }
      expect(series(after, 'cx_relay_lag_events').map((s) => s.labels.relay)).toEqual(['embedded']);
      await waitFor(
        async () => {
          const s = await scrape(r.url);
          return (
            total(s, 'cx_consumer_lag_messages') === 0 && total(s, 'cx_relay_lag_events', { relay: 'embedded' }) === 0
          );
        },
        { timeoutMs: 30_000, what: 'every consumer and the relay to catch up' },
      );
    } finally {
      await poisoned.close();
    }
  });

  it('answers /health with the store and the in-process bus', async () => {
    const res = await fetch(`${r.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      checks: { store: { status: 'ok', head: expect.any(String) }, broker: { status: 'ok' } },
    });
  });
});

/** A host like a distributed-mode process (core, the Kafka bus, identity, the guard), without the services. */
const kafkaHost = (store: EventStore, bus: MessageBus, withIdentity: boolean): DynamicModule => {
  @Module({})
  class ObservedHost {}
  return {
    module: ObservedHost,
    imports: [
      CoreModule.forRoot({ config: buildConfig({}), store, clock: new SimulatedClock(T0) }),
      MessagingModule.forBus(bus),
      ...(withIdentity ? [IdentityModule] : []),
    ],
    providers: withIdentity ? [{ provide: APP_GUARD, useClass: AuthGuard }] : [],
  };
};

const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });

describe('observability over a real Kafka broker', () => {
  const dir = tempDir('cx-obs-kafka-');
  const run = `${process.pid}-${Date.now()}`;
  const topic = `cx.test.identity.obs-${run}`;
  let bus: KafkaBus;
  let store: EventStore;
  let app: NestFastifyApplication;
  let url: string;
  let relay: Relay;

  beforeAll(async () => {
    bus = new KafkaBus({ brokers: await kafkaBrokers(), clientId: `obs-${run}`, consumer: { maxWaitTimeMs: 100 } });
    await bus.declareTopics([{ ...identityTopicSpec, name: topic }]);
    store = await openEventStore(`sqlite:${join(dir.path, 'cx.sqlite')}`);
    app = await NestFactory.create<NestFastifyApplication>(kafkaHost(store, bus, true), new FastifyAdapter(), {
      logger: false,
    });
    await configureHttpApp(app);
    await app.get(IdentityService).ready();
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    // The distributed hosts' relay, on this host's (correlating, metered) store.
    relay = new Relay({
      name: `obs-${run}`,
      store: app.get<EventStore>(EVENT_STORE),
      bus,
      routes: [identityRelayRouteTo(topic)],
    });
    await relay.start();
  });
  afterAll(async () => {
    await relay?.stop();
    await app?.close();
    await bus?.close();
    dir.remove();
  });

  it('carries the request’s correlation id into the Kafka header, the consumer’s appends and its log lines', async () => {
    const admin = (await app.get(IdentityService).ensureAdminKey()) as string;
    const { lines, logger } = memoryLog();
    const appended = app.get<EventStore>(EVENT_STORE);
    const heard: DeliveredMessage[] = [];
    const group = `obs-consumer-${run}`;
    const consumer = await bus.subscribe({
      group,
      topics: [topic],
      handler: async (m) => {
        heard.push(m);
        logger.info({ offset: m.offset }, 'heard over kafka');
        // No metadata given: the store stamps the message's correlation and its event as the cause.
        await appended.appendToStream(`obs-effect-${m.offset}`, [
          { type: 'ObservedEffect', data: { offset: m.offset } },
        ]);
      },
    });
    try {
      const res = await post(
        url,
        '/v1/accounts',
        admin,
        { accountId: 'kafka-1', legalName: 'K', kind: 'buyer' },
        'obs-kafka-1',
      );
      expect(res.status).toBe(201);
      expect(res.headers.get('x-correlation-id')).toBe('obs-kafka-1');
      const message = await waitFor(
        () => heard.find((m) => relaySourceOf(m.headers)?.correlationId === 'obs-kafka-1'),
        { timeoutMs: 30_000, what: 'the account event over Kafka' },
      );
      const source = relaySourceOf(message.headers);
      expect(source).toMatchObject({ stream: 'account-kafka-1', causationId: 'obs-kafka-1' });

      // Until the handler appended, reading the stream fails (not found) and waitFor tries again.
      const effect = await waitFor(async () => {
        for await (const e of store.readStream(`obs-effect-${message.offset}`)) return e;
        return null;
      });
      expect(effect.metadata).toMatchObject({ correlationId: 'obs-kafka-1', causationId: source?.eventId });
      expect(lines.find((l) => l.offset === message.offset)).toMatchObject({
        correlationId: 'obs-kafka-1',
        causationId: source?.eventId,
      });

      // The group's lag and the relay's, read from the broker and the store: both settle at 0.
      await waitFor(
        async () => {
          const s = await scrape(url);
          const lag = series(s, 'cx_consumer_lag_messages').find((x) => x.labels.group === group);
          const relayLag = series(s, 'cx_relay_lag_events').find((x) => x.labels.relay === `obs-${run}`);
          return lag?.value === 0 && relayLag?.value === 0;
        },
        { timeoutMs: 30_000, what: 'consumer and relay lag of 0 on /metrics' },
      );
    } finally {
      await consumer.close();
    }
  });

  it('reports the consumer group behind while it does not consume', async () => {
    const group = `obs-idle-${run}`;
    // A member whose handler holds the first message until the test lets go: the group has committed nothing, so
    // the broker holds every message of the topic as its lag.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const blocked = await bus.subscribe({ group, topics: [topic], handler: () => gate });
    try {
      const s = await waitFor(
        async () => {
          const all = await scrape(url);
          const lag = series(all, 'cx_consumer_lag_messages').find((x) => x.labels.group === group);
          return lag !== undefined && lag.value > 0 ? lag : null;
        },
        { timeoutMs: 30_000, what: 'the idle group’s lag' },
      );
      expect(s.labels.topic).toBe(topic);
    } finally {
      release();
      await blocked.close();
    }
  });

  it('answers /health 200 with the broker up, and 503 naming the broker when it is unreachable', async () => {
    const up = await fetch(`${url}/health`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({
      status: 'ok',
      checks: { store: { status: 'ok' }, broker: { status: 'ok' } },
    });

    const port = await closedPort();
    const downBus = new KafkaBus({ brokers: [`127.0.0.1:${port}`], clientId: `obs-down-${run}`, logger: quiet });
    const downStore = await openEventStore(`sqlite:${join(dir.path, 'down.sqlite')}`);
    const down = await NestFactory.create<NestFastifyApplication>(
      kafkaHost(downStore, downBus, false),
      new FastifyAdapter(),
      {
        logger: false,
      },
    );
    try {
      await down.listen(0, '127.0.0.1');
      const res = await fetch(`${await down.getUrl()}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        status: 'degraded',
        checks: { store: { status: 'ok' }, broker: { status: 'down', error: expect.any(String) } },
      });
      // Liveness does not depend on the broker: restarting the process would not bring it back.
      expect((await fetch(`${await down.getUrl()}/health/live`)).status).toBe(200);
      // /metrics still answers without the broker: the lag series are simply absent.
      expect((await fetch(`${await down.getUrl()}/metrics`)).status).toBe(200);
    } finally {
      await down.close();
      await downBus.close();
    }
  });
});

const quiet = { warn: () => undefined, error: () => undefined };
