// Proves the webhooks module in distributed mode: the gateway process serves /v1/webhooks, /v1/alert-rules and
// /v1/alerts/mine itself (while /v1/alerts still goes to pricing-guidance), hears a trade published on the real
// Kafka trades topic, and delivers it, signed, to the buyer's endpoint only. No other service runs: the trade is
// published by the test exactly as matching's relay would publish it.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { httpCall, kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { type Proc, startProcess } from '../../gateway/src/testing/cluster';
import { webhooksGatewayEnv } from '../../../services/webhooks/src/testing/gateway-env.fixture';
import { TRADES_TOPIC, tradeExecutedRecord } from '../../../services/webhooks/src/testing/kafka-inputs.fixture';
import { WebhookReceiver } from '../../../services/webhooks/src/testing/webhook-receiver.fixture';

describe('webhooks at the gateway, over Kafka', () => {
  const dir = tempDir('cx-webhooks-gw-');
  const run = randomUUID().slice(0, 8);
  const receiver = new WebhookReceiver();
  let gateway: Proc;
  let brokers: string[];
  let admin: string;
  const gw = (...args: Parameters<typeof httpCall> extends [string, ...infer R] ? R : never) =>
    httpCall(gateway.url, ...args);

  beforeAll(async () => {
    await receiver.start();
    brokers = await kafkaBrokers();
    mkdirSync(join(dir.path, 'gateway'), { recursive: true });
    // Upstreams that answer nothing: a proxied route shows up as 502, a route the gateway serves does not.
    gateway = await startProcess(
      'gateway',
      webhooksGatewayEnv(
        { brokers, run, storeFile: join(dir.path, 'gateway', 'store.sqlite') },
        { CX_WEBHOOKS_ALLOW_PRIVATE: 'true', CX_WEBHOOKS_ALLOW_HTTP: 'true' },
      ),
    );
    admin = /Admin API key: (\S+)/.exec(gateway.output())?.[1] ?? '';
    expect(admin).toMatch(/^cx_/);
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop('SIGTERM');
    await receiver.stop();
    dir.remove();
  });

  it('registers at the gateway and delivers a trade heard on Kafka, signed, to the buyer’s endpoint', async () => {
    const buyerAcct = `buy-${run}`;
    const sellerAcct = `sell-${run}`;
    for (const [accountId, kind] of [
      [buyerAcct, 'buyer'],
      [sellerAcct, 'provider'],
    ]) {
      expect((await gw('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status).toBe(201);
    }
    const buyer = (await gw('POST', '/v1/keys', admin, { role: 'trader', accounts: [buyerAcct] })).body.key as string;
    const regulator = (await gw('POST', '/v1/keys', admin, { role: 'regulator', accounts: [] })).body.key as string;
    const created = await gw('POST', '/v1/webhooks', buyer, {
      url: receiver.url('/gw'),
      eventTypes: ['trade.executed'],
    });
    expect(created.status).toBe(201);
    receiver.trust('/gw', created.body.secret);
    expect(
      (
        await gw('POST', '/v1/alert-rules', buyer, {
          accountId: buyerAcct,
          kind: 'spend',
          period: 'day',
          threshold: '1',
          currency: 'CNY',
        })
      ).status,
    ).toBe(201);
    expect((await gw('GET', '/v1/alerts/mine', buyer)).status).toBe(200);
    // pricing-guidance's surveillance list is still forwarded (and its upstream is down here).
    expect((await gw('GET', '/v1/alerts', regulator)).status).toBe(502);

    const eventId = randomUUID();
    const tradeId = `t-${run}`;
    const record = tradeExecutedRecord({
      eventId,
      tradeId,
      buyOrderId: 'o-b',
      sellOrderId: 'o-s',
      buyerAccountId: buyerAcct,
      sellerAccountId: sellerAcct,
      sequence: 1n,
      at: new Date(),
    });
    const producer = new Kafka({ clientId: `cx-test-${run}`, brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await producer.send({ topic: TRADES_TOPIC, acks: -1, messages: [record] });
    } finally {
      await producer.disconnect();
    }
    const got = await waitFor(() => receiver.acknowledged('/gw').find((x) => x.eventId === eventId), {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: 'the trade at the buyer’s endpoint',
    });
    expect(got).toMatchObject({
      type: 'trade.executed',
      signature: 'ok',
      body: { id: eventId, data: { tradeId, accountId: buyerAcct, side: 'buy', liquidity: 'taker' } },
    });
    const listed = await waitFor(async () => {
      const items = (await gw('GET', `/v1/webhooks/${created.body.webhookId}/deliveries`, buyer)).body.items as {
        status: string;
      }[];
      return items.length === 1 && items[0]?.status === 'succeeded' ? items : null;
    });
    expect(listed).toHaveLength(1);
    expect(receiver.received.filter((x) => x.eventId === eventId)).toHaveLength(1);
  }, 180_000);
});
