// Proves billing over the real Kafka broker: a trade, its allocation and delivery readings heard on Kafka (each
// delivered twice and out of order) place one hold, settle once at the close, and give a statement that reconciles
// with the ledger in JSON and CSV; after a restart on the same store the statements have identical content hashes,
// and a second store fed the same inputs in another order issues the very same statement.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { parse } from 'csv-parse/sync';
import { ReporterRole, Side } from '@cx/contracts';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService, openAccount } from '@cx/identity';
import { type BusLogger, KafkaBus, MessagingModule } from '@cx/messaging';
import { configureHttpApp } from '@cx/platform';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, kafkaBrokers, tempDir, testHost, waitFor } from '@cx/testing';
import { BillingFactsService } from '../application/billing-facts.service';
import { BillingModule } from '../billing.module';
import { billingConsumedTopics, billingTopicSpecs } from '../infrastructure/billing-integration';
import { deliveryInputs, envelopeNumbering, type InputMessage } from '../testing/delivery-inputs.fixture';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const DAY = '2026-03-11';

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  bus: KafkaBus;
  url: string;
  admin: string;
}

const start = async (file: string, clock: SimulatedClock, admin?: string): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  const bus = new KafkaBus({ brokers: await kafkaBrokers(), clientId: `billing-test-${randomUUID()}`, logger: quiet });
  await bus.declareTopics([...billingConsumedTopics.map((name) => ({ name, partitions: 3 })), ...billingTopicSpecs]);
  const app = await NestFactory.create<NestFastifyApplication>(
    testHost(store, clock, [
      IdentityModule,
      MessagingModule.forBus(bus),
      BillingModule.forRoot({ periodGraceMs: 0, makerFeeBps: 10, takerFeeBps: 20 }),
    ]),
    new FastifyAdapter(),
    { logger: false },
  );
  await configureHttpApp(app);
  const key = admin ?? ((await app.get(IdentityService).ensureAdminKey()) as string);
  await app.listen(0, '127.0.0.1');
  return { app, store, bus, url: await app.getUrl(), admin: key };
};

const stop = async (r: Running) => {
  await r.app.close();
  await r.bus.close();
  await r.store.close();
};

/** The three inputs of one allocation, as matching and metering publish them (ids unique to this run). */
const inputs = (run: string) =>
  deliveryInputs({
    tradeId: `t-${run}`,
    allocationId: `alloc-t-${run}`,
    day: DAY,
    buyer: `buy-${run}`,
    provider: `prov-${run}`,
    price: '25.50',
    quantity: '10',
    buyOrderId: `b-${run}`,
    sellOrderId: `s-${run}`,
    aggressorSide: Side.BID,
    sequence: 1n,
    readings: [
      { role: ReporterRole.PROVIDER, id: 'u1', seconds: '14400' },
      { role: ReporterRole.PROVIDER, id: 'u2', seconds: '14400' },
      { role: ReporterRole.BUYER, id: 'u3', seconds: '27000' },
    ],
    envelopes: envelopeNumbering((seq) => `${run}-${seq}`),
  });

describe('billing over the real Kafka broker', () => {
  const dir = tempDir('cx-billing-kafka-');
  let r: Running;
  let clock: SimulatedClock;

  // A failed test must not leave its consumer in the group, where it would take the next test's partitions.
  afterEach(async () => {
    if (r !== undefined) await stop(r).catch(() => undefined);
  });
  afterAll(() => dir.remove());

  /** Opens the run's accounts, funds the buyer, feeds the messages and closes the day; returns the statements. */
  const settle = async (run: string, file: string, order: (m: InputMessage[]) => InputMessage[]) => {
    // Each store its own day: the deposit is booked on the delivery day, the close comes after it.
    clock = new SimulatedClock(new Date(`${DAY}T00:00:00Z`));
    r = await start(file, clock);
    const meta = { correlationId: run, causationId: run, actor: { service: 'test' } };
    for (const [accountId, kind] of [
      [`prov-${run}`, 'provider'],
      [`buy-${run}`, 'buyer'],
    ] as const) {
      await openAccount({ store: r.store, clock }, { accountId, legalName: accountId, kind }, meta);
    }
    await r.app.get(IdentityService).ready();
    const dep = { transferId: `dep-${run}`, account: `buy-${run}`, amount: '1000.00', currency: 'CNY' };
    expect((await httpCall(r.url, 'POST', '/v1/ledger/deposits', r.admin, dep)).status).toBe(201);
    const { allocationId, messages } = inputs(run);
    // Every input twice, in the order the test asks for: at-least-once delivery across three topics.
    for (const m of [...order(messages), ...order(messages)]) await r.bus.publish(m.topic, [m.message]);
    const facts = r.app.get(BillingFactsService).facts;
    // Each topic is its own consumer: wait until billing has heard all three kinds (terms, readings, the trade).
    await waitFor(
      () => {
        const state = facts.allocations.get(allocationId)?.state;
        return state?.terms != null && state.readings.size === 3 && facts.trades.has(`t-${run}`);
      },
      { timeoutMs: 60_000, what: 'billing to hear the allocation, its readings and the trade' },
    );
    await waitFor(async () => {
      const held = (await httpCall(r.url, 'GET', `/v1/ledger/accounts/buy-${run}`, r.admin)).body;
      return held.balances.held.pending === '255.00';
    });
    clock.set(new Date(Date.parse(`${DAY}T00:00:00Z`) + 86_400_001));
    const closed = await httpCall(r.url, 'POST', `/v1/periods/${DAY}/close`, r.admin);
    expect(closed.status).toBe(201);
    return { allocationId, closed: closed.body };
  };

  it('settles once whatever the duplicates and the order, reconciling with the ledger in JSON and CSV', async () => {
    const run = randomUUID().slice(0, 8);
    const file = join(dir.path, 'a.sqlite');
    await settle(run, file, (m) => m);
    const s = (await httpCall(r.url, 'GET', `/v1/statements/buy-${run}/${DAY}`, r.admin)).body;
    // 8 h × 25.50 = 204.00; the buyer took liquidity: 20 bps.
    expect(s.lines).toEqual([
      expect.objectContaining({ kind: 'settlement', amount: '-204.00', fee: '-0.41' }),
      expect.objectContaining({ kind: 'deposit', amount: '1000.00' }),
    ]);
    expect([s.openingBalance, s.closingBalance]).toEqual(['0.00', '795.59']);
    const ledger = (await httpCall(r.url, 'GET', `/v1/ledger/accounts/buy-${run}`, r.admin)).body;
    expect(ledger.balances.cash.posted).toBe(s.closingBalance);
    const csv = await fetch(`${r.url}/v1/statements/buy-${run}/${DAY}?format=csv`, {
      headers: { authorization: `Bearer ${r.admin}` },
    });
    const rows = parse(await csv.text(), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((x) => x.amount)).toEqual(['0.00', '-204.00', '1000.00', '795.59']);

    // Restarted on the same store: the same statements, and the close is not done twice.
    const hashes = () =>
      Promise.all(
        ['buy', 'prov'].map(
          async (who) =>
            (await httpCall(r.url, 'GET', `/v1/statements/${who}-${run}/${DAY}`, r.admin)).body.contentHash,
        ),
      );
    const before = await hashes();
    await stop(r);
    r = await start(file, clock, r.admin);
    expect(await hashes()).toEqual(before);
    expect((await httpCall(r.url, 'POST', `/v1/periods/${DAY}/close`, r.admin)).body.code).toBe(
      'BILLING.PERIOD_ALREADY_CLOSED',
    );
  });

  it('issues the same statement for the same inputs in another order', async () => {
    const run = randomUUID().slice(0, 8);
    // Content hashes cover business content, so both stores are fed the same ids.
    await settle(run, join(dir.path, 'b1.sqlite'), (m) => m);
    const first = (await httpCall(r.url, 'GET', `/v1/statements/buy-${run}/${DAY}`, r.admin)).body.contentHash;
    await stop(r);
    // Reversed: usage before its allocation, the allocation before its trade. The consumer group resumes after
    // what it committed, so the second store hears only the second feed.
    await settle(run, join(dir.path, 'b2.sqlite'), (m) => [...m].reverse());
    const second = (await httpCall(r.url, 'GET', `/v1/statements/buy-${run}/${DAY}`, r.admin)).body.contentHash;
    expect(second).toBe(first);
  });
});
