// Proves that participants' alert rules judge against state heard before a gateway restart in distributed mode:
// the gateway (hosting webhooks, consuming Kafka in its fixed group) hears a settlement, is stopped and started
// again on the same store, hears a second one, and the spend rule whose threshold only the two together reach
// fires, with the sum of both. Before the restart the consumers' committed offsets are past the first settlement,
// so only the evaluator's recorded inputs can bring it back.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { httpCall, kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { type Proc, startProcess } from '../../gateway/src/testing/cluster';
import { webhooksGatewayEnv } from '../../../services/webhooks/src/testing/gateway-env.fixture';
import { SETTLEMENTS_TOPIC, settlementPostedRecord } from '../../../services/webhooks/src/testing/kafka-inputs.fixture';

const WAIT = { timeoutMs: 120_000, intervalMs: 100 };

interface Alert {
  ruleId: string | null;
  value: string | null;
  line: string | null;
}

describe('webhooks alert state across a gateway restart, over Kafka', () => {
  const dir = tempDir('cx-webhooks-gw-restart-');
  const run = randomUUID().slice(0, 8);
  let gateway: Proc | null = null;
  let brokers: string[];
  let env: Record<string, string>;
  const gw = (...args: Parameters<typeof httpCall> extends [string, ...infer R] ? R : never) =>
    httpCall((gateway as Proc).url, ...args);

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    mkdirSync(join(dir.path, 'gateway'), { recursive: true });
    env = webhooksGatewayEnv({ brokers, run, storeFile: join(dir.path, 'gateway', 'store.sqlite') });
    gateway = await startProcess('gateway', env);
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop('SIGTERM');
    dir.remove();
  });

  it('sums spend heard before and after the restart', async () => {
    const admin = /Admin API key: (\S+)/.exec((gateway as Proc).output())?.[1] ?? '';
    expect(admin).toMatch(/^cx_/);
    const acct = `buy-${run}`;
    expect((await gw('POST', '/v1/accounts', admin, { accountId: acct, legalName: acct, kind: 'buyer' })).status).toBe(
      201,
    );
    const buyer = (await gw('POST', '/v1/keys', admin, { role: 'trader', accounts: [acct] })).body.key as string;
    const rule = async (threshold: string) => {
      const res = await gw('POST', '/v1/alert-rules', buyer, {
        accountId: acct,
        kind: 'spend',
        period: 'day',
        threshold,
        currency: 'CNY',
      });
      expect(res.status).toBe(201);
      return res.body.ruleId as string;
    };
    const low = await rule('50');
    const high = await rule('100');
    const alerts = async () => (await gw('GET', '/v1/alerts/mine', buyer)).body.items as Alert[];

    const producer = new Kafka({ clientId: `cx-test-${run}`, brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const settle = async (n: number) => {
      const record = settlementPostedRecord({
        eventId: randomUUID(),
        settlementId: `s-${run}-${n}`,
        allocationId: `alloc-${run}-${n}`,
        buyerAccountId: acct,
        providerAccountId: `prov-${run}`,
        amount: '60.00',
        at: new Date(),
      });
      await producer.send({ topic: SETTLEMENTS_TOPIC, acks: -1, messages: [record] });
    };
    try {
      // 60 fires the 50 rule (which shows the settlement was heard) and not yet the 100 one.
      await settle(1);
      await waitFor(async () => (await alerts()).some((a) => a.ruleId === low), { ...WAIT, what: 'the 50 alert' });
      expect((await alerts()).filter((a) => a.ruleId === high)).toEqual([]);

      expect(await (gateway as Proc).stop('SIGTERM')).toBe(0);
      gateway = await startProcess('gateway', env);

      // Another 60 after the restart: 120 in the day reaches 100 only if the first 60 is still known.
      await settle(2);
      const fired = await waitFor(async () => (await alerts()).find((a) => a.ruleId === high), {
        ...WAIT,
        what: 'the 100 alert',
      });
      expect(fired).toMatchObject({ value: '120', line: '100' });
      // The 50 rule stays fired once: hearing its input again at start judged nothing twice.
      expect((await alerts()).filter((a) => a.ruleId === low)).toHaveLength(1);
    } finally {
      await producer.disconnect();
    }
  }, 300_000);
});
