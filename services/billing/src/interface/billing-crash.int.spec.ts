// Proves that billing killed mid-stream and restarted issues the very same statements: the billing service runs as
// an OS process (apps/billing-service, as deployed) on the real Kafka broker and a real SQLite file; it hears
// trades, allocations and delivery readings on its topics, each delivered twice and shuffled; it is SIGKILLed while
// it works through them, restarted on the same store and consumer group, and closes the day. A second, fresh
// billing process fed the same inputs once each, in order and undisturbed, closes the same day: every account's
// statement has the same content hash and the same lines, and the restarted ledger holds nothing twice.
//
// Each run has its own topics (CX_BILLING_TOPIC_PREFIX), consumer groups and identity topic, so nothing else on the
// shared broker reaches these processes. Sizes scale with CX_TEST_SCALE.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ReporterRole, Side } from '@cx/contracts';
import { openEventStore, type EventStore } from '@cx/event-store';
import { bootstrapAdminKey, identityRelayRouteTo, identityTopicSpec, openAccount } from '@cx/identity';
import { type BusLogger, KafkaBus, Relay } from '@cx/messaging';
import { systemClock } from '@cx/shared-kernel';
import { httpCall, kafkaBrokers, scaled, tempDir, waitFor } from '@cx/testing';
import { ALLOCATIONS_TOPIC, TRADES_TOPIC, USAGE_TOPIC } from '../infrastructure/billing-integration';
import { deliveryInputs, envelopeNumbering, type InputMessage } from '../testing/delivery-inputs.fixture';

const ROOT = join(__dirname, '..', '..', '..', '..');
const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
// A day long past: billing runs on the system clock in distributed mode, and a day closes after it ends (grace 0).
const DAY = '2026-03-11';
const BUYERS = 2;
const PROVIDERS = 2;

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
  kill: (signal: NodeJS.Signals) => Promise<void>;
}

/** Starts apps/billing-service from source (the swc compiler `npm run build` uses) and waits until it listens. */
const startBilling = async (env: Record<string, string>): Promise<Proc> => {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/billing-service/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', CX_AUDIT_CHECKPOINT_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const url = await waitFor(
    () => (exited ? 'exited' : /"url":"(http:\/\/[^"]+)".*cx billing listening/.exec(out)?.[1]),
    { timeoutMs: 120_000, intervalMs: 50, what: 'billing to listen' },
  ).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${String(e)}\n${out}`);
  });
  if (url === 'exited') throw new Error(`billing exited before listening:\n${out}`);
  return {
    child,
    url,
    output: () => out,
    kill: async (signal) => {
      if (!exited) child.kill(signal);
      await exit;
    },
  };
};

/** Trades, allocations and readings for `n` allocations between the run's buyers and providers (ids fixed by run). */
const inputs = (run: string, n: number): InputMessage[][] => {
  // One numbering for the run: event ids never repeat across allocations.
  const envelopes = envelopeNumbering((seq) => `${run}-${seq}`);
  return Array.from({ length: n }, (_, i) => {
    const tradeId = `t-${run}-${i}`;
    return deliveryInputs({
      tradeId,
      allocationId: `alloc-${tradeId}`,
      day: DAY,
      buyer: `buy${i % BUYERS}-${run}`,
      provider: `prov${i % PROVIDERS}-${run}`,
      // Prices and quantities vary so that rounding, fees and shortfalls differ line by line.
      price: `${20 + (i % 7)}.${String((i * 37) % 100).padStart(2, '0')}`,
      quantity: String(4 + (i % 5)),
      buyOrderId: `b-${tradeId}`,
      sellOrderId: `s-${tradeId}`,
      aggressorSide: i % 3 === 0 ? Side.ASK : Side.BID,
      sequence: BigInt(i + 1),
      sources: { provider: `//prov-${run}`, buyer: `//buyer-${run}` },
      // Two provider readings (one a repeat of the other's id would be a duplicate; these are distinct), and the
      // buyer's own reading as evidence.
      readings: [
        { role: ReporterRole.PROVIDER, id: `p1-${i}`, seconds: String(3600 + ((i * 1237) % 7200)) },
        { role: ReporterRole.PROVIDER, id: `p2-${i}`, seconds: String((i * 611) % 5400) },
        { role: ReporterRole.BUYER, id: `b1-${i}`, seconds: String(3600 + ((i * 977) % 9000)) },
      ],
      envelopes,
    }).messages;
  });
};

/** A seeded shuffle (mulberry32), so a failure can be replayed with the run's seed. */
const shuffle = <T>(items: readonly T[], seed: number): T[] => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

describe('billing killed mid-stream and restarted', () => {
  const dir = tempDir('cx-billing-crash-');
  const run = randomUUID().slice(0, 8);
  const identityTopic = `cx.test.identity-${run}.v1`;
  const procs: Proc[] = [];
  let bus: KafkaBus;
  let identityStore: EventStore;
  let relay: Relay;
  let brokers: string[];
  let admin: string;

  const accounts = [
    ...Array.from({ length: BUYERS }, (_, i) => `buy${i}-${run}`),
    ...Array.from({ length: PROVIDERS }, (_, i) => `prov${i}-${run}`),
  ];

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    bus = new KafkaBus({ brokers, clientId: `billing-crash-${run}`, logger: quiet });
    await bus.declareTopics([{ ...identityTopicSpec, name: identityTopic }]);
    // Identity as the gateway keeps it: its own store, relayed to the run's identity topic, which the billing
    // processes read their accounts, credit lines and keys from.
    identityStore = await openEventStore(`sqlite:${join(dir.path, 'identity.sqlite')}`);
    const deps = { store: identityStore, clock: systemClock };
    const meta = { correlationId: run, causationId: run, actor: { service: 'test' } };
    for (const accountId of accounts) {
      const kind = accountId.startsWith('buy') ? 'buyer' : 'provider';
      await openAccount(deps, { accountId, legalName: accountId, kind, creditLine: '1000000.00' }, meta);
    }
    admin = (await bootstrapAdminKey(deps, meta))?.key ?? '';
    expect(admin).toMatch(/^cx_/);
    relay = new Relay({
      name: `identity-${run}`,
      store: identityStore,
      bus,
      routes: [identityRelayRouteTo(identityTopic)],
    });
    await relay.start();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await relay?.stop();
    await bus?.close();
    await identityStore?.close();
    dir.remove();
  });

  const envFor = (name: string) => {
    mkdirSync(join(dir.path, name), { recursive: true });
    return {
      KAFKA_BROKERS: brokers.join(','),
      CX_IDENTITY_TOPIC: identityTopic,
      CX_STORE: `sqlite:${join(dir.path, name, 'store.sqlite')}`,
      CX_BILLING_PERIOD_GRACE_MS: '0',
      CX_BILLING_MAKER_FEE_BPS: '10',
      CX_BILLING_TAKER_FEE_BPS: '25',
      CX_BILLING_TOPIC_PREFIX: `t-${run}-${name}.`,
      CX_BILLING_CONSUMER_GROUP: `billing-${run}-${name}`,
    };
  };

  const publish = async (prefix: string, messages: readonly InputMessage[]) => {
    for (const m of messages) await bus.publish(`${prefix}${m.topic}`, [m.message]);
  };

  /** Until the group has committed every message of its three input topics: all of them handled, effects stored. */
  const drained = async (p: Proc, prefix: string, group: string) => {
    const admin = new Kafka({ clientId: `billing-crash-admin-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const topics = [TRADES_TOPIC, ALLOCATIONS_TOPIC, USAGE_TOPIC].map((t) => `${prefix}${t}`);
      await waitFor(
        async () => {
          for (const topic of topics) {
            const ends = await admin.fetchTopicOffsets(topic);
            const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
            for (const e of ends) {
              // -1: nothing committed yet, which is drained only for a partition that never had a message.
              const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
              if (BigInt(c) < BigInt(e.high) && !(c === '-1' && e.high === '0')) return false;
            }
          }
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 200, what: `${group} to handle every input` },
      );
    } catch (e) {
      throw new Error(`${String(e)}\n${p.output().slice(-4000)}`);
    } finally {
      await admin.disconnect();
    }
  };

  const statements = async (p: Proc) => {
    const out: Record<string, { contentHash: string; lines: unknown[]; closingBalance: string }> = {};
    for (const a of accounts) {
      const res = await httpCall(p.url, 'GET', `/v1/statements/${a}/${DAY}`, admin);
      expect({ a, status: res.status }).toEqual({ a, status: 200 });
      out[a] = { contentHash: res.body.contentHash, lines: res.body.lines, closingBalance: res.body.closingBalance };
    }
    return out;
  };

  it('issues statements with the same content hashes as an undisturbed run', async () => {
    const n = scaled(60, 6);
    const groups = inputs(run, n);
    const once = groups.flat();
    // The crashed run: every input twice, shuffled (usage before its allocation, allocations before trades).
    const seed = Number.parseInt(run.slice(0, 6), 16);
    const twice = shuffle([...once, ...once], seed);
    const a = envFor('a');
    const b = envFor('b');

    let billingA = await startBilling(a);
    procs.push(billingA);
    // Wait for identity to reach it, so that holds are placed against the credit lines it read.
    await waitFor(async () => (await httpCall(billingA.url, 'GET', '/v1/me', admin)).status === 200, {
      timeoutMs: 60_000,
      what: 'the admin key to reach billing',
    });
    const half = Math.floor(twice.length / 2);
    await publish(a.CX_BILLING_TOPIC_PREFIX, twice.slice(0, half));
    // Killed once it has begun (some of the first half is handled) and while the second half arrives.
    await waitFor(
      async () => {
        const held = await httpCall(billingA.url, 'GET', `/v1/ledger/accounts/${accounts[0]}`, admin);
        return held.status === 200 && held.body.balances.held.pending !== '0.00';
      },
      { timeoutMs: 60_000, what: 'billing to place its first holds' },
    );
    await publish(a.CX_BILLING_TOPIC_PREFIX, twice.slice(half));
    await billingA.kill('SIGKILL');
    expect(billingA.child.signalCode).toBe('SIGKILL');

    // Restarted on the same store and group: it resumes after what it committed and redoes the rest idempotently.
    billingA = await startBilling(a);
    procs.push(billingA);
    await drained(billingA, a.CX_BILLING_TOPIC_PREFIX, a.CX_BILLING_CONSUMER_GROUP);
    const closedA = await httpCall(billingA.url, 'POST', `/v1/periods/${DAY}/close`, admin);
    expect(closedA.status).toBe(201);
    expect(closedA.body.settlements).toBe(n);

    // The undisturbed run: a fresh process and store, each input once, in order.
    const billingB = await startBilling(b);
    procs.push(billingB);
    await waitFor(async () => (await httpCall(billingB.url, 'GET', '/v1/me', admin)).status === 200, {
      timeoutMs: 60_000,
      what: 'the admin key to reach the second billing',
    });
    await publish(b.CX_BILLING_TOPIC_PREFIX, once);
    await drained(billingB, b.CX_BILLING_TOPIC_PREFIX, b.CX_BILLING_CONSUMER_GROUP);
    const closedB = await httpCall(billingB.url, 'POST', `/v1/periods/${DAY}/close`, admin);
    expect(closedB.status).toBe(201);

    const [sa, sb] = [await statements(billingA), await statements(billingB)];
    expect(sa).toEqual(sb);
    const buyerLines = sa[accounts[0] as string]?.lines ?? [];
    expect(buyerLines.length).toBe(Math.ceil(n / BUYERS));
    // Every hold was placed once and posted or released at the close: nothing is left held twice.
    for (const acct of accounts) {
      const [la, lb] = await Promise.all(
        [billingA, billingB].map(
          async (p) => (await httpCall(p.url, 'GET', `/v1/ledger/accounts/${acct}`, admin)).body,
        ),
      );
      expect(la.balances).toEqual(lb.balances);
      expect(la.balances.held.pending).toBe('0.00');
    }
  }, 600_000);
});
