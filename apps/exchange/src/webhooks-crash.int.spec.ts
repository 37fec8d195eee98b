// Proves that a delivery worker killed (SIGKILL) mid-delivery loses nothing: the gateway process (hosting webhooks,
// consuming Kafka) is sending trades to a real receiver on loopback that holds one request open without answering
// when the process is killed; started again on the same store, it delivers every event at least once, and any
// repeat carries the same delivery id and event id, so the receiver's dedupe holds.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { httpCall, kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { type Proc, startProcess } from '../../gateway/src/testing/cluster';
import { webhooksGatewayEnv } from '../../../services/webhooks/src/testing/gateway-env.fixture';
import { TRADES_TOPIC, tradeExecutedRecord } from '../../../services/webhooks/src/testing/kafka-inputs.fixture';
import { WebhookReceiver } from '../../../services/webhooks/src/testing/webhook-receiver.fixture';

const WAIT = { timeoutMs: 120_000, intervalMs: 100 };
const TRADES = 3;

describe('webhooks delivery across a SIGKILL of the gateway mid-delivery', () => {
  const dir = tempDir('cx-webhooks-crash-');
  const run = randomUUID().slice(0, 8);
  const receiver = new WebhookReceiver();
  let gateway: Proc | null = null;
  let brokers: string[];
  let env: Record<string, string>;
  const gw = (...args: Parameters<typeof httpCall> extends [string, ...infer R] ? R : never) =>
    httpCall((gateway as Proc).url, ...args);

  beforeAll(async () => {
    await receiver.start();
    brokers = await kafkaBrokers();
    mkdirSync(join(dir.path, 'gateway'), { recursive: true });
    env = webhooksGatewayEnv(
      { brokers, run, storeFile: join(dir.path, 'gateway', 'store.sqlite') },
      {
        CX_WEBHOOKS_ALLOW_PRIVATE: 'true',
        CX_WEBHOOKS_ALLOW_HTTP: 'true',
        // The held request must still be open when the process is killed: the attempt's own timeout is far off.
        CX_WEBHOOKS_TIMEOUT_MS: '600000',
      },
    );
    gateway = await startProcess('gateway', env);
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop('SIGTERM');
    await receiver.stop();
    dir.remove();
  });

  it('delivers every event at least once after the kill, a repeat with the same delivery and event ids', async () => {
    const admin = /Admin API key: (\S+)/.exec((gateway as Proc).output())?.[1] ?? '';
    expect(admin).toMatch(/^cx_/);
    const buyerAcct = `buy-${run}`;
    const sellerAcct = `sell-${run}`;
    for (const [accountId, kind] of [
      [buyerAcct, 'buyer'],
      [sellerAcct, 'provider'],
    ]) {
      expect((await gw('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status).toBe(201);
    }
    const buyer = (await gw('POST', '/v1/keys', admin, { role: 'trader', accounts: [buyerAcct] })).body.key as string;
    const created = await gw('POST', '/v1/webhooks', buyer, {
      url: receiver.url('/crash'),
      eventTypes: ['trade.executed'],
    });
    expect(created.status).toBe(201);
    const webhookId = created.body.webhookId as string;
    receiver.trust('/crash', created.body.secret as string);
    // The first request is held open: the worker is mid-delivery when it dies.
    receiver.hold('/crash', 1);

    const eventIds: string[] = Array.from({ length: TRADES }, () => randomUUID());
    const producer = new Kafka({ clientId: `cx-test-${run}`, brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      const now = new Date();
      const messages = eventIds.map((eventId, n) =>
        tradeExecutedRecord({
          eventId,
          tradeId: `t-${run}-${n}`,
          buyOrderId: `o-b-${n}`,
          sellOrderId: `o-s-${n}`,
          buyerAccountId: buyerAcct,
          sellerAccountId: sellerAcct,
          sequence: BigInt(n + 1),
          at: now,
        }),
      );
      await producer.send({ topic: TRADES_TOPIC, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
    const ours = () => receiver.received.filter((x) => x.path === '/crash' && eventIds.includes(x.eventId));
    const held = await waitFor(() => receiver.heldOpen('/crash')[0], { ...WAIT, what: 'a request held open' });

    expect(await (gateway as Proc).stop('SIGKILL')).toBeNull();
    const beforeRestart = ours().length;
    gateway = await startProcess('gateway', env);

    await waitFor(() => eventIds.every((id) => receiver.acknowledged('/crash').some((x) => x.eventId === id)), {
      ...WAIT,
      what: 'every trade acknowledged after the restart',
    });
    // The held delivery was sent again after the restart, as the same delivery of the same event.
    expect(ours().length).toBeGreaterThan(beforeRestart);
    const resent = ours().filter((x) => x.eventId === held.eventId);
    expect(resent.length).toBeGreaterThanOrEqual(2);
    expect(resent.at(-1)).toMatchObject({ status: 200, signature: 'ok', deliveryId: held.deliveryId });
    // Every request for an event, before or after the kill, carries one delivery id and the event's id in its body.
    for (const id of eventIds) {
      const requests = ours().filter((x) => x.eventId === id);
      expect(new Set(requests.map((x) => x.deliveryId)).size).toBe(1);
      expect(requests.every((x) => x.body.id === id && x.signature === 'ok')).toBe(true);
    }
    const listed = await waitFor(
      async () => {
        const items = (await gw('GET', `/v1/webhooks/${webhookId}/deliveries`, buyer)).body.items as {
          deliveryId: string;
          eventId: string;
          status: string;
          attempts: { succeeded: boolean }[];
        }[];
        return items.length === TRADES && items.every((d) => d.status === 'succeeded') ? items : null;
      },
      { ...WAIT, what: 'every delivery recorded as succeeded' },
    );
    expect(new Set(listed.map((d) => d.eventId))).toEqual(new Set(eventIds));
    expect(listed.find((d) => d.eventId === held.eventId)?.deliveryId).toBe(held.deliveryId);
  }, 300_000);
});
